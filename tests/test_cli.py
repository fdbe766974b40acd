"""The README's command lines work as written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from contact_center.cli import app


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CC_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CC_DATABASE_URL", raising=False)
    return CliRunner()


def test_readme_commands(cli: CliRunner) -> None:
    assert cli.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = cli.invoke(
        app, ["queues", "add", "sales", "--name", "Sales", "--strategy", "longest_idle", "--sl-target", "20"]
    )
    assert result.exit_code == 0, result.output
    result = cli.invoke(
        app,
        ["queues", "add", "support", "--skills", "returns", "--max-wait", "300", "--overflow-to", "sales"],
    )
    assert result.exit_code == 0, result.output
    result = cli.invoke(
        app,
        ["agents", "add", "alice", "--role", "agent", "--skills", "returns:8,billing:4"],
        input="alice-password\nalice-password\n",
    )
    assert result.exit_code == 0, result.output
    result = cli.invoke(
        app, ["agents", "add", "sam", "--role", "supervisor", "--password-stdin"], input="sam-password\n"
    )
    assert result.exit_code == 0, result.output

    queues = [json.loads(line) for line in cli.invoke(app, ["queues", "list"]).output.splitlines()]
    by_id = {q["id"]: q for q in queues}
    assert by_id["support"]["max_wait_s"] == 300 and by_id["support"]["overflow_to"] == "sales"
    assert by_id["support"]["skills"] == ["returns"] and by_id["sales"]["sl_target_s"] == 20
    agents = {
        a["username"]: a for a in map(json.loads, cli.invoke(app, ["agents", "list"]).output.splitlines())
    }
    assert agents["alice"]["skills"] == {"returns": 8, "billing": 4}
    assert agents["sam"]["role"] == "supervisor"
    assert "password" not in json.dumps(agents)


def test_bad_input_is_refused_clearly(cli: CliRunner) -> None:
    result = cli.invoke(app, ["agents", "add", "bob", "--password-stdin"], input="short\n")
    assert result.exit_code != 0 and "8 characters" in result.output
    result = cli.invoke(
        app, ["agents", "add", "bob", "--role", "king", "--password-stdin"], input="long-enough\n"
    )
    assert result.exit_code != 0 and "role" in result.output
    result = cli.invoke(app, ["queues", "add", "x", "--strategy", "random"])
    assert result.exit_code != 0 and "invalid queue" in result.output
    assert cli.invoke(app, ["queues", "add", "dup"]).exit_code == 0
    result = cli.invoke(app, ["queues", "add", "dup"])
    assert result.exit_code != 0 and "exists" in result.output


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command's path (typer carries its own click: groups are what have
    ``commands``)."""
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_every_command_takes_a_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any command works on a server's folder from anywhere (found by a client written
    from the documents: the CLI only worked from the server's own folder)."""
    import typer

    monkeypatch.delenv("CC_DATA_DIR", raising=False)
    monkeypatch.delenv("CC_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    commands = _commands(typer.main.get_command(app))
    assert ("serve",) in commands and ("agents", "add") in commands and len(commands) > 10
    for command in commands:
        result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (command, result.output)
        assert "--data-dir" in result.output and "CC_DATA_DIR" in result.output, command
        assert "default: var" in result.output, command
    elsewhere = tmp_path / "server-folder"
    assert runner.invoke(app, ["queues", "add", "sales", "--data-dir", str(elsewhere)]).exit_code == 0
    assert (elsewhere / "contact-center.db").exists() and not (tmp_path / "var").exists()
    listed = runner.invoke(app, ["queues", "list"], env={"CC_DATA_DIR": str(elsewhere)})
    assert "sales" in listed.output, listed.output


def test_shared_saved_replies_from_the_command_line(cli: CliRunner) -> None:
    assert cli.invoke(app, ["queues", "add", "sales"]).exit_code == 0
    body = "Hi {{visitor.name}}, refunds take 5 days."
    added = cli.invoke(app, ["replies", "add", "refund", "--title", "Refund policy", "--body", body])
    assert added.exit_code == 0 and "added /refund" in added.output, added.output
    added = cli.invoke(
        app,
        [
            "replies",
            "add",
            "sizes",
            "--title",
            "Size guide",
            "--body",
            "M fits 170-180 cm",
            "--queue",
            "sales",
        ],
    )
    assert added.exit_code == 0, added.output
    # Unique within its scope; a queue that exists; a shortcut of the allowed form.
    again = cli.invoke(app, ["replies", "add", "refund", "--title", "x", "--body", "y"])
    assert again.exit_code != 0 and "exists" in again.output
    elsewhere = cli.invoke(
        app, ["replies", "add", "refund", "--title", "x", "--body", "y", "--queue", "nowhere"]
    )
    assert elsewhere.exit_code != 0 and "no queue" in elsewhere.output
    bad = cli.invoke(app, ["replies", "add", "Refund!", "--title", "x", "--body", "y"])
    assert bad.exit_code != 0 and "invalid saved reply" in bad.output
    blank = cli.invoke(app, ["replies", "add", "blank", "--title", "x", "--body", "   "])
    assert blank.exit_code != 0 and "invalid saved reply" in blank.output

    def listed(*options: str) -> list[tuple[str, str, str | None]]:
        result = cli.invoke(app, ["replies", "list", *options])
        assert result.exit_code == 0, result.output
        return [
            (r["scope"], r["shortcut"], r["queue_id"]) for r in map(json.loads, result.output.splitlines())
        ]

    assert listed() == [("queue", "sizes", "sales"), ("global", "refund", None)]
    assert listed("--search", "REFUNDS") == [("global", "refund", None)]
    (first,) = [
        json.loads(line)
        for line in cli.invoke(app, ["replies", "list", "--search", "refund"]).output.splitlines()
    ]
    assert first["body"] == body and first["title"] == "Refund policy"

    missing = cli.invoke(app, ["replies", "remove", "sizes"])  # it is sales', not every queue's
    assert missing.exit_code != 0 and "no shared reply" in missing.output
    assert cli.invoke(app, ["replies", "remove", "sizes", "--queue", "sales"]).exit_code == 0
    assert cli.invoke(app, ["replies", "remove", "refund"]).exit_code == 0
    assert listed() == []
    audit = [json.loads(line) for line in cli.invoke(app, ["audit", "list"]).output.splitlines()]
    assert {"saved_reply.create", "saved_reply.delete"} <= {e["action"] for e in audit}, audit
