"""Alert rules, evaluated at every snapshot from the figures it already computed.

Rules are pure functions of the snapshot's inputs, so an alert appears the second its
condition holds and disappears when it stops holding; there is no alert state to get
out of step.  (Acknowledgement and notification belong to the shell.)

Alerts: ``{code, severity, message, subject, value, threshold}``; ``subject`` is
``"queue:<id>"``, ``"agent:<id>"`` or ``"call:<id>"``; severity ``"critical"`` or
``"warning"``; the list comes sorted critical first, then by code and subject.

* ``longest_wait``: a queue's longest wait over ``longest_wait_warning_s`` (warning)
  or ``longest_wait_critical_s`` (critical);
* ``service_level``: a queue's service level under ``service_level_target``
  (critical under ``service_level_critical``) once its denominator reaches
  ``service_level_min_contacts``: three contacts are not a trend;
* ``missed_offers``: an agent let ``missed_offers_in_a_row`` offers in a row expire;
* ``call_quality``: a live call whose latest sample carries a warning (``value`` is
  its latest MOS, ``threshold`` ``None``: the warning rules live in signalling).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypedDict

Severity = Literal["critical", "warning"]


@dataclass(frozen=True, slots=True)
class AlertRules:
    longest_wait_warning_s: float = 60.0
    longest_wait_critical_s: float = 180.0
    service_level_target: float = 0.8
    service_level_critical: float = 0.6
    service_level_min_contacts: int = 10
    missed_offers_in_a_row: int = 3
    call_quality: bool = True


class Alert(TypedDict):
    code: str
    severity: Severity
    message: str
    subject: str
    value: float
    threshold: float | None


def _alert(
    code: str,
    severity: Severity,
    message: str,
    subject: str,
    value: float,
    threshold: float | None,
) -> Alert:
    return {
        "code": code,
        "severity": severity,
        "message": message,
        "subject": subject,
        "value": value,
        "threshold": threshold,
    }


def longest_wait(rules: AlertRules, queue: str, wait_s: float | None) -> list[Alert]:
    if wait_s is None:
        return []
    if wait_s > rules.longest_wait_critical_s:
        severity: Severity = "critical"
        threshold = rules.longest_wait_critical_s
    elif wait_s > rules.longest_wait_warning_s:
        severity, threshold = "warning", rules.longest_wait_warning_s
    else:
        return []
    return [
        _alert(
            "longest_wait",
            severity,
            f"Queue {queue}: a contact has waited {wait_s:.0f} s (over {threshold:.0f} s)",
            f"queue:{queue}",
            wait_s,
            threshold,
        )
    ]


def service_level(
    rules: AlertRules, queue: str, level: float | None, denominator: float | None
) -> list[Alert]:
    if level is None or (denominator or 0) < rules.service_level_min_contacts:
        return []
    if level < rules.service_level_critical:
        severity: Severity = "critical"
    elif level < rules.service_level_target:
        severity = "warning"
    else:
        return []
    return [
        _alert(
            "service_level",
            severity,
            f"Queue {queue}: service level {level:.0%} is under the {rules.service_level_target:.0%} target",
            f"queue:{queue}",
            level,
            rules.service_level_target,
        )
    ]


def missed_offers(rules: AlertRules, agent: str, expired_in_a_row: int) -> list[Alert]:
    if rules.missed_offers_in_a_row <= 0 or expired_in_a_row < rules.missed_offers_in_a_row:
        return []
    return [
        _alert(
            "missed_offers",
            "warning",
            f"Agent {agent} let {expired_in_a_row} offers in a row expire",
            f"agent:{agent}",
            expired_in_a_row,
            rules.missed_offers_in_a_row,
        )
    ]


def call_quality(rules: AlertRules, call_id: str, warning: str, mos: float) -> list[Alert]:
    if not rules.call_quality or not warning:
        return []
    return [
        _alert(
            "call_quality",
            "warning",
            f"Call {call_id}: {warning} (MOS {mos:.2f})",
            f"call:{call_id}",
            mos,
            None,
        )
    ]


_SEVERITY_ORDER = {"critical": 0, "warning": 1}


def ordered(alerts: Iterable[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda a: (_SEVERITY_ORDER[a["severity"]], a["code"], a["subject"]))
