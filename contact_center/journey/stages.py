"""Which journey stage a page belongs to.

A page's own declaration (``data-stage`` on the widget's script tag) wins; otherwise
the first URL rule that matches; otherwise the stage is inferred from the visitor's
latest page view (the caller passes it), else "unknown".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

STAGES = ("awareness", "consideration", "decision", "purchase", "retention")


@dataclass(frozen=True, slots=True)
class StageRule:
    """``pattern`` is a glob matched against the URL's path (``/pricing*``) or, when it
    contains "://", against the whole URL."""

    pattern: str
    stage: str

    def matches(self, url: str) -> bool:
        target = url if "://" in self.pattern else (urlsplit(url).path or "/")
        return fnmatchcase(target, self.pattern)


def parse_rules(specs: Iterable[str]) -> list[StageRule]:
    """Rules from settings strings ``"<glob>=<stage>"``."""
    rules = []
    for spec in specs:
        pattern, sep, stage = spec.rpartition("=")
        if not sep or stage not in STAGES or not pattern:
            raise ValueError(f"stage rule {spec!r}: expected '<glob>=<stage>' with a known stage")
        rules.append(StageRule(pattern.strip(), stage.strip()))
    return rules


def resolve_stage(declared: str, url: str, rules: Iterable[StageRule], inferred: str = "") -> tuple[str, str]:
    """(stage, how it was set: "declared" | "rule" | "inferred")."""
    if declared in STAGES:
        return declared, "declared"
    for rule in rules:
        if url and rule.matches(url):
            return rule.stage, "rule"
    if inferred in STAGES:
        return inferred, "inferred"
    return "unknown", "inferred"
