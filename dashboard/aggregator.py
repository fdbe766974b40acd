"""The live supervisor KPIs: domain events in, a JSON-able snapshot out.

:class:`KpiAggregator` is sans-I/O: it never reads a clock (every event carries its
time and :meth:`KpiAggregator.snapshot` takes ``now``), never blocks, and costs O(1)
per event: each event updates a handful of running sums (one
:class:`~dashboard.tally.Tally` per cut: all, its queue, channel, stage and agent),
a sorted waiting list, or one agent's time integrals.  Nothing is rescanned per
event; a snapshot reads the sums, walks the agents once and slices the waiting lists.

Counting period
---------------
Counters cover events stamped ``at >= since`` (typically local midnight).
:meth:`reset` starts a new period: counters and time integrals restart, while live
state (who waits, agent states and loads, open conversations, live calls, missed-offer
streaks, the staffing window) carries over.  Each fact counts in the period of the
event that completes it: a contact answered after midnight counts as answered today
even if it was queued yesterday.  Call ``reset(midnight)`` before ingesting the first
event past midnight, so nothing of the new day lands in the old one.  Longer ranges
and intervals are the job of :mod:`dashboard.reports`.

Memory
------
Bounded by what is live plus the number of distinct ids seen this period: one tally
per queue, channel, stage and agent (cleared by :meth:`reset`), the open contacts,
up to ``closed_kept`` closed contacts (for late ratings), at most 32 open wrap-ups per
agent, and the staffing window's arrival times (pruned as they age out).

How contacts are interpreted (legs, segments, wrap-ups, first response) is in
:mod:`dashboard.lifecycle`; formulas in :mod:`dashboard.formulas`; the JSON shape in
:mod:`dashboard.snapshot`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dashboard import alerts as alert_rules
from dashboard import formulas as f
from dashboard.agents import AgentBook
from dashboard.alerts import Alert, AlertRules
from dashboard.calls import CallBook
from dashboard.events import (
    STAGES,
    AgentLoadChanged,
    AgentStateChanged,
    CallQualitySampled,
    DomainEvent,
    OfferAnswered,
)
from dashboard.lifecycle import (
    Contact,
    ContactTracker,
    Dims,
    LegOutcome,
    LifecycleListener,
)
from dashboard.snapshot import (
    AgentLive,
    CallQuality,
    GridCell,
    KpiTable,
    QueueWaitingList,
    Snapshot,
    StageChannelGrid,
)
from dashboard.staffing import ArrivalWindow, StaffingConfig, StaffingRow, staffing_row
from dashboard.tally import OfferOutcome, Tally
from dashboard.waiting import Entry, WaitingBoard

_EMPTY = Tally()  # read-only stand-in for a cut with no facts this period


class _Recorder(LifecycleListener):
    """Turns lifecycle facts into tallies and live boards.  Counting is gated on
    ``at >= since``; live boards (waiting, arrivals, calls) always follow events."""

    def __init__(self, since: float, window_s: float) -> None:
        self.since = since
        self.window_s = window_s
        self.waiting = WaitingBoard()
        self.arrivals: dict[str, ArrivalWindow] = {}
        self.targets: dict[str, float] = {}  # queue -> latest T seen
        self.calls = CallBook()
        self.clear()

    def clear(self) -> None:
        self.total = Tally()
        self.by_queue: dict[str, Tally] = {}
        self.by_channel: dict[str, Tally] = {}
        self.by_stage: dict[str, Tally] = {}
        self.by_agent: dict[str, Tally] = {}
        # (stage, channel) -> [queued, answered, abandoned]
        self.grid: dict[tuple[str, str], list[int]] = {}
        # Dims -> (total, queue, channel, stage) tallies; rebuilt after a reset.
        self._cuts: dict[Dims, tuple[Tally, Tally, Tally, Tally]] = {}

    def _cut(self, dims: Dims) -> tuple[Tally, Tally, Tally, Tally]:
        cut = self._cuts.get(dims)
        if cut is None:
            cut = self._cuts[dims] = (
                self.total,
                _get(self.by_queue, dims.queue),
                _get(self.by_channel, dims.channel),
                _get(self.by_stage, dims.stage),
            )
        return cut

    def _cut_agent(self, dims: Dims, agent: str | None) -> tuple[Tally, ...]:
        cut = self._cut(dims)
        return (*cut, _get(self.by_agent, agent)) if agent is not None else cut

    def _cell(self, dims: Dims) -> list[int]:
        key = (dims.stage, dims.channel)
        cell = self.grid.get(key)
        if cell is None:
            cell = self.grid[key] = [0, 0, 0]
        return cell

    # ------------------------------------------------------------- lifecycle facts

    def leg_started(self, contact: Contact, at: float) -> None:
        dims = contact.dims
        self.waiting.add(contact)
        window = self.arrivals.get(dims.queue)
        if window is None:
            window = self.arrivals[dims.queue] = ArrivalWindow(self.window_s)
        window.add(at)
        self.targets[dims.queue] = contact.sl_target_s
        if at >= self.since:
            for t in self._cut(dims):
                t.add_queued()
            self._cell(dims)[0] += 1

    def leg_ended(
        self, contact: Contact, at: float, outcome: LegOutcome, wait_s: float, agent: str | None
    ) -> None:
        self.waiting.remove(contact)
        if at < self.since:
            return
        dims = contact.dims
        if outcome == "answered":
            for t in self._cut_agent(dims, agent):
                t.add_answered(wait_s, contact.sl_target_s)
            self._cell(dims)[1] += 1
        elif outcome == "abandoned":
            for t in self._cut(dims):
                t.add_abandoned(wait_s)
            self._cell(dims)[2] += 1
        else:
            for t in self._cut(dims):
                t.add_left()

    def talk_ended(self, contact: Contact, at: float, agent: str, talk_s: float, hold_s: float) -> None:
        if at >= self.since:
            for t in self._cut_agent(contact.dims, agent):
                t.add_handled(talk_s, hold_s)

    def wrap_up_ended(self, dims: Dims, agent: str, at: float, wrap_up_s: float) -> None:
        if at >= self.since:
            for t in self._cut_agent(dims, agent):
                t.add_wrap_up(wrap_up_s)

    def first_response(self, contact: Contact, at: float, agent: str, seconds: float) -> None:
        if at >= self.since:
            for t in self._cut_agent(contact.dims, agent):
                t.add_first_response(seconds)

    def offer_made(self, contact: Contact, at: float, agent: str) -> None:
        if at >= self.since:
            for t in self._cut_agent(contact.dims, agent):
                t.add_offer_made()

    def offer_answered(
        self,
        contact: Contact,
        at: float,
        agent: str,
        outcome: OfferOutcome,
        acceptance_s: float | None,
    ) -> None:
        if at >= self.since:
            for t in self._cut_agent(contact.dims, agent):
                t.add_offer(outcome, acceptance_s)

    def rated(self, contact: Contact, at: float, rating: int) -> None:
        if at >= self.since:
            for t in self._cut_agent(contact.dims, contact.last_agent):
                t.add_rating(rating)

    def call_sampled(self, contact: Contact, event: CallQualitySampled) -> None:
        onset = self.calls.sample(contact, event.at, event.call_id, event.mos, event.warning)
        if event.at >= self.since:
            for t in self._cut_agent(contact.dims, contact.agent):
                t.add_quality(event.mos, onset)

    def contact_closed(self, contact: Contact, at: float) -> None:
        self.calls.end_contact(contact.contact_id)


def _get(table: dict[str, Tally], key: str) -> Tally:
    tally = table.get(key)
    if tally is None:
        tally = table[key] = Tally()
    return tally


class KpiAggregator:
    """Live KPIs since ``since``.  See the module docstring for the counting rules.

    ``waiting_limit`` caps each queue's waiting list in a snapshot (the counts stay
    exact): with 10,000 contacts waiting, the full lists would dominate both the
    snapshot's cost and its size, and a supervisor reads the top of the list.
    ``call_limit`` caps the list of live calls the same way.
    """

    def __init__(
        self,
        since: float,
        *,
        rules: AlertRules | None = None,
        staffing: StaffingConfig | None = None,
        waiting_limit: int = 50,
        call_limit: int = 50,
        closed_kept: int = 100_000,
    ) -> None:
        self.rules = rules or AlertRules()
        self.staffing = staffing or StaffingConfig()
        self.waiting_limit = waiting_limit
        self.call_limit = call_limit
        self._observed_from = since
        self._rec = _Recorder(since, self.staffing.window_s)
        self._tracker = ContactTracker(self._rec, closed_kept)
        self._agents = AgentBook(since)
        self._handlers: dict[type, Callable[[Any], None]] = {
            AgentStateChanged: self._agent_state,
            AgentLoadChanged: self._agent_load,
            OfferAnswered: self._offer_answered,
        }

    @property
    def since(self) -> float:
        return self._rec.since

    # ------------------------------------------------------------------ input

    def ingest(self, event: DomainEvent) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)
        self._tracker.apply(event)

    def ingest_many(self, events: Iterable[DomainEvent]) -> None:
        for event in events:
            self.ingest(event)

    def reset(self, at: float) -> None:
        """Start a new counting period at ``at`` (live state carries over)."""
        self._rec.since = at
        self._rec.clear()
        self._agents.reset(at)

    def _agent_state(self, ev: AgentStateChanged) -> None:
        self._agents.state_changed(ev.agent_id, ev.at, ev.state, tuple(ev.queues))

    def _agent_load(self, ev: AgentLoadChanged) -> None:
        self._agents.load_changed(ev.agent_id, ev.at, ev.active, ev.slots)

    def _offer_answered(self, ev: OfferAnswered) -> None:
        self._agents.offer_answered(ev.agent_id, ev.outcome, ev.reason)

    # ------------------------------------------------------------------ output

    def snapshot(
        self,
        now: float,
        *,
        waiting_limit: int | None = None,
        agent_table: bool = True,
        formulas: bool = True,
    ) -> Snapshot:
        """Every KPI as of ``now``.  Pure: reading twice gives the same answer.

        The defaults give everything.  For the every-second push, where size matters
        (see docs/benchmarks.md: with 1,000 agents the ``by_agent`` table is most of
        a 2.7 MB snapshot), ``agent_table=False`` leaves ``by_agent`` empty (push it
        less often, or when a supervisor opens the agents view) and ``formulas=False``
        sets each KPI's ``formula`` to "" (the page looks the text up in ``legend``).
        The shape stays the same either way.
        """
        rec = self._rec
        limit = self.waiting_limit if waiting_limit is None else waiting_limit
        board = rec.waiting

        by_agent, agents_live, occupancy = self._agent_tables(now, agent_table)
        totals: KpiTable = _waiting_kpis(board.count, board.earliest(), now)
        totals.update(rec.total.kpis())
        totals.update(occupancy)

        by_queue = _cut_table(rec.by_queue, board.by_queue, now, ())
        by_channel = _cut_table(rec.by_channel, board.by_channel, now, ())
        by_stage = _cut_table(rec.by_stage, board.by_stage, now, STAGES)

        staffing = self._staffing(now)
        call_quality = self._call_quality()
        alerts: list[Alert] = []
        for queue, row in by_queue.items():
            alerts += alert_rules.longest_wait(self.rules, queue, row["longest_wait_s"]["value"])
            sl = row["service_level"]
            alerts += alert_rules.service_level(self.rules, queue, sl["value"], sl["denominator"])
        for agent_id, live in agents_live.items():
            alerts += alert_rules.missed_offers(self.rules, agent_id, live["missed_offers_in_a_row"])
        for call in call_quality["warnings"]:
            alerts += alert_rules.call_quality(
                self.rules, call["call_id"], call["warning"], call["latest_mos"]
            )

        if not formulas:
            for table in (totals, *by_queue.values(), *by_channel.values(), *by_stage.values()):
                _drop_formulas(table)
            for table in by_agent.values():
                _drop_formulas(table)
        return {
            "at": now,
            "since": rec.since,
            "totals": totals,
            "by_queue": by_queue,
            "by_channel": by_channel,
            "by_stage": by_stage,
            "by_agent": by_agent,
            "agents_by_state": dict(self._agents.by_state),
            "agents": agents_live,
            "stage_x_channel": self._grid(),
            "waiting": {
                queue: _waiting_list(entries, now, limit) for queue, entries in sorted(board.by_queue.items())
            },
            "staffing": staffing,
            "call_quality": call_quality,
            "alerts": alert_rules.ordered(alerts),
            "legend": {name: {**entry} for name, entry in f.LEGEND.items()},
            "unmatched_events": self._tracker.unmatched,
        }

    def _agent_tables(
        self, now: float, with_kpis: bool
    ) -> tuple[dict[str, KpiTable], dict[str, AgentLive], KpiTable]:
        book = self._agents
        tallies = self._rec.by_agent
        on = idle = used = offered = 0.0
        by_agent: dict[str, KpiTable] = {}
        live: dict[str, AgentLive] = {}
        for agent_id in sorted(tallies.keys() | book.agents.keys()):
            row = tallies.get(agent_id, _EMPTY).kpis(queue_figures=False) if with_kpis else {}
            agent = book.agents.get(agent_id)
            if agent is not None:
                times = book.times(agent, now)
                on += times.on_contacts_s
                idle += times.idle_s
                used += times.slot_used_s
                offered += times.slot_offered_s
                if with_kpis:
                    row.update(_occupancy(*times))
                since = agent.state_since
                live[agent_id] = {
                    "state": agent.state,
                    "state_since": since,
                    "time_in_state_s": now - since if since is not None else None,
                    "active": agent.active,
                    "slots": agent.slots,
                    "queues": list(agent.queues),
                    "missed_offers_in_a_row": agent.expired_in_a_row,
                    "last_decline_reason": agent.last_decline_reason,
                }
            elif with_kpis:
                row.update(_occupancy(0.0, 0.0, 0.0, 0.0))
            if with_kpis:
                by_agent[agent_id] = row
        return by_agent, live, _occupancy(on, idle, used, offered)

    def _grid(self) -> StageChannelGrid:
        rec = self._rec
        channels = sorted({c for _, c in rec.grid} | {c for _, c in rec.waiting.cells})
        extra = sorted({s for s, _ in rec.grid} - set(STAGES))
        stages = [*STAGES, *extra]
        cells: dict[str, dict[str, GridCell]] = {}
        for stage in stages:
            row: dict[str, GridCell] = {}
            for channel in channels:
                q, a, ab = rec.grid.get((stage, channel), (0, 0, 0))
                row[channel] = {
                    "queued": q,
                    "answered": a,
                    "abandoned": ab,
                    "waiting": rec.waiting.cells.get((stage, channel), 0),
                }
            cells[stage] = row
        return {"stages": stages, "channels": channels, "cells": cells}

    def _staffing(self, now: float) -> dict[str, StaffingRow]:
        rec = self._rec
        queues = sorted(rec.targets)
        staffed = dict.fromkeys(queues, 0)
        available = dict.fromkeys(queues, 0)
        for agent in self._agents.agents.values():
            if not agent.staffed:
                continue
            for queue in agent.queues or queues:
                if queue in staffed:
                    staffed[queue] += 1
                    available[queue] += agent.state == "available"
        out: dict[str, StaffingRow] = {}
        for queue in queues:
            tally = rec.by_queue.get(queue, _EMPTY)
            aht = f.ratio("aht_s", tally.talk_s + tally.hold_s + tally.wrap_up_s, tally.handled)["value"]
            out[queue] = staffing_row(
                now=now,
                observed_from=self._observed_from,
                arrivals=rec.arrivals[queue],
                aht_observed_s=aht,
                sl_target_s=rec.targets[queue],
                target_level=self.staffing.level_for(queue),
                agents_staffed=staffed[queue],
                agents_available=available[queue],
                config=self.staffing,
            )
        return out

    def _call_quality(self) -> CallQuality:
        book = self._rec.calls
        rows = sorted(
            (call.row() for call in book.calls.values()),
            key=lambda r: (r["warning"] == "", r["latest_mos"], r["call_id"]),
        )
        return {
            "live_calls": len(rows),
            "with_warnings": book.warning_count,
            "calls": rows[: self.call_limit],
            "warnings": [r for r in rows if r["warning"]],
        }


# ---------------------------------------------------------------- table helpers


def _waiting_kpis(count: int, earliest: float | None, now: float) -> KpiTable:
    return {
        "contacts_waiting": f.count("contacts_waiting", count),
        "longest_wait_s": f.measure("longest_wait_s", now - earliest if earliest is not None else None),
    }


def _cut_table(
    tallies: dict[str, Tally],
    waiting: dict[str, list[Entry]],
    now: float,
    always: Iterable[str],
) -> dict[str, KpiTable]:
    out: dict[str, KpiTable] = {}
    for key in sorted(tallies.keys() | waiting.keys() | set(always)):
        entries = waiting.get(key) or []
        row = _waiting_kpis(len(entries), entries[0][0] if entries else None, now)
        row.update(tallies.get(key, _EMPTY).kpis())
        out[key] = row
    return out


def _drop_formulas(table: KpiTable) -> None:
    for kpi in table.values():
        kpi["formula"] = ""


def _occupancy(on: float, idle: float, used: float, offered: float) -> KpiTable:
    return {
        "occupancy": f.ratio("occupancy", on, on + idle),
        "slot_occupancy": f.ratio("slot_occupancy", used, offered),
    }


def _waiting_list(entries: list[Entry], now: float, limit: int) -> QueueWaitingList:
    shown = entries[:limit]
    return {
        "count": len(entries),
        "shown": len(shown),
        "contacts": [
            {
                "contact_id": c.contact_id,
                "wait_s": now - enqueued_at,
                "enqueued_at": enqueued_at,
                "stage": c.dims.stage,
                "channel": c.dims.channel,
            }
            for enqueued_at, _, c in shown
        ],
    }
