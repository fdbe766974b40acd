"""``contact-center agents update`` / ``queues update`` (typer's CliRunner against a
temporary CC_DATA_DIR), and a running server picking up what the CLI changed."""

from __future__ import annotations

import asyncio
import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from contact_center.cli import app
from contact_center.store.database import create_engine
from contact_center.store.users import UserStore
from tests.routing_e2e.desk import Desk, offered_to, until
from tests.support.server import live_server

HOURS = {"timezone": "Europe/Paris", "spans": [{"weekday": 0, "opens": "09:00", "closes": "17:00"}]}


class Cli:
    def __init__(self, data_dir: Path) -> None:
        self.runner = CliRunner()
        self.env = {"CC_DATA_DIR": str(data_dir), "CC_DATABASE_URL": ""}
        self.data_dir = data_dir

    def __call__(self, *args: str, stdin: str | None = None, ok: bool = True) -> str:
        result = self.runner.invoke(app, list(args), input=stdin, env=self.env)
        if ok:
            assert result.exit_code == 0, (args, result.output, result.exception)
        else:
            assert result.exit_code == 1, (args, result.output, result.exception)
        return result.output

    def agents(self) -> dict[str, dict[str, Any]]:
        return {u["username"]: u for u in map(json.loads, self("agents", "list").splitlines())}

    def queues(self) -> dict[str, dict[str, Any]]:
        return {q["id"]: q for q in map(json.loads, self("queues", "list").splitlines())}

    def can_log_in(self, username: str, password: str) -> bool:
        async def check() -> bool:
            engine = create_engine(f"sqlite+aiosqlite:///{(self.data_dir / 'contact-center.db').resolve()}")
            try:
                return await UserStore(engine).authenticate(username, password) is not None
            finally:
                await engine.dispose()

        return asyncio.run(check())


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    cli("queues", "add", "sales", "--name", "Sales")
    cli("queues", "add", "support", "--name", "Support")
    cli("agents", "add", "alice", "--skills", "billing:7", "--password-stdin", stdin="first-password\n")
    return cli


def test_agents_update_changes_only_what_is_given(cli: Cli) -> None:
    out = cli(
        "agents",
        "update",
        "alice",
        "--skills",
        "returns:4,billing:9",
        "--chat-capacity",
        "2",
        "--queues",
        "sales",
        "--languages",
        "en, fr",
        "--role",
        "supervisor",
        "--display-name",
        "Alice Martin",
    )
    assert "updated alice" in out and "skills" in out and "CC_CONFIG_POLL_S" in out
    alice = cli.agents()["alice"]
    assert alice["skills"] == {"returns": 4, "billing": 9}
    assert alice["capacity"] == {"chat": 2}
    assert alice["queues"] == ["sales"]
    assert alice["languages"] == ["en", "fr"]
    assert alice["role"] == "supervisor" and alice["display_name"] == "Alice Martin"

    # Capacity merges per channel; empty lists mean "every queue" / "no skill".
    cli("agents", "update", "alice", "--voice-capacity", "0", "--queues", "", "--skills", "")
    alice = cli.agents()["alice"]
    assert alice["capacity"] == {"chat": 2, "voice": 0}
    assert alice["queues"] == [] and alice["skills"] == {}
    assert alice["languages"] == ["en", "fr"]

    cli("agents", "update", "alice", "--disabled")
    assert cli.agents()["alice"]["disabled"] is True
    assert not cli.can_log_in("alice", "first-password")
    cli("agents", "update", "alice", "--enabled", "--password-stdin", stdin="second-password\n")
    assert cli.agents()["alice"]["disabled"] is False
    assert cli.can_log_in("alice", "second-password")
    assert not cli.can_log_in("alice", "first-password")


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("agents", "update", "nobody", "--chat-capacity", "2"), None, "no user 'nobody'"),
        (("agents", "update", "alice", "--queues", "sales,nowhere"), None, "no queue 'nowhere'"),
        (("agents", "update", "alice", "--skills", "billing:11"), None, "invalid change"),
        (("agents", "update", "alice", "--skills", "billing:high"), None, "invalid change"),
        (("agents", "update", "alice", "--role", "boss"), None, "invalid change"),
        (("agents", "update", "alice", "--chat-capacity", "99"), None, "Expected `int` <= 50"),
        (("agents", "update", "alice", "--password-stdin"), "short\n", "at least 8"),
        (("agents", "update", "alice"), None, "nothing to change"),
    ],
)
def test_agents_update_refuses_bad_changes(
    cli: Cli, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    before = cli.agents()["alice"]
    out = cli(*args, stdin=stdin, ok=False)
    assert message in out
    assert cli.agents()["alice"] == before


def test_queues_update_changes_and_clears_routing_settings(cli: Cli) -> None:
    out = cli(
        "queues",
        "update",
        "sales",
        "--strategy",
        "best_skill",
        "--skills",
        "billing, returns",
        "--max-wait",
        "30",
        "--overflow-to",
        "support",
        "--ageing",
        "60",
        "--wrap-up",
        "5",
        "--offer-timeout",
        "15",
        "--sl-target",
        "30",
        "--priority",
        "2",
        "--hours",
        json.dumps(HOURS),
    )
    assert "updated queue sales" in out
    sales = cli.queues()["sales"]
    assert sales["strategy"] == "best_skill"
    assert sales["skills"] == ["billing", "returns"]
    assert (sales["max_wait_s"], sales["overflow_to"], sales["ageing_s"]) == (30.0, "support", 60.0)
    assert (sales["wrap_up_s"], sales["offer_timeout_s"], sales["sl_target_s"]) == (5.0, 15.0, 30.0)
    assert sales["priority"] == 2 and sales["hours"] == HOURS
    assert sales["name"] == "Sales"

    cli("queues", "update", "sales", "--no-max-wait", "--no-overflow", "--no-ageing", "--always-open")
    sales = cli.queues()["sales"]
    assert (sales["max_wait_s"], sales["overflow_to"], sales["ageing_s"], sales["hours"]) == (
        None,
        None,
        None,
        None,
    )
    assert sales["strategy"] == "best_skill" and sales["wrap_up_s"] == 5.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("queues", "update", "nowhere", "--priority", "1"), "no queue 'nowhere'"),
        (("queues", "update", "sales", "--strategy", "random"), "invalid queue"),
        (("queues", "update", "sales", "--overflow-to", "sales"), "cannot overflow to 'sales'"),
        (("queues", "update", "sales", "--overflow-to", "nowhere"), "cannot overflow to 'nowhere'"),
        (("queues", "update", "sales", "--max-wait", "5", "--no-max-wait"), "contradicts"),
        (("queues", "update", "sales", "--max-wait", "-1"), "invalid queue"),
        (("queues", "update", "sales", "--hours", '{"timezone": "Mars/Olympus"}'), "unknown time zone"),
        (("queues", "update", "sales", "--hours", "{not json"), "invalid queue"),
        (("queues", "update", "sales"), "nothing to change"),
    ],
)
def test_queues_update_refuses_bad_changes(cli: Cli, args: tuple[str, ...], message: str) -> None:
    before = cli.queues()["sales"]
    out = cli(*args, ok=False)
    assert message in out
    assert cli.queues()["sales"] == before


async def test_a_running_server_picks_up_cli_changes(tmp_path: Path) -> None:
    """The CLI writes the database from outside; the router notices the rows changed
    (config_poll_s) and routes by the new settings with no restart or REST call."""
    with live_server(tmp_path, config_poll_s=0.3) as server:
        desk = Desk(server)
        desk.queue("repairs", name="Repairs")
        alice = await desk.agent("alice")
        bob = await desk.agent("bob")
        cli = Cli(tmp_path)
        # Longest idle: alice would get the next chat.  Make it a skills queue and give
        # the skill to bob only.
        await asyncio.to_thread(cli, "agents", "update", "bob", "--skills", "ebikes:8")
        await asyncio.to_thread(
            cli, "queues", "update", "repairs", "--strategy", "best_skill", "--skills", "ebikes"
        )
        await asyncio.to_thread(cli, "queues", "add", "returns", "--name", "Returns")

        def learnt() -> bool:
            engine = server.services.driver.engine
            stats = engine.queue_stats("returns")
            return stats is not None and engine.queue_stats("repairs").strategy == "best_skill"

        await until(learnt, what="router reloaded the configuration")
        visitor = await desk.visitor("repairs", "Vera")
        assert await offered_to([alice, bob], visitor.contact_id) is bob
        # The new queue is served too (alice serves every queue).
        other = await desk.visitor("returns", "Ron")
        assert await offered_to([alice, bob], other.contact_id) is alice
        assert visitor.contact_id not in alice.offered_ids()
        await desk.close()


def test_the_readme_update_commands_work_as_written(cli: Cli) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    lines = [
        shlex.split(line.split("#")[0])[1:]
        for line in readme.splitlines()
        if line.startswith("contact-center ") and " update " in line
    ]
    assert len(lines) >= 3
    cli("agents", "add", "sam", "--role", "supervisor", "--password-stdin", stdin="sam-password\n")
    for args in lines:
        cli(*args)
    assert cli.queues()["support"]["strategy"] == "best_skill"
    assert cli.agents()["alice"]["queues"] == ["support", "sales"]
    assert cli.agents()["sam"]["disabled"] is True
