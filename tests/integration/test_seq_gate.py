"""The per-socket seq gate (contact_center.gateway.ordering): whatever order and
repetition the bus delivers in, a socket gets each event once, in seq order, and its
own messages are not sent back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from contact_center.gateway.ordering import SeqGate


def test_early_events_wait_for_the_missing_one() -> None:
    gate = SeqGate()
    gate.start("c", 2)
    assert gate.offer("c", 4, b"4") == []
    assert gate.gap("c") == 2
    assert gate.offer("c", 3, b"3") == [b"3", b"4"]
    assert gate.gap("c") is None
    assert gate.offer("c", 3, b"3") == [] and gate.offer("c", 1, b"1") == [], "already sent"


def test_own_messages_fill_the_sequence_without_being_sent() -> None:
    gate = SeqGate()
    gate.start("c", 0)
    assert gate.offer("c", 2, b"2") == []
    assert gate.own("c", 1) == [b"2"]
    assert gate.offer("c", 1, b"echo") == [], "the echo of one's own message"
    assert gate.own("c", 3) == [] and gate.offer("c", 3, b"3") == []
    assert gate.offer("c", 4, b"4") == [b"4"]


def test_a_seq_that_never_comes_is_skipped_on_request() -> None:
    gate = SeqGate()
    gate.start("c", 0)
    gate.offer("c", 3, b"3")
    gate.offer("c", 5, b"5")
    assert gate.skip_gap("c") == [b"3"]
    assert gate.gap("c") == 3
    assert gate.skip_gap("c") == [b"5"] and gate.gap("c") is None


def test_a_later_replay_moves_the_start_and_untracked_passes() -> None:
    gate = SeqGate()
    assert gate.offer("x", 9, b"9") == [b"9"], "not followed: as before"
    gate.start("c", 1)
    gate.offer("c", 4, b"4")
    gate.start("c", 5)  # a replay sent up to 5
    assert gate.sent_up_to("c") == 5 and gate.gap("c") is None
    assert gate.offer("c", 6, b"6") == [b"6"]
    gate.stop("c")
    assert not gate.tracks("c") and gate.sent_up_to("c") == 6, "remembered for a later replay"
    gate.start("c", 0)
    assert gate.sent_up_to("c") == 6 and gate.offer("c", 5, b"5") == []


@given(
    st.integers(0, 5),
    st.lists(st.integers(1, 30), min_size=1, max_size=80),
    st.sets(st.integers(1, 30), max_size=10),
)
def test_any_delivery_order_comes_out_in_order_once(start: int, arrivals: list[int], own: set[int]) -> None:
    gate = SeqGate()
    gate.start("c", start)
    sent: list[int] = []
    for seq in arrivals:
        if seq in own:
            sent += [int(p) for p in gate.own("c", seq)]
        sent += [int(p) for p in gate.offer("c", seq, str(seq).encode())]
    assert sent == sorted(set(sent)), "in order, each once"
    assert not (set(sent) & own), "own messages are not sent back"
    assert all(s > start for s in sent)
    arrived = {s for s in arrivals if s > start} | {s for s in own if s > start and s in arrivals}
    expected = []
    n = start + 1
    while n in arrived:
        if n not in own:
            expected.append(n)
        n += 1
    assert sent == expected, "everything up to the first missing seq, nothing after it"
