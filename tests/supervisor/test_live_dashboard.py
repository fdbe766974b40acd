"""The live dashboard and the report API against the truth.

Real visitors, agents and a supervisor on a live server.  Every figure the supervisor
is pushed, and every figure of the report API, is compared with a hand computation
from the test's own record of what it did (see ``floor.py``): exact where the server
told the clients its timestamps, inside an interval where it did not.
"""

from __future__ import annotations

import csv
import io
import time
from datetime import date, timedelta
from typing import Any

import pytest

from dashboard.formulas import quantile
from tests.supervisor.floor import TIMEOUT, ContactFacts, Floor, Span
from tests.support.client import WsClient
from tests.support.server import LiveServer

SALES_T = 1.0
SUPPORT_T = 5.0
EPS = 1e-6


def approx(value: float) -> Any:
    return pytest.approx(value, abs=EPS)


def snapshot_where(supervisor: WsClient, predicate: Any) -> Any:
    return supervisor.wait_for(
        lambda e: e["type"] == "dashboard.snapshot" and predicate(e["snapshot"]), TIMEOUT
    )


async def run_floor(server: LiveServer) -> tuple[Floor, WsClient, dict[str, Span]]:
    floor = Floor(server)
    admin = floor.admin
    server.add_queue(admin, "sales", name="Sales", sl_target_s=SALES_T, offer_timeout_s=1.5)
    server.add_queue(admin, "support", name="Support", sl_target_s=SUPPORT_T, wrap_up_s=60)
    supervisor = await WsClient.connect(server.ws_url + "/ws/supervisor", admin)
    await supervisor.wait_type("dashboard.legend", timeout=TIMEOUT)

    await floor.agent("alice", queues=["sales"], capacity={"chat": 2})
    await floor.agent("bob", queues=["support"], capacity={"chat": 1})
    await floor.set_status("alice", "available")
    await floor.set_status("bob", "available")

    # c1: answered at once, a reply, ended, rated 5.
    c1 = await floor.arrive("sales", "consideration")
    await floor.accept("alice", c1)
    await floor.reply("alice", c1, "Hello, how can I help?")
    await floor.reply("alice", c1, "Anything else?")
    await floor.end("alice", c1)
    await floor.rate(c1, 5)
    # c2: the visitor leaves while it is being offered: a short abandon.
    c2 = await floor.arrive("sales", "decision")
    await floor.offer("alice", c2)
    await floor.abandon(c2)
    # c3: declined, offered again (nobody else serves sales), accepted; rated 2.
    c3 = await floor.arrive("sales", "purchase")
    since = await floor.decline("alice", c3)
    await floor.accept("alice", c3, since)
    await floor.reply("alice", c3, "Sorry for the wait")
    await floor.end("alice", c3)
    await floor.rate(c3, 2)
    # c4: the first offer expires (1.5 s), the second is accepted: answered late.
    c4 = await floor.arrive("sales", "awareness")
    since = await floor.let_expire("alice", c4)
    await floor.accept("alice", c4, since)
    await floor.reply("alice", c4, "Hi!")
    await floor.end("alice", c4)
    # c5: support has a wrap-up of 60 s; bob ends it early.
    c5 = await floor.arrive("support", "retention")
    await floor.accept("bob", c5)
    await floor.reply("bob", c5, "Hello from support")
    await floor.end("bob", c5)
    await floor.end_wrap_up("bob", c5)

    # The supervisor sets alice away; bob goes away himself.
    alice = floor.agents["alice"]
    index = len(alice.client.events)
    response, span = await timed_rest(
        server, "POST", f"/api/supervisor/agents/{alice.user_id}/status", admin, {"status": "away"}
    )
    assert response.status_code == 202, response.text
    alice.away.append(span)
    await alice.client.wait_for(
        lambda e: e["type"] == "agent.state" and e["state"] == "away", TIMEOUT, since=index
    )
    await floor.set_status("bob", "away")

    # c6 waits in support with nobody there; the supervisor moves it to sales.
    c6 = await floor.arrive("support", "unknown")
    await snapshot_where(supervisor, lambda s: s["waiting"].get("support", {}).get("count") == 1)
    response = server.api(
        "POST", f"/api/supervisor/contacts/{c6.contact_id}/reassign", admin, json={"to_queue": "sales"}
    )
    assert response.status_code == 202, response.text
    c6.queue = "sales"
    return floor, supervisor, {}


async def timed_rest(server: LiveServer, method: str, path: str, token: str, body: Any) -> tuple[Any, Span]:
    lo = time.time()
    response = server.api(method, path, token, json=body)
    return response, Span(lo, time.time())


def settled(s: dict[str, Any]) -> bool:
    t = s["totals"]
    return (
        t["answered"]["value"] == 4
        and t["handled"]["value"] == 4
        and t["csat"]["denominator"] == 2
        and (t["avg_wrap_up_s"]["numerator"] or 0) > 0
        and s["waiting"].get("sales", {}).get("count") == 1
        and s["waiting"].get("support", {}).get("count", 0) == 0
        and s["agents_by_state"]["away"] == 2
        and bool(s["by_agent"])
    )


async def test_live_snapshot_and_reports_match_the_truth(server: LiveServer) -> None:
    floor, supervisor, _ = await run_floor(server)
    c = list(floor.contacts.values())
    c1, c2, c3, c4, c5, c6 = c
    alice, bob = floor.agents["alice"], floor.agents["bob"]
    event = await snapshot_where(supervisor, settled)
    snap = event["snapshot"]
    assert event["agent_table"] is True
    now = snap["at"]

    answered = [c1, c3, c4, c5]
    target = {"sales": SALES_T, "support": SUPPORT_T}
    within = [x for x in answered if x.wait <= target[x.queue]]
    talk = {x.contact_id: x.ended_at - x.answered_at for x in answered}  # type: ignore[operator]
    assert c5.wrap_up_end is not None and c5.ended_at is not None
    wrap5 = Span(c5.wrap_up_end.lo - c5.ended_at, c5.wrap_up_end.hi - c5.ended_at)
    first = sorted(x.first_reply_at - x.answered_at for x in answered)  # type: ignore[operator]
    # Sales has no wrap-up: each contact's is nil, closed when the router applies the
    # end (a few ms after it, never after the agent hears of it).
    slack = {x.contact_id: x.released_by - x.ended_at for x in (c1, c3, c4)}  # type: ignore[operator]
    slack_a = sum(slack.values())

    t = snap["totals"]
    # Waiting now: c6, in sales since its first enqueue (its wait survives the move).
    assert t["contacts_waiting"]["value"] == 1
    assert t["longest_wait_s"]["value"] == approx(now - c6.enqueued_at)
    (row,) = snap["waiting"]["sales"]["contacts"]
    assert row["contact_id"] == c6.contact_id and row["stage"] == "unknown" and row["channel"] == "chat"
    assert row["wait_s"] == approx(now - c6.enqueued_at)
    # Counts: seven stays in a queue (c6 twice), four answered, one short abandon.
    assert t["queued"]["value"] == 7
    assert t["answered"]["value"] == 4
    assert t["abandoned"]["value"] == 1 and c2.wait <= 5
    assert t["short_abandons"]["value"] == 1
    assert t["abandonment_rate"]["value"] == approx(1 / 7)
    assert t["asa_s"]["value"] == approx(sum(x.wait for x in answered) / 4)
    # Service level: answered within T / (answered + abandoned - short abandons).
    assert t["service_level"]["numerator"] == len(within)
    assert t["service_level"]["denominator"] == 4 + 1 - 1
    assert c4.wait > SALES_T, "the expired offer made c4 wait past T"
    # Handling: talk exact, wrap-up nil in sales, bob's ended within the interval.
    assert t["handled"]["value"] == 4
    assert t["avg_talk_s"]["value"] == approx(sum(talk.values()) / 4)
    assert t["avg_hold_s"]["value"] == approx(0.0)
    assert wrap5.lo - EPS <= t["avg_wrap_up_s"]["numerator"] <= wrap5.hi + slack_a + EPS
    wrap_live = t["avg_wrap_up_s"]["numerator"]
    assert t["aht_s"]["value"] == approx((sum(talk.values()) + wrap_live) / 4)
    assert t["first_response_median_s"]["value"] == approx(quantile(first, 0.5))  # type: ignore[arg-type]
    assert t["first_response_p90_s"]["value"] == approx(quantile(first, 0.9))  # type: ignore[arg-type]
    assert t["first_response_p90_s"]["denominator"] == 4
    # Offers: four accepted, c3 declined once, c4 expired once.
    assert t["offers_accepted"]["value"] == 4
    assert t["offers_declined"]["value"] == 1
    assert t["offers_expired"]["value"] == 1
    assert t["answer_rate"]["value"] == approx(4 / 6)
    assert t["csat"]["value"] == approx(1 / 2)
    assert all(kpi["formula"] == "" for kpi in t.values()), "formulas travel once, in the legend"

    # By queue: sales got c6's second stay, support its first.
    sales, support = snap["by_queue"]["sales"], snap["by_queue"]["support"]

    def counts(row: dict[str, Any], *names: str) -> tuple[Any, ...]:
        return tuple(row[name]["value"] for name in names)

    assert counts(sales, "queued", "answered", "abandoned") == (5, 3, 1)
    assert counts(support, "queued", "answered", "abandoned") == (2, 1, 0)
    assert sales["service_level"]["numerator"] == len([x for x in within if x.queue == "sales"])
    assert sales["service_level"]["denominator"] == 3
    assert support["asa_s"]["value"] == approx(c5.wait)
    assert sales["contacts_waiting"]["value"] == 1 and support["contacts_waiting"]["value"] == 0
    # By stage of origin and the journey grid.
    stages = snap["by_stage"]
    for contact in (c1, c3, c4, c5):
        assert stages[contact.stage]["answered"]["value"] == 1
    assert stages["decision"]["abandoned"]["value"] == 1
    assert stages["unknown"]["queued"]["value"] == 2
    grid = snap["stage_x_channel"]
    assert grid["channels"] == ["chat"]
    assert grid["cells"]["unknown"]["chat"] == {"queued": 2, "answered": 0, "abandoned": 0, "waiting": 1}
    assert grid["cells"]["decision"]["chat"] == {"queued": 1, "answered": 0, "abandoned": 1, "waiting": 0}
    assert snap["by_channel"]["chat"]["queued"]["value"] == 7

    # Agents: states, per-agent KPIs, occupancy inside the interval the record allows.
    assert snap["agents_by_state"] == {"available": 0, "busy": 0, "wrap_up": 0, "away": 2, "offline": 0}
    live_a, live_b = snap["agents"][alice.user_id], snap["agents"][bob.user_id]
    assert live_a["state"] == "away" and live_b["state"] == "away"
    assert live_a["time_in_state_s"] == approx(now - live_a["state_since"])
    assert alice.away[0].lo - EPS <= live_a["state_since"] <= alice.away[0].hi + EPS
    assert live_a["queues"] == ["sales"] and live_b["queues"] == ["support"]
    a, b = snap["by_agent"][alice.user_id], snap["by_agent"][bob.user_id]
    assert (a["answered"]["value"], a["handled"]["value"]) == (3, 3)
    assert counts(a, "offers_accepted", "offers_declined", "offers_expired") == (3, 1, 1)
    assert a["csat"]["value"] == approx(1 / 2)
    talk_a = sum(talk[x.contact_id] for x in (c1, c3, c4))
    assert talk_a / 3 - EPS <= a["aht_s"]["value"] <= (talk_a + slack_a) / 3 + EPS
    assert (b["answered"]["value"], b["handled"]["value"], b["offers_accepted"]["value"]) == (1, 1, 1)
    assert b["aht_s"]["value"] == approx(talk[c5.contact_id] + b["avg_wrap_up_s"]["numerator"])
    assert wrap5.lo - EPS <= b["avg_wrap_up_s"]["numerator"] <= wrap5.hi + EPS
    assert b["csat"]["value"] is None
    assert "service_level" not in a, "queue figures are not agent figures"

    on_a = Span(talk_a, talk_a + slack_a)
    span_a = Span(alice.away[0].lo - alice.available[0].hi, alice.away[0].hi - alice.available[0].lo)
    on_b = Span(talk[c5.contact_id] + wrap5.lo, talk[c5.contact_id] + wrap5.hi)
    span_b = Span(bob.away[0].lo - bob.available[0].hi, bob.away[0].hi - bob.available[0].lo)
    assert on_a.lo / span_a.hi - EPS <= a["occupancy"]["value"] <= on_a.hi / span_a.lo + EPS
    assert on_b.lo / span_b.hi - EPS <= b["occupancy"]["value"] <= on_b.hi / span_b.lo + EPS
    total_on = Span(on_a.lo + on_b.lo, on_a.hi + on_b.hi)
    total_span = Span(span_a.lo + span_b.lo, span_a.hi + span_b.hi)
    assert total_on.lo / total_span.hi - EPS <= t["occupancy"]["value"] <= total_on.hi / total_span.lo + EPS
    # Slot occupancy: alice has two chat slots, held one chat at a time; slots are
    # known from her first assignment on.
    assert c1.answered_at is not None
    slots_lo = 2 * (alice.away[0].lo - c1.answered_at)
    slots_hi = 2 * (alice.away[0].hi - c1.answered_at)
    assert on_a.lo / slots_hi - EPS <= a["slot_occupancy"]["value"] <= on_a.hi / slots_lo + EPS

    # Staffing and alerts are there for both queues.
    assert set(snap["staffing"]) == {"sales", "support"}
    assert snap["staffing"]["sales"]["agents_staffed"] == 0
    assert snap["alerts"] == []

    # The REST snapshot agrees, with formulas.
    rest = server.api("GET", "/api/supervisor/snapshot", floor.admin).json()
    assert rest["totals"]["answered"]["value"] == 4
    assert rest["totals"]["asa_s"]["value"] == approx(t["asa_s"]["value"])
    assert rest["totals"]["asa_s"]["formula"].startswith("sum(answered_at - enqueued_at)")

    await check_reports(server, floor, c, wrap_live, first)
    await supervisor.close()
    await floor.close()


async def check_reports(
    server: LiveServer, floor: Floor, c: list[ContactFacts], wrap_live: float, first: list[float]
) -> None:
    c1, _, c3, c4, c5, _ = c
    answered = [c1, c3, c4, c5]
    target = {"sales": SALES_T, "support": SUPPORT_T}
    today = date.today()
    query = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}&tz=Europe/Paris"

    def report(extra: str) -> dict[str, Any]:
        response = server.api("GET", f"/api/reports?{query}&{extra}", floor.admin)
        assert response.status_code == 200, response.text
        return dict(response.json())

    # Wrap-up ends reach the database just after the event: wait for bob's.
    deadline = time.monotonic() + TIMEOUT
    while (totals := report("interval=day")["totals"])["avg_wrap_up_s"] in (None, 0.0):
        assert time.monotonic() < deadline, totals
        time.sleep(0.1)
    # One record per contact, counted in the interval it was enqueued in.
    assert totals["queued"] == 6
    assert totals["answered"] == 4
    assert totals["answered_within_target"] == len([x for x in answered if x.wait <= target[x.queue]])
    assert (totals["abandoned"], totals["short_abandons"], totals["handled"]) == (1, 1, 4)
    assert totals["asa_s"] == approx(sum(x.wait for x in answered) / 4)
    assert totals["service_level"] == approx(totals["answered_within_target"] / 4)
    assert totals["abandonment_rate"] == approx(1 / 6)
    talk = sum(x.ended_at - x.answered_at for x in answered)  # type: ignore[operator]
    assert totals["avg_talk_s"] == approx(talk / 4)
    assert totals["avg_wrap_up_s"] == approx(wrap_live / 4), "the report's wrap-up is the live one"
    assert totals["aht_s"] == approx((talk + wrap_live) / 4)
    assert totals["first_response_median_s"] == approx(quantile(first, 0.5))  # type: ignore[arg-type]
    assert totals["first_response_p90_s"] == approx(quantile(first, 0.9))  # type: ignore[arg-type]
    assert (totals["ratings"], totals["csat"]) == (2, approx(0.5))

    # Hourly rows add up to the totals; cuts count where each record belongs now.
    hourly = report("interval=hour")["rows"]
    assert sum(r["queued"] for r in hourly) == 6 and sum(r["answered"] for r in hourly) == 4
    by_queue = report("interval=day&by=queue")["rows"]
    assert sum(r["queued"] for r in by_queue if r["key"] == "sales") == 5
    assert sum(r["queued"] for r in by_queue if r["key"] == "support") == 1
    by_agent = report("interval=day&by=agent")["rows"]
    alice, bob = floor.agents["alice"].user_id, floor.agents["bob"].user_id
    assert sum(r["answered"] for r in by_agent if r["key"] == alice) == 3
    assert sum(r["answered"] for r in by_agent if r["key"] == bob) == 1
    by_stage = report("interval=15min&by=stage")["rows"]
    stages = {"consideration", "decision", "purchase", "awareness", "retention", "unknown"}
    assert {r["key"] for r in by_stage} == stages
    assert sum(r["abandoned"] for r in by_stage if r["key"] == "decision") == 1

    # CSV: the same rows.
    response = server.api("GET", f"/api/reports?{query}&interval=day&by=queue&format=csv", floor.admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    parsed = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["key"], int(r["queued"])) for r in parsed] == [(r["key"], r["queued"]) for r in by_queue]

    # Only supervisors read reports.
    agent_token = server.login("alice")
    assert server.api("GET", "/api/reports", agent_token).status_code == 403
    assert server.api("GET", "/api/reports").status_code == 401
    assert server.api("GET", "/api/reports?interval=week", floor.admin).status_code == 422
    assert server.api("GET", "/api/reports?tz=Mars/Olympus", floor.admin).status_code == 422
