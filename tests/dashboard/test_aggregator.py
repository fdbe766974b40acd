"""Every live KPI of the scripted day (tests/dashboard/scenario.py) against values
worked out by hand; the arithmetic is written next to each assertion."""

from __future__ import annotations

import json
import math

import pytest

from dashboard.aggregator import KpiAggregator
from dashboard.alerts import AlertRules
from dashboard.events import (
    STAGES,
    AgentStateChanged,
    ContactAbandoned,
    ContactAnswered,
    ContactEnded,
    ContactOverflowed,
    ContactQueued,
    ContactTransferred,
    CsatRated,
    MessageSent,
    WrapUpEnded,
)
from dashboard.formulas import FORMULAS, Kpi
from dashboard.snapshot import Snapshot
from dashboard.staffing import StaffingConfig
from routing import erlang
from tests.dashboard.scenario import NOW, T0, events, queued, t

approx = pytest.approx

RULES = AlertRules(
    longest_wait_warning_s=200,
    longest_wait_critical_s=280,
    service_level_min_contacts=3,
    missed_offers_in_a_row=3,
)


@pytest.fixture
def snap() -> Snapshot:
    agg = KpiAggregator(T0, rules=RULES)
    agg.ingest_many(events())
    return agg.snapshot(NOW)


def values(table: dict[str, Kpi]) -> dict[str, object]:
    return {name: kpi["value"] for name, kpi in table.items()}


def subset(got: dict[str, object], want: dict[str, object]) -> bool:
    return {k: got.get(k) for k in want} == want


def test_waiting_and_longest_wait(snap: Snapshot) -> None:
    totals = snap["totals"]
    # c6 (enqueued 200) and c7 (enqueued 250) still wait; longest = 500 - 200.
    assert totals["contacts_waiting"]["value"] == 2
    assert totals["longest_wait_s"]["value"] == 300
    assert snap["by_queue"]["sales"]["longest_wait_s"]["value"] == 300
    assert snap["by_queue"]["support"]["longest_wait_s"]["value"] == 500 - 250
    assert snap["by_stage"]["unknown"]["contacts_waiting"]["value"] == 1  # c7, "foo"
    assert snap["waiting"]["sales"] == {
        "count": 1,
        "shown": 1,
        "contacts": [
            {
                "contact_id": "c6",
                "wait_s": 300.0,
                "enqueued_at": t(200),
                "stage": "retention",
                "channel": "voice",
            }
        ],
    }


def test_agents_by_state_and_time_in_state(snap: Snapshot) -> None:
    assert snap["agents_by_state"] == {
        "available": 1,  # a2
        "busy": 1,  # a1 since 270
        "wrap_up": 0,
        "away": 1,  # a3 since 200
        "offline": 0,
    }
    assert snap["agents"]["a1"]["time_in_state_s"] == 500 - 270
    assert snap["agents"]["a2"]["time_in_state_s"] == 500 - 0
    assert snap["agents"]["a3"]["time_in_state_s"] == 500 - 200
    assert snap["agents"]["a3"]["missed_offers_in_a_row"] == 3


def test_asa_service_level_abandonment(snap: Snapshot) -> None:
    totals = snap["totals"]
    # Answered: c1 wait 20, c4 40, c5 10, c8 10, c9 5 -> 5 answered, 85 s.
    assert totals["answered"]["value"] == 5
    assert totals["asa_s"] == {
        "value": 85 / 5,
        "formula": FORMULAS["asa_s"],
        "numerator": 85.0,
        "denominator": 5,
    }
    # Within T (wait <= T): c1 20 <= 20 (the edge counts), c5 10 <= 30, c8 10 <= 20,
    # c9 5 <= 30; c4 40 > 30 is not.  Abandoned c2 (wait 5: short, exactly 5 s counts)
    # and c3 (wait 30).  SL = 4 / (5 + 2 - 1).
    sl = totals["service_level"]
    assert (sl["numerator"], sl["denominator"]) == (4, 6)
    assert sl["value"] == approx(4 / 6)
    assert totals["abandoned"]["value"] == 2
    assert totals["short_abandons"]["value"] == 1
    # 9 queued (c1..c9).
    assert totals["queued"]["value"] == 9
    assert totals["abandonment_rate"]["value"] == approx(2 / 9)


def test_aht_with_hold_and_wrap_up(snap: Snapshot) -> None:
    totals = snap["totals"]
    # talk = ended - answered - hold:
    #   c1 130 - 30 - 30 (hold 60-90) = 70;  c4 300 - 140 = 160;
    #   c5 400 - 160 = 240;                    c9 260 - 175 = 85   -> 555
    # wrap-up: c1 145 - 130 = 15; c4 310 - 300 = 10 and c9 310 - 260 = 50 (one
    #   WrapUpEnded(a2, None) closes both); c5 420 - 400 = 20      -> 95
    # c8 is still talking: not handled yet.
    assert totals["handled"]["value"] == 4
    assert totals["aht_s"]["numerator"] == approx(555 + 30 + 95)
    assert totals["aht_s"]["value"] == approx((555 + 30 + 95) / 4)  # 170
    assert totals["avg_talk_s"]["value"] == approx(555 / 4)
    assert totals["avg_hold_s"]["value"] == approx(30 / 4)
    assert totals["avg_wrap_up_s"]["value"] == approx(95 / 4)


def test_first_response_median_and_p90(snap: Snapshot) -> None:
    # First agent message - answered: c9 180 - 175 = 5, c4 152 - 140 = 12 (the later
    # 160 message does not count), c5 190 - 160 = 30.  Sorted [5, 12, 30]:
    # median = 12; p90 at position (3 - 1) * 0.9 = 1.8 -> 12 + 0.8 * (30 - 12) = 26.4.
    totals = snap["totals"]
    assert totals["first_response_median_s"]["value"] == 12
    assert totals["first_response_median_s"]["denominator"] == 3
    assert totals["first_response_p90_s"]["value"] == approx(26.4)


def test_offers(snap: Snapshot) -> None:
    totals = snap["totals"]
    # accepted: c1 by a1 (30 - 20 = 10 s), c4 by a2 (140 - 137 = 3 s); declined: a2 at
    # 136; expired: a3 three times.
    assert subset(values(totals), {"offers_accepted": 2, "offers_declined": 1, "offers_expired": 3})
    assert totals["answer_rate"]["value"] == approx(2 / 6)
    assert totals["avg_acceptance_s"]["value"] == approx((10 + 3) / 2)
    assert snap["by_agent"]["a3"]["answer_rate"]["value"] == 0.0
    assert snap["by_agent"]["a2"]["answer_rate"]["value"] == approx(1 / 2)
    assert snap["by_agent"]["a1"]["avg_acceptance_s"]["value"] == 10


def test_occupancy_with_chat_concurrency(snap: Snapshot) -> None:
    a1 = snap["by_agent"]["a1"]
    # a1: idle [0,30] 30 + [145,270] 125 = 155; on contacts busy [30,130] 100 +
    # wrap_up [130,145] 15 + busy [270,500] 230 = 345.  345 / (345 + 155).
    assert a1["occupancy"]["numerator"] == approx(345)
    assert a1["occupancy"]["value"] == approx(345 / 500)
    # slots: 1 all along -> offered 500; used while active = 1: 100 + 230 = 330.
    assert a1["slot_occupancy"]["value"] == approx(330 / 500)
    a2 = snap["by_agent"]["a2"]
    # a2 (always "available"; on contacts whenever it holds a chat):
    #   [0,140] idle 140, [140,400] on 260, [400,500] idle 100.
    assert a2["occupancy"]["value"] == approx(260 / (260 + 240))
    # slot-seconds used: 1*20 + 2*15 + 3*85 + 2*40 + 1*100 = 485 of 3 * 500 = 1500.
    assert a2["slot_occupancy"]["numerator"] == approx(485)
    assert a2["slot_occupancy"]["value"] == approx(485 / 1500)
    a3 = snap["by_agent"]["a3"]
    # a3: idle [0,200], then away (counts for neither side).
    assert a3["occupancy"]["value"] == 0.0
    assert a3["occupancy"]["denominator"] == approx(200)
    assert a3["slot_occupancy"]["value"] == 0.0  # 0 of 2 * 200
    totals = snap["totals"]
    assert totals["occupancy"]["value"] == approx((345 + 260) / (345 + 155 + 260 + 240 + 200))
    assert totals["slot_occupancy"]["value"] == approx((330 + 485) / (500 + 1500 + 400))


def test_csat_and_call_quality(snap: Snapshot) -> None:
    totals = snap["totals"]
    # Ratings 5 (c1), 3 (c4), 4 (c5): good = 2 of 3.
    assert (totals["csat"]["numerator"], totals["csat"]["denominator"]) == (2, 3)
    # MOS samples 4.2, 3.0, 3.2 (c1) and 4.1, 2.9 (c8); warning onsets: high_loss at 50
    # (55 repeats it) and low_mos at 290.
    assert totals["mean_mos"]["value"] == approx((4.2 + 3.0 + 3.2 + 4.1 + 2.9) / 5)
    assert totals["quality_warnings"]["value"] == 2
    cq = snap["call_quality"]
    # k1 left with c1 at 130; k8 is live and warns.
    assert cq["live_calls"] == 1 and cq["with_warnings"] == 1
    (call,) = cq["warnings"]
    assert call["call_id"] == "k8" and call["agent"] == "a1"
    assert call["latest_mos"] == 2.9
    assert call["mean_mos"] == approx((4.1 + 2.9) / 2)


def test_cuts_by_queue_channel_stage_agent(snap: Snapshot) -> None:
    sales = snap["by_queue"]["sales"]
    # sales: c1 (answered 20), c2 (short abandon), c3 (abandon 30), c6 (waiting),
    # c8 (answered 10).  SL = 2 / (2 + 2 - 1); AHT = c1 alone = 70 + 30 + 15.
    assert subset(values(sales), {"queued": 5, "answered": 2, "abandoned": 2, "handled": 1})
    assert sales["asa_s"]["value"] == 15
    assert sales["service_level"]["value"] == approx(2 / 3)
    assert sales["abandonment_rate"]["value"] == approx(2 / 5)
    assert sales["aht_s"]["value"] == 115
    support = snap["by_queue"]["support"]
    # support: c4 (40), c5 (10), c9 (5) answered, c7 waiting; within 30: c5, c9.
    assert support["asa_s"]["value"] == approx(55 / 3)
    assert support["service_level"]["value"] == approx(2 / 3)
    # talk 160 + 240 + 85, wrap 10 + 20 + 50.
    assert support["aht_s"]["value"] == approx((485 + 80) / 3)
    assert support["first_response_median_s"]["value"] == 12

    voice, chat, video = (snap["by_channel"][c] for c in ("voice", "chat", "video"))
    # voice: c1 answered in T, c2 short abandon -> 1 / (1 + 1 - 1); c6 waiting.
    assert voice["service_level"]["value"] == 1.0
    assert voice["queued"]["value"] == 3
    # chat: c4 (out of T), c5, c9 (in T), c3 abandoned 30 s -> 2 / (3 + 1).
    assert chat["service_level"]["value"] == approx(2 / 4)
    assert video["answered"]["value"] == 1

    stages = snap["by_stage"]
    assert set(stages) == set(STAGES)
    # consideration: c3 abandoned (30 s), c4 answered out of T -> SL 0 / 2.
    assert stages["consideration"]["service_level"]["value"] == 0.0
    assert stages["decision"]["asa_s"]["value"] == approx((20 + 10) / 2)
    assert stages["awareness"]["short_abandons"]["value"] == 1
    assert stages["retention"]["contacts_waiting"]["value"] == 1

    agents = snap["by_agent"]
    assert "service_level" not in agents["a1"]  # queue figures are not per agent
    assert agents["a1"]["answered"]["value"] == 2
    assert agents["a1"]["aht_s"]["value"] == 115
    assert agents["a1"]["csat"]["value"] == 1.0
    assert agents["a2"]["csat"]["value"] == approx(1 / 2)  # c4 3, c5 4
    assert agents["a2"]["handled"]["value"] == 3
    assert agents["a2"]["first_response_p90_s"]["value"] == approx(26.4)


def test_stage_x_channel_grid(snap: Snapshot) -> None:
    grid = snap["stage_x_channel"]
    assert grid["stages"] == list(STAGES)
    assert grid["channels"] == ["chat", "video", "voice"]
    cells = grid["cells"]
    assert cells["consideration"]["chat"] == {
        "queued": 2,  # c3, c4
        "answered": 1,  # c4
        "abandoned": 1,  # c3
        "waiting": 0,
    }
    assert cells["awareness"]["voice"] == {"queued": 1, "answered": 0, "abandoned": 1, "waiting": 0}
    assert cells["unknown"]["chat"] == {"queued": 1, "answered": 0, "abandoned": 0, "waiting": 1}
    assert cells["retention"]["voice"]["waiting"] == 1
    assert cells["purchase"]["video"] == {"queued": 0, "answered": 0, "abandoned": 0, "waiting": 0}


def test_alerts(snap: Snapshot) -> None:
    got = [(a["severity"], a["code"], a["subject"]) for a in snap["alerts"]]
    assert got == [
        ("critical", "longest_wait", "queue:sales"),  # 300 > 280
        ("warning", "call_quality", "call:k8"),  # low_mos
        ("warning", "longest_wait", "queue:support"),  # 250 > 200
        ("warning", "missed_offers", "agent:a3"),  # 3 expired in a row
        ("warning", "service_level", "queue:sales"),  # 2/3 < 0.8, denominator 3
        ("warning", "service_level", "queue:support"),  # 2/3
    ]


def test_missed_offer_streak_resets_on_an_answer() -> None:
    agg = KpiAggregator(T0, rules=RULES)
    agg.ingest_many(events())
    agg.ingest(ContactQueued(t(501), "x", "sales", "voice", "decision", enqueued_at=t(501)))
    from dashboard.events import OfferAnswered

    agg.ingest(OfferAnswered(t(502), "x", "a3", "declined", offered_at=t(501)))
    snap = agg.snapshot(t(503))
    assert snap["agents"]["a3"]["missed_offers_in_a_row"] == 0
    assert "agent:a3" not in {a["subject"] for a in snap["alerts"]}


def test_staffing_against_erlang_c(snap: Snapshot) -> None:
    sales = snap["staffing"]["sales"]
    # Window = min(30 min, 500 s observed) = 500 s; sales arrivals at 10, 40, 50, 200,
    # 260 -> rate 5 / 500; AHT observed 115 -> A = 0.01 * 115 = 1.15 Erlangs.
    assert sales["arrivals"] == 5
    assert sales["load_erlangs"] == approx(1.15)
    # By hand, Erlang B: B1 = 1.15 / 2.15 = 0.534884; B2 = 1.15 B1 / (2 + 1.15 B1)
    # = 0.235216.  P(wait, 2) = 2 B2 / (2 - 1.15 (1 - B2)) = 0.419841.
    # SL(2) = 1 - 0.419841 exp(-0.85 * 20 / 115) = 0.637853 < 0.8.
    # B3 = 1.15 B2 / (3 + 1.15 B2) = 0.082709; P(wait, 3) = 0.127563;
    # SL(3) = 1 - 0.127563 exp(-1.85 * 20 / 115) = 0.907531 >= 0.8 -> 3 agents.
    assert erlang.probability_of_waiting(2, 1.15) == approx(0.419841, abs=1e-6)
    assert erlang.service_level(2, 1.15, 115, 20) == approx(0.637853, abs=1e-6)
    assert erlang.service_level(3, 1.15, 115, 20) == approx(0.907531, abs=1e-6)
    assert sales["agents_needed"] == 3
    # Staffed for sales: a1 (busy, serves sales); a3 is away; a2 serves support only.
    assert (sales["agents_staffed"], sales["agents_available"]) == (1, 0)
    # One agent under 1.15 Erlangs is unstable: predicted SL 0.
    assert sales["predicted_service_level"] == 0.0
    support = snap["staffing"]["support"]
    # 4 arrivals / 500 s * AHT (565 / 3) = 1.50667 Erlangs, T = 30.
    assert support["load_erlangs"] == approx(4 / 500 * 565 / 3)
    assert support["agents_needed"] == erlang.agents_needed(4 / 500 * 565 / 3, 565 / 3, 30, 0.8)
    assert support["agents_needed"] == 3
    assert (support["agents_staffed"], support["agents_available"]) == (1, 1)


def test_staffing_default_aht_and_full_window() -> None:
    cfg = StaffingConfig(window_s=1800, default_aht_s=200, target_level=0.9)
    agg = KpiAggregator(T0, staffing=cfg)
    for i in range(36):  # one arrival every 100 s over 3,600 s
        agg.ingest(queued(i * 100, f"q{i}", "sales", "voice", "decision"))
    row = agg.snapshot(t(3600))["staffing"]["sales"]
    # Window [1800, 3600]: arrivals at 1800, 1900, ..., 3500 -> 18.
    assert row["arrivals"] == 18
    assert row["aht_source"] == "default"
    assert row["load_erlangs"] == approx(18 / 1800 * 200)
    assert row["agents_needed"] == erlang.agents_needed(2.0, 200, 20, 0.9)
    assert row["agents_staffed"] == 0


def test_snapshot_is_pure_and_json(snap: Snapshot) -> None:
    agg = KpiAggregator(T0, rules=RULES)
    agg.ingest_many(events())
    first = agg.snapshot(NOW)
    later = agg.snapshot(t(900))
    again = agg.snapshot(NOW)
    assert first == again == snap
    assert later["totals"]["longest_wait_s"]["value"] == 700
    text = json.dumps(first, allow_nan=False)
    assert json.loads(text) == first


def test_every_kpi_has_the_shape(snap: Snapshot) -> None:
    tables = [snap["totals"]]
    for cut in ("by_queue", "by_channel", "by_stage", "by_agent"):
        tables += list(snap[cut].values())  # type: ignore[literal-required]
    for table in tables:
        for name, kpi in table.items():
            assert set(kpi) == {"value", "formula", "numerator", "denominator"}
            assert kpi["formula"] == FORMULAS[name]
            assert name in snap["legend"]


def test_compact_snapshot_keeps_the_shape(snap: Snapshot) -> None:
    agg = KpiAggregator(T0, rules=RULES)
    agg.ingest_many(events())
    compact = agg.snapshot(NOW, agent_table=False, formulas=False)
    assert compact["by_agent"] == {}
    assert compact["agents"] == snap["agents"]
    assert compact["alerts"] == snap["alerts"]
    assert compact["totals"]["occupancy"] == snap["totals"]["occupancy"] | {"formula": ""}
    for name, kpi in compact["by_queue"]["sales"].items():
        assert kpi["formula"] == ""
        assert kpi["value"] == snap["by_queue"]["sales"][name]["value"]
    assert compact["legend"]["asa_s"]["formula"] == FORMULAS["asa_s"]
    assert agg.snapshot(NOW) == snap  # compact mode did not touch shared state


def test_reset_starts_a_new_day_but_keeps_live_state() -> None:
    agg = KpiAggregator(T0, rules=RULES)
    agg.ingest_many(events())
    agg.reset(NOW)
    snap = agg.snapshot(t(600))
    totals = snap["totals"]
    assert totals["queued"]["value"] == 0
    assert totals["answered"]["value"] == 0
    assert totals["contacts_waiting"]["value"] == 2  # c6, c7 still waiting
    # Integrals restart at 500: a1 busy [500,600] 100 on; a2 idle 100; a3 away.
    assert snap["by_agent"]["a1"]["occupancy"]["numerator"] == approx(100)
    assert totals["occupancy"]["value"] == approx(100 / 200)
    # c8 answered yesterday, ends today: handled today with its full talk.
    agg.ingest(ContactEnded(t(610), "c8", "a1"))
    agg.ingest(ContactAbandoned(t(620), "c6"))  # waited 420 s
    later = agg.snapshot(t(630))["totals"]
    assert later["handled"]["value"] == 1
    assert later["avg_talk_s"]["value"] == 610 - 270
    assert later["abandoned"]["value"] == 1
    assert later["service_level"]["denominator"] == 1
    # An event stamped before `since` (late) moves live state but is not counted.
    agg.ingest(ContactAbandoned(t(499), "c7"))
    last = agg.snapshot(t(630))["totals"]
    assert last["abandoned"]["value"] == 1
    assert last["contacts_waiting"]["value"] == 0


def test_service_level_edge_just_over_t() -> None:
    agg = KpiAggregator(T0)
    agg.ingest(queued(0, "a", "sales", "voice", "decision"))
    agg.ingest(queued(0, "b", "sales", "voice", "decision"))
    agg.ingest(ContactAnswered(t(20), "a", "x"))  # 20 <= 20
    agg.ingest(ContactAnswered(t(20.001), "b", "x"))  # 20.001 > 20
    sl = agg.snapshot(t(30))["totals"]["service_level"]
    assert (sl["numerator"], sl["denominator"]) == (1, 2)


def test_short_abandon_edge() -> None:
    agg = KpiAggregator(T0)
    for cid, wait in (("a", 5.0), ("b", 5.001), ("c", 0.0)):
        agg.ingest(queued(0, cid, "sales", "voice", "decision"))
        agg.ingest(ContactAbandoned(t(wait), cid))
    totals = agg.snapshot(t(10))["totals"]
    assert totals["short_abandons"]["value"] == 2  # 5.0 and 0.0; 5.001 is not short
    # SL denominator: 0 answered + 3 abandoned - 2 short = 1; nothing answered -> 0.
    assert totals["service_level"]["value"] == 0.0
    assert totals["service_level"]["denominator"] == 1


def test_empty_aggregator() -> None:
    snap = KpiAggregator(T0).snapshot(T0)
    assert snap["totals"]["asa_s"]["value"] is None
    assert snap["totals"]["longest_wait_s"]["value"] is None
    assert snap["totals"]["occupancy"]["value"] is None
    assert snap["alerts"] == []
    json.dumps(snap, allow_nan=False)


def test_overflow_and_transfer_legs() -> None:
    agg = KpiAggregator(T0)
    agg.ingest(queued(0, "c", "sales", "chat", "decision"))
    agg.ingest(ContactOverflowed(t(30), "c", "support", "timeout"))
    # Requeued with the original enqueue time: the wait keeps counting from 0.
    agg.ingest(ContactQueued(t(30), "c", "support", "chat", "decision", enqueued_at=t(0)))
    agg.ingest(ContactAnswered(t(45), "c", "a"))
    agg.ingest(MessageSent(t(50), "c", "agent", "a"))
    # Agent a transfers to queue billing; b answers; b ends.
    agg.ingest(ContactTransferred(t(100), "c", "a", "billing", None))
    agg.ingest(ContactQueued(t(100), "c", "billing", "chat", "decision", enqueued_at=t(0)))
    agg.ingest(WrapUpEnded(t(105), "a", "c"))
    agg.ingest(ContactAnswered(t(110), "c", "b"))
    agg.ingest(ContactEnded(t(200), "c", "b"))
    agg.ingest(WrapUpEnded(t(210), "b", "c"))
    agg.ingest(CsatRated(t(220), "c", 5))
    agg.ingest(CsatRated(t(221), "c", 1))  # second rating ignored
    snap = agg.snapshot(t(300))
    q = snap["by_queue"]
    assert q["sales"]["queued"]["value"] == 1 and q["sales"]["answered"]["value"] == 0
    assert q["support"]["asa_s"]["value"] == 45  # 45 - 0, not 45 - 30
    assert q["billing"]["asa_s"]["value"] == 110
    totals = snap["totals"]
    assert totals["queued"]["value"] == 3  # one per queue entered
    # a handled 45 -> 100 (+ wrap 5), b 110 -> 200 (+ wrap 10).
    assert totals["handled"]["value"] == 2
    assert totals["aht_s"]["value"] == approx((55 + 5 + 90 + 10) / 2)
    assert snap["by_agent"]["a"]["first_response_median_s"]["value"] == 5
    assert snap["by_agent"]["b"]["first_response_median_s"]["value"] is None
    assert snap["by_agent"]["b"]["csat"]["value"] == 1.0  # last handler is credited
    assert totals["csat"]["denominator"] == 1
    assert totals["contacts_waiting"]["value"] == 0


def test_unknown_contacts_are_counted_not_crashed() -> None:
    agg = KpiAggregator(T0)
    agg.ingest(ContactAnswered(t(1), "ghost", "a"))
    agg.ingest(ContactEnded(t(2), "ghost", "a"))
    agg.ingest(AgentStateChanged(t(3), "a", "teleporting"))  # unknown state: no bucket
    snap = agg.snapshot(t(5))
    assert snap["unmatched_events"] == 2
    assert snap["totals"]["answered"]["value"] == 0
    assert sum(snap["agents_by_state"].values()) == 0


def test_waiting_list_is_capped_longest_first() -> None:
    agg = KpiAggregator(T0, waiting_limit=3)
    for i in range(10):
        # enqueued out of order (transfers keep their original enqueue time)
        agg.ingest(ContactQueued(t(100), f"w{i}", "sales", "chat", "decision", enqueued_at=t((i * 7) % 10)))
    snap = agg.snapshot(t(100))
    w = snap["waiting"]["sales"]
    assert (w["count"], w["shown"]) == (10, 3)
    assert [c["wait_s"] for c in w["contacts"]] == [100, 99, 98]
    assert len(agg.snapshot(t(100), waiting_limit=100)["waiting"]["sales"]["contacts"]) == 10
    assert snap["totals"]["longest_wait_s"]["value"] == 100
    assert math.isclose(snap["by_channel"]["chat"]["longest_wait_s"]["value"] or 0, 100)
