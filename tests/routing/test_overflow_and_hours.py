"""Max-wait overflow, business hours in the engine, queue removal."""

from __future__ import annotations

from routing.events import (
    Assigned,
    BusinessHours,
    ContactOverflowed,
    ContactQueued,
    OfferAccepted,
    OfferDeclined,
    OfferMade,
    OfferRevoked,
    OpeningSpan,
    QueueConfig,
    QueueRemoved,
    QueueUpserted,
)
from tests.routing.desk import T0, Desk, offered, only

# T0 is Monday 2024-01-01 12:00 UTC.
WEEKDAYS_9_TO_17 = BusinessHours("UTC", tuple(OpeningSpan(d, "09:00", "17:00") for d in range(5)))


def test_max_wait_overflows_to_another_queue_keeping_enqueued_at() -> None:
    desk = Desk(
        QueueConfig("front", max_wait_s=60, overflow_to="backup"),
        QueueConfig("backup", max_wait_s=30),
    )
    desk.arrive("c1", "front")
    out = desk.tick(500)  # one late tick: both overflows happen at their deadlines
    assert out[:3] == [
        ContactOverflowed("c1", "front", "backup", "max_wait"),
        ContactQueued("c1", "backup", 1),
        ContactOverflowed("c1", "backup", None, "max_wait"),
    ]
    assert desk.engine.contact_view("c1") is None


def test_overflowed_contact_keeps_its_place_by_enqueue_time() -> None:
    desk = Desk(
        QueueConfig("front", max_wait_s=60, overflow_to="backup"),
        QueueConfig("backup"),
    )
    desk.arrive("old", "front")
    desk.wait(30)
    desk.arrive("mid", "backup")
    desk.wait(40)
    desk.tick()
    assert [w.contact_id for w in desk.engine.waiting("backup")] == ["old", "mid"]
    old = desk.engine.contact_view("old")
    assert old is not None and old.enqueued_at == T0 and old.queue_id == "backup"
    desk.agent("a")
    assert only(desk.decisions, OfferMade)[0].contact_id == "old"


def test_max_wait_to_the_offline_form() -> None:
    desk = Desk(QueueConfig("q", max_wait_s=45))
    desk.arrive("c1")
    assert only(desk.tick(44), ContactOverflowed) == []
    out = desk.tick(1)
    assert ContactOverflowed("c1", "q", None, "max_wait") in out


def test_max_wait_waits_for_an_outstanding_offer() -> None:
    desk = Desk(QueueConfig("q", max_wait_s=10, offer_timeout_s=20, overflow_to=None))
    desk.agent("a1")
    desk.arrive("c1")
    desk.wait(15)
    out = desk.do(OfferAccepted(desk.t, "c1", "a1"))
    assert only(out, Assigned)  # the offer was not pulled at the max wait
    desk.arrive("c2")
    desk.agent("a2")
    desk.wait(5)
    desk.agent("a3")
    desk.wait(10)
    out = desk.do(OfferDeclined(desk.t, "c2", only(desk.decisions, OfferMade)[-1].agent_id))
    # Declined after its max wait: it overflows instead of going to the next agent.
    assert ContactOverflowed("c2", "q", None, "max_wait") in out
    assert only(out, OfferMade) == []


def test_overflow_loops_end_at_the_offline_form() -> None:
    desk = Desk(
        QueueConfig("a", max_wait_s=0, overflow_to="b"),
        QueueConfig("b", max_wait_s=0, overflow_to="a"),
    )
    out = desk.arrive("c1", "a")
    assert [d.to_queue for d in only(out, ContactOverflowed)][-1] is None
    assert len(out) < 10


def test_arrival_while_closed_overflows_with_next_open() -> None:
    desk = Desk(QueueConfig("q", hours=WEEKDAYS_9_TO_17, overflow_to=None))
    desk.wait(6 * 3600)  # Monday 18:00
    out = desk.arrive("c1")
    tuesday_9 = T0 + 21 * 3600
    assert out == [ContactOverflowed("c1", "q", None, "closed", next_open=tuesday_9)]
    assert not desk.engine.is_open("q", desk.t)
    assert desk.engine.next_open("q", desk.t) == tuesday_9
    assert desk.engine.is_open("q", tuesday_9)


def test_closing_time_overflows_waiting_contacts() -> None:
    desk = Desk(
        QueueConfig("q", hours=WEEKDAYS_9_TO_17, overflow_to="night"),
        QueueConfig("night"),
    )
    desk.wait(4 * 3600 + 59 * 60)  # 16:59
    desk.arrive("c1")
    desk.arrive("c2")
    out = desk.tick(3600)  # ticked late: still closes at 17:00
    closes = T0 + 5 * 3600
    assert only(out, ContactOverflowed) == [
        ContactOverflowed("c1", "q", "night", "closed", next_open=closes + 16 * 3600),
        ContactOverflowed("c2", "q", "night", "closed", next_open=closes + 16 * 3600),
    ]
    assert [w.contact_id for w in desk.engine.waiting("night")] == ["c1", "c2"]


def test_closing_lets_an_outstanding_offer_finish() -> None:
    desk = Desk(QueueConfig("q", hours=WEEKDAYS_9_TO_17))
    desk.wait(5 * 3600 - 5)  # 16:59:55
    desk.agent("a1")
    desk.agent("a2")
    desk.arrive("c1")
    desk.wait(10)
    desk.tick()
    assert only(desk.decisions, ContactOverflowed) == []
    out = desk.do(OfferDeclined(desk.t, "c1", "a1"))
    assert out[0] == OfferRevoked("c1", "a1", "declined")
    assert only(out, ContactOverflowed)[0].reason == "closed"
    assert only(out, OfferMade) == []


def test_queue_opens_on_time() -> None:
    desk = Desk(QueueConfig("q", hours=WEEKDAYS_9_TO_17))
    desk.wait(6 * 3600)
    desk.tick(15 * 3600)  # Tuesday 09:00 exactly
    out = desk.arrive("c1")
    assert out == [ContactQueued("c1", "q", 1)]


def test_changing_hours_closes_a_queue_at_once() -> None:
    desk = Desk(QueueConfig("q"))
    desk.arrive("c1")
    out = desk.do(QueueUpserted(desk.t, QueueConfig("q", hours=BusinessHours("UTC", ()))))
    assert only(out, ContactOverflowed) == [ContactOverflowed("c1", "q", None, "closed", next_open=None)]


def test_queue_removed_overflows_its_contacts() -> None:
    desk = Desk(QueueConfig("q", overflow_to="other"), QueueConfig("other"))
    desk.agent("a1", queues=("q",))
    desk.arrive("c1")
    desk.arrive("c2", priority=-1)
    out = desk.do(QueueRemoved(desk.t, "q"))
    assert out[0] == OfferRevoked("c1", "a1", "queue_removed")
    assert only(out, ContactOverflowed) == [
        ContactOverflowed("c1", "q", "other", "queue_removed"),
        ContactOverflowed("c2", "q", "other", "queue_removed"),
    ]
    assert offered(out) == []  # a1 does not serve "other"


def test_arrival_in_an_unknown_queue_goes_to_the_offline_form() -> None:
    desk = Desk()
    assert desk.arrive("c1", "nowhere") == [ContactOverflowed("c1", "nowhere", None, "unknown_queue")]


def test_closing_and_next_open_follow_daylight_saving() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    hours = BusinessHours("America/New_York", tuple(OpeningSpan(d, "09:00", "17:00") for d in range(7)))
    desk = Desk()
    desk.t = datetime(2024, 3, 9, 16, 59, tzinfo=ny).timestamp()  # Saturday, EST
    desk.do(QueueUpserted(desk.t, QueueConfig("q", hours=hours)))
    desk.arrive("c1")
    out = desk.tick(3 * 3600)
    sunday_9_edt = datetime(2024, 3, 10, 13, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    assert only(out, ContactOverflowed) == [
        ContactOverflowed("c1", "q", None, "closed", next_open=sunday_9_edt)
    ]
    assert not desk.engine.is_open("q", sunday_9_edt - 1)
    assert desk.engine.is_open("q", sunday_9_edt)


def test_an_overflowed_contact_takes_on_the_new_queues_skills() -> None:
    """Returns need the "returns" skill; after a minute they overflow to the general
    queue, whose agents lack it: they must still be served there."""
    desk = Desk(
        QueueConfig("returns", max_wait_s=60, overflow_to="general", skills=("returns",)),
        QueueConfig("general"),
    )
    desk.agent("generalist", skills={"sales": 3})
    desk.arrive("c1", "returns", skills=("returns",))
    assert offered(desk.decisions) == []  # nobody here can take returns
    out = desk.tick(61)
    assert ContactOverflowed("c1", "returns", "general", "max_wait") in out
    assert offered(out) == [("c1", "generalist")]
