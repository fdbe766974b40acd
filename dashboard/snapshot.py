"""The JSON shape of a live snapshot, as typed dicts (the page's contract).

Rule of thumb: every value under ``totals`` and the ``by_*`` tables is a
:class:`dashboard.formulas.Kpi` (value, formula, numerator, denominator); live
descriptive data (who waits, agent states, staffing, calls) sits in its own keys as
plain values.  Tables are objects keyed by id, in sorted key order.

Occupancy and slot occupancy are agent figures: they appear in ``totals`` and
``by_agent`` only.  Queue figures (queued, service level, abandons) are left out of
``by_agent``: an abandon has no agent.

Stage cuts always list every stage of :data:`dashboard.events.STAGES`, so the page's
journey columns do not jump around as contacts arrive.
"""

from __future__ import annotations

from typing import TypedDict

from dashboard.alerts import Alert
from dashboard.calls import CallRow
from dashboard.formulas import Kpi, LegendEntry
from dashboard.staffing import StaffingRow

KpiTable = dict[str, Kpi]


class WaitingContact(TypedDict):
    contact_id: str
    wait_s: float
    enqueued_at: float
    stage: str
    channel: str


class QueueWaitingList(TypedDict):
    count: int  # everyone waiting in the queue
    shown: int  # len(contacts): capped at the snapshot's waiting_limit
    contacts: list[WaitingContact]  # longest wait first


class AgentLive(TypedDict):
    state: str | None
    state_since: float | None
    time_in_state_s: float | None
    active: int
    slots: int
    queues: list[str]
    missed_offers_in_a_row: int
    last_decline_reason: str  # "" when the agent gave none or never declined


class GridCell(TypedDict):
    queued: int
    answered: int
    abandoned: int
    waiting: int


class StageChannelGrid(TypedDict):
    stages: list[str]
    channels: list[str]
    cells: dict[str, dict[str, GridCell]]  # cells[stage][channel], every pair present


class CallQuality(TypedDict):
    live_calls: int
    with_warnings: int
    calls: list[CallRow]  # worst first (warning first, then lowest latest MOS), capped
    warnings: list[CallRow]  # every live call whose latest sample warns


class Snapshot(TypedDict):
    at: float
    since: float
    totals: KpiTable
    by_queue: dict[str, KpiTable]
    by_channel: dict[str, KpiTable]
    by_stage: dict[str, KpiTable]
    by_agent: dict[str, KpiTable]
    agents_by_state: dict[str, int]
    agents: dict[str, AgentLive]
    stage_x_channel: StageChannelGrid
    waiting: dict[str, QueueWaitingList]
    staffing: dict[str, StaffingRow]
    call_quality: CallQuality
    alerts: list[Alert]
    legend: dict[str, LegendEntry]
    unmatched_events: int
