"""Live call quality: latest and mean MOS per call, and which calls warn now.

Samples arrive already scored and smoothed (``signalling.quality`` decides when a
warning starts); here we only remember each live call's figures for the page.  A
call leaves the board when its contact's talk ends or the contact closes.  A warning
*onset* (a sample whose warning differs from the call's previous one and is not
empty) is what the tallies count, so a warning lasting a minute counts once.
"""

from __future__ import annotations

from typing import TypedDict

from dashboard.lifecycle import Contact


class CallRow(TypedDict):
    call_id: str
    contact_id: str
    queue: str
    channel: str
    agent: str | None
    latest_mos: float
    mean_mos: float
    samples: int
    warning: str
    last_sample_at: float


class LiveCall:
    __slots__ = ("call_id", "contact", "last_at", "latest_mos", "mos_sum", "samples", "warning")

    def __init__(self, call_id: str, contact: Contact) -> None:
        self.call_id = call_id
        self.contact = contact
        self.latest_mos = 0.0
        self.mos_sum = 0.0
        self.samples = 0
        self.warning = ""
        self.last_at = 0.0

    def row(self) -> CallRow:
        c = self.contact
        return {
            "call_id": self.call_id,
            "contact_id": c.contact_id,
            "queue": c.dims.queue,
            "channel": c.dims.channel,
            "agent": c.agent if c.agent is not None else c.last_agent,
            "latest_mos": self.latest_mos,
            "mean_mos": self.mos_sum / self.samples if self.samples else 0.0,
            "samples": self.samples,
            "warning": self.warning,
            "last_sample_at": self.last_at,
        }


class CallBook:
    def __init__(self) -> None:
        self.calls: dict[str, LiveCall] = {}
        self._by_contact: dict[str, set[str]] = {}
        self.warning_count = 0  # calls whose latest sample warns

    def sample(self, contact: Contact, at: float, call_id: str, mos: float, warning: str) -> bool:
        """Record a sample; True when it raises a new warning (an onset)."""
        call = self.calls.get(call_id)
        if call is None:
            call = self.calls[call_id] = LiveCall(call_id, contact)
            self._by_contact.setdefault(contact.contact_id, set()).add(call_id)
        onset = bool(warning) and warning != call.warning
        self.warning_count += bool(warning) - bool(call.warning)
        call.latest_mos = mos
        call.mos_sum += mos
        call.samples += 1
        call.warning = warning
        call.last_at = at
        return onset

    def end_contact(self, contact_id: str) -> None:
        for call_id in self._by_contact.pop(contact_id, ()):
            call = self.calls.pop(call_id)
            self.warning_count -= bool(call.warning)
