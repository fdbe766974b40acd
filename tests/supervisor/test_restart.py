"""A restart does not zero the wall: today's figures are rebuilt from the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.supervisor.floor import TIMEOUT, Floor
from tests.support.client import WsClient
from tests.support.server import live_server

# What the database keeps (hold and call quality are not kept: they restart from zero).
KEPT = (
    "offers_accepted",
    "offers_declined",
    "offers_expired",
    "answer_rate",
    "avg_acceptance_s",
    "queued",
    "answered",
    "abandoned",
    "short_abandons",
    "asa_s",
    "service_level",
    "abandonment_rate",
    "handled",
    "aht_s",
    "avg_talk_s",
    "avg_wrap_up_s",
    "first_response_median_s",
    "first_response_p90_s",
    "csat",
    "contacts_waiting",
)


async def first_snapshot(ws_url: str, token: str, predicate: Any = lambda s: True) -> dict[str, Any]:
    supervisor = await WsClient.connect(ws_url + "/ws/supervisor", token)
    event = await supervisor.wait_for(
        lambda e: e["type"] == "dashboard.snapshot" and predicate(e["snapshot"]), TIMEOUT
    )
    await supervisor.close()
    return dict(event["snapshot"])


def figures(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {name: snapshot["totals"][name]["value"] for name in KEPT}


async def test_a_restart_rebuilds_todays_figures(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        floor = Floor(server)
        server.add_queue(floor.admin, "sales", sl_target_s=2.0, offer_timeout_s=1.5)
        server.add_queue(floor.admin, "care", wrap_up_s=60)
        await floor.agent("alice", capacity={"chat": 2})
        await floor.set_status("alice", "available")
        c1 = await floor.arrive("sales", "decision")
        since = await floor.decline("alice", c1, reason="finishing a call")
        since = await floor.let_expire("alice", c1)  # offered again: nobody else serves
        await floor.accept("alice", c1, since)
        await floor.reply("alice", c1, "Hello")
        await floor.end("alice", c1)
        await floor.rate(c1, 4)
        c2 = await floor.arrive("care", "purchase")
        await floor.accept("alice", c2)
        await floor.reply("alice", c2, "Hi")
        await floor.end("alice", c2)
        await floor.end_wrap_up("alice", c2)
        c3 = await floor.arrive("sales", "awareness")
        await floor.offer("alice", c3)
        await floor.abandon(c3)
        await floor.set_status("alice", "away")
        c4 = await floor.arrive("sales", "retention")  # still waiting at the restart

        def settled(s: dict[str, Any]) -> bool:
            totals = s["totals"]
            return totals["csat"]["denominator"] == 1 and bool(totals["avg_wrap_up_s"]["numerator"])

        before = await first_snapshot(server.ws_url, floor.admin, settled)
        await floor.close()
        admin = floor.admin  # the wrap-up end is written to the database by the time it stops
        alice_id = floor.agents["alice"].user_id

    with live_server(tmp_path) as again:
        after = await first_snapshot(again.ws_url, admin)
        services = again.services
        assert services.supervision.rebuilt_events > 0
        # The contact's record lists every offer: what the agent said, what lapsed.
        detail = again.api("GET", f"/api/contacts/{c1.contact_id}", admin).json()
        offers = [(o["agent_id"], o["outcome"], o["reason"]) for o in detail["offers"]]
        assert offers == [
            (alice_id, "declined", "finishing a call"),
            (alice_id, "expired", ""),
            (alice_id, "accepted", ""),
        ]
        assert all(o["answered_at"] >= o["offered_at"] for o in detail["offers"])

    expected = figures(before)
    assert expected["queued"] == 4 and expected["answered"] == 2 and expected["abandoned"] == 1
    got = figures(after)
    for name, value in expected.items():
        if isinstance(value, float):
            assert got[name] is not None and abs(got[name] - value) < 1e-6, (name, got[name], value)
        else:
            assert got[name] == value, (name, got[name], value)
    # c4 still waits, from its first enqueue; the grid and the cuts came back too.
    (waiting,) = after["waiting"]["sales"]["contacts"]
    assert waiting["contact_id"] == c4.contact_id and waiting["enqueued_at"] == c4.enqueued_at
    assert after["stage_x_channel"]["cells"] == before["stage_x_channel"]["cells"]
    for cut in ("by_queue", "by_stage", "by_channel"):
        for key, row in before[cut].items():
            assert row["queued"]["value"] == after[cut][key]["queued"]["value"], (cut, key)
    # Alice's day came back (handled, AHT); the restarted router has her offline
    # until her console reconnects.
    assert after["by_agent"][alice_id]["handled"]["value"] == 2
    aht_before = before["by_agent"][alice_id]["aht_s"]["value"]
    assert abs(after["by_agent"][alice_id]["aht_s"]["value"] - aht_before) < 1e-6
    assert after["agents"][alice_id]["state"] == "offline"
    # Her offers came back from the ledger, the reason she gave with them.
    assert before["by_agent"][alice_id]["offers_declined"]["value"] == 1
    assert before["by_agent"][alice_id]["offers_expired"]["value"] == 1
    for name in ("offers_accepted", "offers_declined", "offers_expired", "answer_rate"):
        assert after["by_agent"][alice_id][name]["value"] == before["by_agent"][alice_id][name]["value"], name
    assert before["agents"][alice_id]["last_decline_reason"] == "finishing a call"
    assert after["agents"][alice_id]["last_decline_reason"] == "finishing a call"
