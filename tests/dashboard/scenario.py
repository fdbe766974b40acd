"""A scripted day with known timings, shared by the aggregator and metrics tests.

Times are seconds after T0 (``t(x)``); the snapshot is taken at ``NOW = t(500)``.

Agents
  a1  voice, serves sales, 1 slot.   available 0, busy 30, wrap_up 130, available 145,
      busy 270 (still busy at 500).
  a2  chat, serves support, 3 slots, available all along; its load goes
      0 -> 1 (140) -> 2 (160) -> 3 (175) -> 2 (260) -> 1 (300) -> 0 (400).
  a3  serves both, 2 slots; available 0, away 200.  Lets three offers expire.

Contacts (queue, channel, stage; T = 20 s for sales, 30 s for support)
  c1 sales voice decision: queued 10, offer a1 20 -> accepted 30, answered 30
     (wait 20 = T exactly), hold 60-90, call samples 40/50/55, ended 130,
     wrap-up ended 145, CSAT 5.
  c2 sales voice awareness: queued 40, abandoned 45 (wait 5: a short abandon).
  c3 sales chat consideration: queued 50, abandoned 80 (wait 30).
  c4 support chat consideration: queued 100; offers to a3 expire at 111, 122, 133;
     offer a2 134 declined 136; offer a2 137 accepted 140; answered 140 (wait 40);
     agent message 152 (first response 12); ended 300; WrapUpEnded(a2, None) 310;
     CSAT 3.
  c5 support chat purchase: queued 150, answered a2 160 (wait 10), agent message 190
     (first response 30), ended 400, wrap-up ended 420, CSAT 4.
  c9 support chat awareness: queued 170, answered a2 175 (wait 5), agent message 180
     (first response 5), ended 260; its wrap-up is closed by WrapUpEnded(a2, None)
     at 310.
  c6 sales voice retention: queued 200, still waiting.
  c7 support chat stage "foo" (read as unknown): queued 250, still waiting.
  c8 sales video decision: queued 260, answered a1 270 (wait 10), call samples
     280 (4.1) and 290 (2.9, low_mos); still talking at 500.
"""

from __future__ import annotations

from dashboard.events import (
    AgentLoadChanged,
    AgentStateChanged,
    CallQualitySampled,
    ContactAbandoned,
    ContactAnswered,
    ContactEnded,
    ContactQueued,
    CsatRated,
    DomainEvent,
    HoldChanged,
    MessageSent,
    OfferAnswered,
    OfferMade,
    WrapUpEnded,
)

T0 = 1_700_000_000.0


def t(x: float) -> float:
    return T0 + x


NOW = t(500)


def queued(x: float, cid: str, queue: str, channel: str, stage: str) -> ContactQueued:
    target = 20.0 if queue == "sales" else 30.0
    return ContactQueued(t(x), cid, queue, channel, stage, enqueued_at=t(x), sl_target_s=target)


def events() -> list[DomainEvent]:
    return [
        AgentStateChanged(t(0), "a1", "available", queues=("sales",)),
        AgentLoadChanged(t(0), "a1", 0, 1),
        AgentStateChanged(t(0), "a2", "available", queues=("support",)),
        AgentLoadChanged(t(0), "a2", 0, 3),
        AgentStateChanged(t(0), "a3", "available", queues=("sales", "support")),
        AgentLoadChanged(t(0), "a3", 0, 2),
        queued(10, "c1", "sales", "voice", "decision"),
        OfferMade(t(20), "c1", "a1"),
        OfferAnswered(t(30), "c1", "a1", "accepted", offered_at=t(20)),
        ContactAnswered(t(30), "c1", "a1"),
        AgentStateChanged(t(30), "a1", "busy"),
        AgentLoadChanged(t(30), "a1", 1, 1),
        queued(40, "c2", "sales", "voice", "awareness"),
        CallQualitySampled(t(40), "k1", "c1", 4.2),
        ContactAbandoned(t(45), "c2"),
        queued(50, "c3", "sales", "chat", "consideration"),
        CallQualitySampled(t(50), "k1", "c1", 3.0, "high_loss"),
        CallQualitySampled(t(55), "k1", "c1", 3.2, "high_loss"),
        HoldChanged(t(60), "c1", True),
        ContactAbandoned(t(80), "c3"),
        HoldChanged(t(90), "c1", False),
        queued(100, "c4", "support", "chat", "consideration"),
        OfferMade(t(101), "c4", "a3"),
        OfferAnswered(t(111), "c4", "a3", "expired", offered_at=t(101)),
        OfferMade(t(112), "c4", "a3"),
        OfferAnswered(t(122), "c4", "a3", "expired", offered_at=t(112)),
        OfferMade(t(123), "c4", "a3"),
        ContactEnded(t(130), "c1", "a1", "resolved"),
        AgentStateChanged(t(130), "a1", "wrap_up"),
        AgentLoadChanged(t(130), "a1", 0, 1),
        OfferAnswered(t(133), "c4", "a3", "expired", offered_at=t(123)),
        OfferMade(t(134), "c4", "a2"),
        OfferAnswered(t(136), "c4", "a2", "declined", offered_at=t(134)),
        OfferMade(t(137), "c4", "a2"),
        OfferAnswered(t(140), "c4", "a2", "accepted", offered_at=t(137)),
        ContactAnswered(t(140), "c4", "a2"),
        AgentLoadChanged(t(140), "a2", 1, 3),
        MessageSent(t(141), "c4", "visitor"),
        WrapUpEnded(t(145), "a1", "c1"),
        AgentStateChanged(t(145), "a1", "available"),
        CsatRated(t(150), "c1", 5),
        queued(150, "c5", "support", "chat", "purchase"),
        MessageSent(t(152), "c4", "agent", "a2"),
        ContactAnswered(t(160), "c5", "a2"),
        AgentLoadChanged(t(160), "a2", 2, 3),
        MessageSent(t(160), "c4", "agent", "a2"),
        queued(170, "c9", "support", "chat", "awareness"),
        ContactAnswered(t(175), "c9", "a2"),
        AgentLoadChanged(t(175), "a2", 3, 3),
        MessageSent(t(180), "c9", "agent", "a2"),
        MessageSent(t(190), "c5", "agent", "a2"),
        queued(200, "c6", "sales", "voice", "retention"),
        AgentStateChanged(t(200), "a3", "away"),
        queued(250, "c7", "support", "chat", "foo"),
        ContactEnded(t(260), "c9", "a2"),
        AgentLoadChanged(t(260), "a2", 2, 3),
        queued(260, "c8", "sales", "video", "decision"),
        ContactAnswered(t(270), "c8", "a1"),
        AgentStateChanged(t(270), "a1", "busy"),
        AgentLoadChanged(t(270), "a1", 1, 1),
        CallQualitySampled(t(280), "k8", "c8", 4.1),
        CallQualitySampled(t(290), "k8", "c8", 2.9, "low_mos"),
        ContactEnded(t(300), "c4", "a2"),
        AgentLoadChanged(t(300), "a2", 1, 3),
        WrapUpEnded(t(310), "a2", None),
        CsatRated(t(320), "c4", 3),
        ContactEnded(t(400), "c5", "a2"),
        AgentLoadChanged(t(400), "a2", 0, 3),
        WrapUpEnded(t(420), "a2", "c5"),
        CsatRated(t(430), "c5", 4),
    ]
