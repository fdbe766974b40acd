"""The journey analytics on a small data set whose expected funnel, journey map,
bottlenecks and attribution are worked out by hand below, and on a random data set
checked against the plain-Python reference in ``reference.py``.  Every test runs on
SQLite and on PostgreSQL (``database_url`` fixture).

The hand-made set (times in seconds; D = one day; the window [S, E) starts 2 h into a
UTC day and lasts 4 days, so its first and last days are partial and come from the
touchpoints while the whole days in between come from the per-day rollup):

    v1 google      a S+10, c S+100, d S+400, chat (d) S+500 wait 30 csat 5,
                   p S+1000, conversion S+1100 value 100
    v2 newsletter  c S+D+50, d S+D+500, voice (d) S+D+600 abandoned after 200 s
    v3 direct      a S-3600 (before the window), a S+2D, c S+2D+300,
                   chat (c) S+2D+400 wait 20 csat 2
    v4 google      a E-100, then a E+100 and p E+50 (after the window)
    v5 direct      d S+5, p S+3D, voice (p) S+3D+5 wait 90 csat 4,
                   conversion S+3D+10 value 50, r S+3D+20000
    v6 newsletter  an unknown-stage page S+100, a S+200, offline message (a) S+300
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import insert

from contact_center.journey import schemas as js
from contact_center.journey.analytics import Filters, JourneyAnalytics
from contact_center.store.database import create_engine
from contact_center.store.models import Touchpoint, Visitor
from tests.journey import reference as ref
from tests.journey.reference import T

D = 86400.0
D0 = 19_700 * D
S = D0 + 7200
E = S + 4 * D
WEEK = 7 * D
LOOKBACK = 30 * D

SOURCES = {
    "v1": "google",
    "v2": "newsletter",
    "v3": "direct",
    "v4": "google",
    "v5": "direct",
    "v6": "newsletter",
}


def small_set() -> list[T]:
    return [
        T("v1", "page_view", "awareness", S + 10),
        T("v1", "page_view", "consideration", S + 100),
        T("v1", "page_view", "decision", S + 400),
        T("v1", "contact", "decision", S + 500, "chat", "sales", 30, "resolved", 5),
        T("v1", "page_view", "purchase", S + 1000),
        T("v1", "conversion", "purchase", S + 1100, value=100.0, outcome="purchase_completed"),
        T("v2", "page_view", "consideration", S + D + 50),
        T("v2", "page_view", "decision", S + D + 500),
        T("v2", "contact", "decision", S + D + 600, "voice", "sales", 200, "abandoned", stage_source="rule"),
        T("v3", "page_view", "awareness", S - 3600),
        T("v3", "page_view", "awareness", S + 2 * D),
        T("v3", "page_view", "consideration", S + 2 * D + 300),
        T(
            "v3",
            "contact",
            "consideration",
            S + 2 * D + 400,
            "chat",
            "support",
            20,
            "resolved",
            2,
            stage_source="inferred",
        ),
        T("v4", "page_view", "awareness", E - 100),
        T("v4", "page_view", "awareness", E + 100),
        T("v4", "page_view", "purchase", E + 50),
        T("v5", "page_view", "decision", S + 5),
        T("v5", "page_view", "purchase", S + 3 * D),
        T("v5", "contact", "purchase", S + 3 * D + 5, "voice", "sales", 90, "follow_up", 4),
        T("v5", "conversion", "purchase", S + 3 * D + 10, value=50.0, outcome="purchase_completed"),
        T("v5", "page_view", "retention", S + 3 * D + 20000),
        T("v6", "page_view", "unknown", S + 100, stage_source="inferred"),
        T("v6", "page_view", "awareness", S + 200),
        T("v6", "offline_message", "awareness", S + 300, "offline", "support", outcome="offline"),
    ]


UTM = {"google": ("google", ""), "newsletter": ("newsletter", ""), "direct": ("", "")}


async def load(url: str, touchpoints: list[T], sources: dict[str, str]) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(Visitor),
                [
                    {
                        "id": vid,
                        "created_at": S - D,
                        "last_seen_at": S,
                        "name": "",
                        "email": "",
                        "first_referrer": "",
                        "first_landing_url": "https://shop.example/",
                        "first_utm_source": UTM[source][0],
                        "first_utm_medium": "",
                        "first_utm_campaign": "",
                        "first_utm_term": "",
                        "first_utm_content": "",
                    }
                    for vid, source in sources.items()
                ],
            )
        for order, t in enumerate(touchpoints, start=1):
            t.order = order
        async with engine.begin() as conn:
            # One executemany: multi-row INSERTs, as the page-view writer does.
            await conn.execute(
                insert(Touchpoint),
                [
                    {
                        "visitor_id": t.visitor,
                        "contact_id": f"c{t.order}" if t.kind in ("contact", "offline_message") else None,
                        "kind": t.kind,
                        "channel": t.channel,
                        "stage": t.stage,
                        "stage_source": t.stage_source,
                        "url": f"https://shop.example/{t.stage}",
                        "title": t.stage.title(),
                        "referrer": "",
                        "utm_source": "",
                        "utm_medium": "",
                        "utm_campaign": "",
                        "started_at": t.at,
                        "queue_id": t.queue,
                        "wait_s": t.wait,
                        "outcome": t.outcome,
                        "csat": t.csat,
                        "value": t.value,
                    }
                    for t in touchpoints
                ],
            )
    finally:
        await engine.dispose()


@pytest.fixture
async def small(database_url: str) -> Any:
    await load(database_url, small_set(), SOURCES)
    engine = create_engine(database_url)
    yield JourneyAnalytics(engine)
    await engine.dispose()


def approx(value: float | None) -> Any:
    return None if value is None else pytest.approx(value)


# --------------------------------------------------------------------------- funnel


async def test_funnel_by_hand(small: JourneyAnalytics) -> None:
    funnel = await small.funnel(Filters(S, E))
    steps = {s.stage: s for s in funnel.steps}
    # First touch per stage inside [S, E) (v3's a at S-3600 and v4's touches after E
    # do not count; v6's unknown page is no stage):
    #   v1 a,c,d,p   v2 c,d   v3 a,c   v4 a   v5 d,p,r   v6 a
    assert [s.visitors for s in funnel.steps] == [4, 3, 3, 2, 1]  # a: v1 v3 v4 v6; c: v1 v2 v3; ...
    # Furthest stage: v1 p, v2 d, v3 c, v4 a, v5 r, v6 a -> reached a..r = 6, 4, 3, 2, 1.
    assert [s.reached for s in funnel.steps] == [6, 4, 3, 2, 1]
    assert [s.step_conversion for s in funnel.steps] == [
        approx(4 / 6),
        approx(3 / 4),
        approx(2 / 3),
        0.5,
        None,
    ]
    assert steps["awareness"].drop_off == pytest.approx(2 / 6)
    assert [s.dropped for s in funnel.steps] == [2, 1, 1, 1, 1]
    # a -> c: v1 100-10 = 90, v3 (S+2D+300)-(S+2D) = 300: mean = median = 195.
    assert (steps["awareness"].timed, steps["awareness"].avg_time_to_next_s) == (2, 195.0)
    assert steps["awareness"].median_time_to_next_s == 195.0
    # c -> d: v1 300, v2 450.  d -> p: v1 600, v5 3D-5.  p -> r: v5 20000.
    assert steps["consideration"].avg_time_to_next_s == pytest.approx(375.0)
    assert steps["decision"].median_time_to_next_s == pytest.approx((600 + 3 * D - 5) / 2)
    assert (steps["purchase"].timed, steps["purchase"].median_time_to_next_s) == (1, pytest.approx(20000.0))
    assert steps["retention"].timed == 0 and steps["retention"].avg_time_to_next_s is None
    # Contacts by stage of origin: a v6 (offline), c v3, d v1 v2, p v5.
    assert [s.contacted for s in funnel.steps] == [1, 1, 2, 1, 0]
    assert [s.contact_rate for s in funnel.steps] == [0.25, approx(1 / 3), approx(2 / 3), 0.5, 0.0]
    assert funnel.overall_conversion == pytest.approx(1 / 6)


async def test_funnel_filters(small: JourneyAnalytics) -> None:
    google = await small.funnel(Filters(S, E, source="google"))
    # v1 (a c d p) and v4 (a).
    assert [s.visitors for s in google.steps] == [2, 1, 1, 1, 0]
    assert [s.reached for s in google.steps] == [2, 1, 1, 1, 0]
    # The queue filter applies to the contacts only: sales contacts are v1 (d), v2 (d), v5 (p).
    sales = await small.funnel(Filters(S, E, queue="sales"))
    assert [s.visitors for s in sales.steps] == [4, 3, 3, 2, 1]
    assert [s.contacted for s in sales.steps] == [0, 0, 2, 1, 0]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (D0, D0 + 5 * D),  # whole days only: all from the rollup
        (S + 50, S + 150),  # inside one day: all from the touchpoints
        (S + 3 * D - 1, E + 200),  # a partial day, a whole day, a partial day
        (0.0, 2e9),
    ],
)
async def test_funnel_matches_reference_on_any_window(
    small: JourneyAnalytics, start: float, end: float
) -> None:
    expected = ref.funnel(small_set(), start, end, SOURCES, None)
    funnel = await small.funnel(Filters(start, end))
    assert [s.visitors for s in funnel.steps] == expected["visitors"]
    assert [s.reached for s in funnel.steps] == expected["reached"]
    for step, want in zip(funnel.steps, expected["steps"], strict=False):
        assert (step.timed, step.avg_time_to_next_s, step.median_time_to_next_s) == (
            want["timed"],
            approx(want["avg"]),
            approx(want["median"]),
        )


# --------------------------------------------------------------------------- journey map


async def test_journey_map_by_hand(small: JourneyAnalytics) -> None:
    rules = js.BottleneckRules(min_volume=1, min_rated=1)
    grid = await small.journey_map(Filters(S, E), rules)
    cells = {(c.stage, c.channel): c for c in grid.cells}
    assert set(cells) == {
        ("awareness", "offline"),
        ("consideration", "chat"),
        ("decision", "chat"),
        ("decision", "voice"),
        ("purchase", "voice"),
    }
    assert grid.stages == ["awareness", "consideration", "decision", "purchase", "retention"]
    assert grid.channels == ["chat", "voice", "offline"]
    offline = cells[("awareness", "offline")]
    assert (offline.volume, offline.queued, offline.abandonment_rate, offline.avg_wait_s, offline.csat) == (
        1,
        0,
        None,
        None,
        None,
    )
    assert offline.conversion_rate == 0.0
    chat_c = cells[("consideration", "chat")]  # v3: wait 20, rated 2
    assert (chat_c.avg_wait_s, chat_c.csat, chat_c.rated, chat_c.conversion_rate) == (20.0, 0.0, 1, 0.0)
    chat_d = cells[("decision", "chat")]  # v1: wait 30, rated 5, bought 600 s later
    assert (chat_d.answered, chat_d.csat, chat_d.converted, chat_d.conversion_rate) == (1, 1.0, 1, 1.0)
    voice_d = cells[("decision", "voice")]  # v2: abandoned after 200 s
    assert (voice_d.abandoned, voice_d.abandonment_rate, voice_d.avg_wait_s, voice_d.answered) == (
        1,
        1.0,
        200.0,
        0,
    )
    voice_p = cells[("purchase", "voice")]  # v5: wait 90, rated 4, bought 5 s later
    assert (voice_p.avg_wait_s, voice_p.csat, voice_p.conversion_rate) == (90.0, 1.0, 1.0)
    totals = {t.stage: t for t in grid.stage_totals}
    # Decision: 2 contacts, 1 abandoned of 2 queued, waits 30 and 200, 1 of 2 converted.
    assert (totals["decision"].volume, totals["decision"].abandonment_rate) == (2, 0.5)
    assert (totals["decision"].avg_wait_s, totals["decision"].conversion_rate) == (115.0, 0.5)
    assert totals["retention"].volume == 0 and totals["retention"].conversion_rate is None

    # Bottlenecks (every cell has the minimum volume of 1 here):
    #  decision x voice: abandonment 100% > 15% -> (1 - 0.15) / 0.15 = 5.667; wait 200 > 60
    #    -> 140 / 60 = 2.333; conversion 0 < 0.75 x 50% -> 1.0; score 1 x 9.0.
    #  consideration x chat: CSAT 0 < 70% -> 1.0 (its stage converts 0%: no conversion rule).
    #  purchase x voice: wait 90 > 60 -> 0.5.
    assert [(b.stage, b.channel) for b in grid.bottlenecks] == [
        ("decision", "voice"),
        ("consideration", "chat"),
        ("purchase", "voice"),
    ]
    assert [b.score for b in grid.bottlenecks] == [pytest.approx(9.0), pytest.approx(1.0), pytest.approx(0.5)]
    worst = grid.bottlenecks[0]
    assert worst.rules == ["abandonment", "wait", "conversion"]
    assert worst.reasons[0] == "abandonment 100% > 15% (1 of 1 contacts left the queue)"
    assert worst.reasons[1] == "average wait 200 s > 60 s"
    assert worst.reasons[2].startswith("conversion after contact 0% < 38%")
    assert grid.bottlenecks[1].reasons == ["CSAT 0% < 70% (0 of 1 ratings were 4-5)"]

    # With the default minimum volume (20) nothing in this small set qualifies.
    assert (await small.journey_map(Filters(S, E))).bottlenecks == []


async def test_journey_map_matches_reference_with_filters(small: JourneyAnalytics) -> None:
    for queue in (None, "sales", "support"):
        grid = await small.journey_map(Filters(S, E, queue=queue), conversion_window_s=WEEK)
        expected = ref.grid(small_set(), S, E, WEEK, queue)
        assert {(c.stage, c.channel) for c in grid.cells} == set(expected)
        for cell in grid.cells:
            want = expected[(cell.stage, cell.channel)]
            for name, value in want.items():
                assert getattr(cell, name) == (approx(value) if isinstance(value, float) else value), name
    # The conversion window: v1 bought 600 s after its chat, v5 5 s after its call.
    short = await small.journey_map(Filters(S, E), conversion_window_s=100)
    assert {(c.stage, c.channel): c.converted for c in short.cells}[("decision", "chat")] == 0
    assert {(c.stage, c.channel): c.converted for c in short.cells}[("purchase", "voice")] == 1


async def test_origins(small: JourneyAnalytics) -> None:
    origins = await small.origins(Filters(S, E))
    rows = {(r.stage, r.channel): (r.contacts, r.declared, r.rule, r.inferred) for r in origins.rows}
    assert rows == {
        ("awareness", "offline"): (1, 1, 0, 0),
        ("consideration", "chat"): (1, 0, 0, 1),
        ("decision", "chat"): (1, 1, 0, 0),
        ("decision", "voice"): (1, 0, 1, 0),
        ("purchase", "voice"): (1, 1, 0, 0),
    }
    assert origins.total == 5


# --------------------------------------------------------------------------- attribution


async def test_attribution_by_hand(small: JourneyAnalytics) -> None:
    result = await small.attribution(Filters(S, E))
    # v1's conversion (100): path a, c, d, chat(d), p -> first web/a, last web/p, 1/5 each.
    # v5's conversion (50): path d, p, voice(p) (its later r page does not count) ->
    # first web/d, last voice/p, 1/3 each.
    assert (result.conversions, result.value, result.attributed, result.unattributed) == (2, 150.0, 2, 0)
    got = {
        (r.channel, r.stage): (r.first_touch, r.first_touch_value, r.last_touch, r.last_touch_value, r.linear)
        for r in result.rows
    }
    assert got == {
        ("web", "awareness"): (1.0, 100.0, 0.0, 0.0, pytest.approx(0.2)),
        ("web", "consideration"): (0.0, 0.0, 0.0, 0.0, pytest.approx(0.2)),
        ("web", "decision"): (1.0, 50.0, 0.0, 0.0, pytest.approx(0.2 + 1 / 3)),
        ("chat", "decision"): (0.0, 0.0, 0.0, 0.0, pytest.approx(0.2)),
        ("web", "purchase"): (0.0, 0.0, 1.0, 100.0, pytest.approx(0.2 + 1 / 3)),
        ("voice", "purchase"): (0.0, 0.0, 1.0, 50.0, pytest.approx(1 / 3)),
    }
    linear_value = {(r.channel, r.stage): r.linear_value for r in result.rows}
    assert linear_value[("web", "decision")] == pytest.approx(20 + 50 / 3)
    assert sum(r.linear for r in result.rows) == pytest.approx(2.0)
    assert sum(r.linear_value for r in result.rows) == pytest.approx(150.0)
    assert [(s.source, s.conversions, s.value) for s in result.sources] == [
        ("direct", 1, 50.0),
        ("google", 1, 100.0),
    ]
    # A lookback of 200 s leaves v1's path with d (S+400) .. p and v5's with p, voice.
    short = await small.attribution(Filters(S, E), lookback_s=700)
    expected = ref.attribution(small_set(), S, E, 700)
    assert {(r.channel, r.stage): r.linear for r in short.rows} == {
        key: pytest.approx(value[4]) for key, value in expected["credit"].items()
    }


# --------------------------------------------------------------------------- timeline


async def test_timeline(small: JourneyAnalytics) -> None:
    journey = await small.timeline("v1")
    assert [i.kind for i in journey.items] == [
        "page_view",
        "page_view",
        "page_view",
        "contact",
        "page_view",
        "conversion",
    ]
    assert [i.at for i in journey.items] == sorted(i.at for i in journey.items)
    assert (journey.page_views, journey.contacts, journey.conversions, journey.conversion_value) == (
        4,
        1,
        1,
        100.0,
    )
    assert journey.visitor is not None and journey.visitor.first_source == "google"
    assert not journey.truncated
    latest = await small.timeline("v1", limit=2)
    assert latest.truncated and [i.kind for i in latest.items] == ["page_view", "conversion"]
    assert (await small.timeline("nobody")).items == []


# --------------------------------------------------------------------------- random data


def random_set(seed: int) -> tuple[list[T], dict[str, str]]:
    rng = random.Random(seed)
    stages = [*ref.STAGES, "unknown"]
    sources = {f"r{i}": rng.choice(["google", "newsletter", "direct"]) for i in range(60)}
    out: list[T] = []
    for visitor in sources:
        t = S - D + rng.uniform(0, D)
        for _ in range(rng.randint(1, 12)):
            t += rng.choice([5.0, 60.0, 600.0, 3600.0, D / 2])
            stage = rng.choice(stages)
            kind = rng.choices(["page_view", "contact", "offline_message", "conversion"], [70, 15, 5, 10])[0]
            if kind == "conversion":
                out.append(T(visitor, kind, "purchase", t, value=float(rng.randint(1, 9) * 10)))
            elif kind == "offline_message":
                out.append(
                    T(visitor, kind, stage, t, "offline", rng.choice(["sales", "support"]), outcome="offline")
                )
            elif kind == "contact":
                abandoned = rng.random() < 0.3
                out.append(
                    T(
                        visitor,
                        kind,
                        stage,
                        t,
                        rng.choice(["chat", "voice", "video"]),
                        rng.choice(["sales", "support"]),
                        rng.choice([None, 5.0, 40.0, 300.0]),
                        "abandoned" if abandoned else rng.choice(["", "answered", "resolved"]),
                        None if abandoned else rng.choice([None, 1, 2, 3, 4, 5]),
                    )
                )
            else:
                out.append(T(visitor, kind, stage, t))
    return out, sources


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_data_matches_reference(database_url: str, seed: int) -> None:
    touchpoints, sources = random_set(seed)
    await load(database_url, touchpoints, sources)
    engine = create_engine(database_url)
    analytics = JourneyAnalytics(engine)
    try:
        for start, end, source in ((S - D, E, None), (S, S + D + 1234, None), (S - D, E, "google")):
            expected = ref.funnel(touchpoints, start, end, sources, source)
            funnel = await analytics.funnel(Filters(start, end, source=source))
            assert [s.visitors for s in funnel.steps] == expected["visitors"]
            assert [s.reached for s in funnel.steps] == expected["reached"]
            assert [s.contacted for s in funnel.steps] == expected["contacted"]
            for step, want in zip(funnel.steps, expected["steps"], strict=False):
                assert step.timed == want["timed"]
                assert step.avg_time_to_next_s == approx(want["avg"])
                assert step.median_time_to_next_s == approx(want["median"])
            grid = await analytics.journey_map(Filters(start, end), conversion_window_s=D)
            want_grid = ref.grid(touchpoints, start, end, D)
            assert {(c.stage, c.channel) for c in grid.cells} == set(want_grid)
            for cell in grid.cells:
                for name, value in want_grid[(cell.stage, cell.channel)].items():
                    assert getattr(cell, name) == (approx(value) if isinstance(value, float) else value), name
            result = await analytics.attribution(Filters(start, end), lookback_s=D)
            want_attr = ref.attribution(touchpoints, start, end, D)
            assert (result.conversions, result.unattributed) == (
                want_attr["conversions"],
                want_attr["unattributed"],
            )
            got = {
                (r.channel, r.stage): [
                    r.first_touch,
                    r.first_touch_value,
                    r.last_touch,
                    r.last_touch_value,
                    r.linear,
                    r.linear_value,
                ]
                for r in result.rows
            }
            assert got == {k: [pytest.approx(x) for x in v] for k, v in want_attr["credit"].items()}
    finally:
        await engine.dispose()
