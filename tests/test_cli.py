"""The README's command lines work as written."""

from __future__ import annotations

import json
from pathlib import Path

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
