"""Reports: local-time bucketing across DST changes and day boundaries, KPIs per
bucket and cut (by hand), agreement with the live aggregator, and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from dashboard.aggregator import KpiAggregator
from dashboard.reports import COLUMNS, ContactRecord, buckets, report, to_csv
from tests.dashboard.scenario import NOW, T0, events, t

NY = ZoneInfo("America/New_York")
approx = pytest.approx


def utc(year: int, month: int, day: int, hour: int, minute: int) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


def rec(enqueued_at: float, **kw: object) -> ContactRecord:
    base: dict[str, object] = {"queue": "sales", "channel": "chat", "stage": "decision"}
    return ContactRecord(enqueued_at=enqueued_at, **(base | kw))  # type: ignore[arg-type]


def test_hour_buckets_across_fall_back() -> None:
    # 2024-11-03, New York: 02:00 EDT falls back to 01:00 EST; 01:xx happens twice.
    start = datetime(2024, 11, 3, 0, 0, tzinfo=NY)  # 04:00 UTC
    end = datetime(2024, 11, 3, 3, 0, tzinfo=NY)  # 08:00 UTC: four real hours
    starts = [b.isoformat() for b in buckets(start, end, "hour", NY)]
    assert starts == [
        "2024-11-03T00:00:00-04:00",
        "2024-11-03T01:00:00-04:00",
        "2024-11-03T01:00:00-05:00",
        "2024-11-03T02:00:00-05:00",
    ]
    first_0130 = utc(2024, 11, 3, 5, 30)  # 01:30 EDT
    second_0130 = utc(2024, 11, 3, 6, 30)  # 01:30 EST
    rows = report(
        [rec(first_0130), rec(second_0130), rec(second_0130 + 60)],
        start=start,
        end=end,
        interval="hour",
        tz=NY,
    )
    assert [(r["interval_start"], r["queued"]) for r in rows] == [
        ("2024-11-03T00:00:00-04:00", 0),
        ("2024-11-03T01:00:00-04:00", 1),
        ("2024-11-03T01:00:00-05:00", 2),
        ("2024-11-03T02:00:00-05:00", 0),
    ]
    assert rows[1]["interval_end"] == "2024-11-03T01:00:00-05:00"


def test_quarter_hours_across_spring_forward() -> None:
    # 2024-03-10, New York: 02:00 EST jumps to 03:00 EDT.
    start = datetime(2024, 3, 10, 1, 30, tzinfo=NY)
    end = datetime(2024, 3, 10, 3, 30, tzinfo=NY)  # one real hour later
    starts = [b.strftime("%H:%M%z") for b in buckets(start, end, "15min", NY)]
    assert starts == ["01:30-0500", "01:45-0500", "03:00-0400", "03:15-0400"]
    # 01:59:59 EST and 03:00:00 EDT are one second apart, in adjacent buckets.
    just_before = utc(2024, 3, 10, 6, 59) + 59
    rows = report([rec(just_before), rec(just_before + 1)], start=start, end=end, interval="15min", tz=NY)
    assert [r["queued"] for r in rows] == [0, 1, 1, 0]


def test_day_buckets_are_local_days_of_23_and_25_hours() -> None:
    start = datetime(2024, 11, 2, tzinfo=NY)
    end = datetime(2024, 11, 5, tzinfo=NY)
    days = buckets(start, end, "day", NY)
    lengths = [(b2.timestamp() - b1.timestamp()) / 3600 for b1, b2 in pairwise(days)]
    assert [d.date().isoformat() for d in days] == ["2024-11-02", "2024-11-03", "2024-11-04"]
    assert lengths == [24, 25]  # 11-03 is 25 hours long
    spring = buckets(datetime(2024, 3, 10, tzinfo=NY), datetime(2024, 3, 12, tzinfo=NY), "day", NY)
    assert (spring[1].timestamp() - spring[0].timestamp()) / 3600 == 23
    # 23:30 EST on 11-03 is 04:30 UTC on 11-04: it belongs to local 11-03.
    late = utc(2024, 11, 4, 4, 30)
    early_next = utc(2024, 11, 4, 5, 10)  # 00:10 EST 11-04
    rows = report([rec(late), rec(early_next)], start=start, end=end, interval="day", tz=NY)
    assert [(r["interval_start"][:10], r["queued"]) for r in rows] == [
        ("2024-11-02", 0),
        ("2024-11-03", 1),
        ("2024-11-04", 1),
    ]


def test_range_is_half_open_and_needs_aware_datetimes() -> None:
    start = datetime(2024, 6, 1, tzinfo=UTC)
    end = start + timedelta(hours=1)
    records = [rec(start.timestamp()), rec(end.timestamp()), rec(start.timestamp() - 1)]
    rows = report(records, start=start, end=end, interval="hour", tz=UTC)
    assert [r["queued"] for r in rows] == [1]
    with pytest.raises(ValueError):
        report([], start=datetime(2024, 6, 1), end=end, interval="hour", tz=UTC)


def test_kpis_per_interval_and_cuts() -> None:
    h = datetime(2024, 6, 3, 9, 0, tzinfo=NY)
    s = h.timestamp()
    records = [
        # 09:xx: answered in 20 (= T, counts), talk 100 - 20 - 10 hold = 70, wrap 15
        rec(
            s,
            agent="a1",
            answered_at=s + 20,
            ended_at=s + 100,
            hold_s=10,
            wrap_up_s=15,
            csat=5,
            first_response_s=4,
        ),
        # answered in 40 (> T), talk 60, no wrap-up recorded
        rec(
            s + 60,
            queue="support",
            stage="purchase",
            agent="a2",
            answered_at=s + 100,
            ended_at=s + 160,
            csat=2,
            first_response_s=10,
        ),
        rec(s + 120, abandoned_at=s + 125),  # short abandon (exactly 5 s)
        rec(s + 180, abandoned_at=s + 240),  # abandon after 60 s
        # 10:xx: one contact answered after 5 s, still talking
        rec(s + 3600, agent="a1", answered_at=s + 3605, stage="weird"),
    ]
    end = h + timedelta(hours=2)
    rows = report(records, start=h, end=end, interval="hour", tz=NY)
    nine, ten = rows
    assert (nine["queued"], nine["answered"], nine["abandoned"], nine["short_abandons"]) == (
        4,
        2,
        2,
        1,
    )
    assert nine["asa_s"] == (20 + 40) / 2
    assert nine["service_level"] == approx(1 / (2 + 2 - 1))
    assert nine["abandonment_rate"] == 2 / 4
    assert nine["handled"] == 2
    assert nine["aht_s"] == approx((70 + 10 + 15 + 60) / 2)
    assert nine["avg_hold_s"] == 5
    assert nine["csat"] == 1 / 2
    assert nine["first_response_median_s"] == 7
    assert ten["queued"] == 1 and ten["handled"] == 0 and ten["aht_s"] is None
    assert ten["service_level"] == 1.0

    by_queue = report(records, start=h, end=end, interval="hour", tz=NY, by="queue")
    assert [(r["interval_start"][11:16], r["key"], r["queued"]) for r in by_queue] == [
        ("09:00", "sales", 3),
        ("09:00", "support", 1),
        ("10:00", "sales", 1),
    ]
    by_agent = report(records, start=h, end=end, interval="day", tz=NY, by="agent")
    assert [(r["key"], r["answered"], r["asa_s"]) for r in by_agent] == [
        ("a1", 2, (20 + 5) / 2),
        ("a2", 1, 40),
    ]
    by_stage = report(records, start=h, end=end, interval="day", tz=NY, by="stage")
    assert [(r["key"], r["queued"]) for r in by_stage] == [
        ("decision", 3),
        ("purchase", 1),
        ("unknown", 1),
    ]


def test_from_mapping_accepts_sql_rows() -> None:
    row = {
        "id": 7,
        "queue": "sales",
        "channel": "voice",
        "stage": "decision",
        "enqueued_at": datetime(2024, 6, 1, 12, 0, tzinfo=UTC),
        "answered_at": datetime(2024, 6, 1, 12, 0, 30, tzinfo=UTC),
        "hold_s": None,
        "sl_target_s": None,
    }
    record = ContactRecord.from_mapping(row)
    assert record.answered_at is not None
    assert record.answered_at - record.enqueued_at == 30
    assert (record.hold_s, record.sl_target_s) == (0.0, 20.0)
    with pytest.raises(ValueError):
        ContactRecord.from_mapping(row | {"ended_at": datetime(2024, 6, 1, 12, 5)})


def test_reports_agree_with_the_live_aggregator() -> None:
    # The scripted day as stored records (see tests/dashboard/scenario.py).
    def r(cid: str, q: str, ch: str, st: str, enq: float, **kw: object) -> ContactRecord:
        target = 20.0 if q == "sales" else 30.0
        return ContactRecord(q, ch, st, t(enq), sl_target_s=target, **kw)  # type: ignore[arg-type]

    records = [
        r(
            "c1",
            "sales",
            "voice",
            "decision",
            10,
            agent="a1",
            answered_at=t(30),
            ended_at=t(130),
            hold_s=30,
            wrap_up_s=15,
            csat=5,
        ),
        r("c2", "sales", "voice", "awareness", 40, abandoned_at=t(45)),
        r("c3", "sales", "chat", "consideration", 50, abandoned_at=t(80)),
        r(
            "c4",
            "support",
            "chat",
            "consideration",
            100,
            agent="a2",
            answered_at=t(140),
            ended_at=t(300),
            wrap_up_s=10,
            csat=3,
            first_response_s=12,
        ),
        r(
            "c5",
            "support",
            "chat",
            "purchase",
            150,
            agent="a2",
            answered_at=t(160),
            ended_at=t(400),
            wrap_up_s=20,
            csat=4,
            first_response_s=30,
        ),
        r(
            "c9",
            "support",
            "chat",
            "awareness",
            170,
            agent="a2",
            answered_at=t(175),
            ended_at=t(260),
            wrap_up_s=50,
            first_response_s=5,
        ),
        r("c6", "sales", "voice", "retention", 200),
        r("c7", "support", "chat", "foo", 250),
        r("c8", "sales", "video", "decision", 260, agent="a1", answered_at=t(270)),
    ]
    agg = KpiAggregator(T0)
    agg.ingest_many(events())
    live = agg.snapshot(NOW)["totals"]
    day = datetime.fromtimestamp(T0, NY).replace(hour=0, minute=0, second=0, microsecond=0)
    (row,) = report(records, start=day, end=day + timedelta(days=1), interval="day", tz=NY)
    for name in (
        "asa_s",
        "service_level",
        "abandonment_rate",
        "aht_s",
        "csat",
        "first_response_median_s",
        "first_response_p90_s",
    ):
        assert row[name] == approx(live[name]["value"]), name  # type: ignore[literal-required]
    assert (row["queued"], row["answered"], row["handled"]) == (9, 5, 4)


def test_csv() -> None:
    h = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
    s = h.timestamp()
    rows = report(
        [rec(s, agent="a1", answered_at=s + 10, ended_at=s + 70, csat=4)],
        start=h,
        end=h + timedelta(hours=2),
        interval="hour",
        tz=UTC,
    )
    text = to_csv(rows)
    lines = text.split("\r\n")
    assert lines[0] == ",".join(COLUMNS)
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == 2
    first, empty = parsed
    assert first["interval_start"] == "2024-06-03T09:00:00+00:00"
    assert (first["queued"], first["asa_s"], first["service_level"]) == ("1", "10.0", "1.0")
    assert first["aht_s"] == "60.0"
    assert empty["queued"] == "0" and empty["asa_s"] == ""  # None -> empty cell
    assert to_csv([]) == ",".join(COLUMNS) + "\r\n"
