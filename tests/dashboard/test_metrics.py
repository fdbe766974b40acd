"""Prometheus collectors: the scripted day's exposition parses, values match the hand
counts, labels stay bounded, and promtool accepts the output."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dashboard.events import ContactQueued, MessageSent
from dashboard.metrics import Metrics
from tests.dashboard.scenario import events, t

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(registry: CollectorRegistry) -> Samples:
    text = generate_latest(registry).decode()
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def total(samples: Samples, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


@pytest.fixture
def registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    for event in events():
        metrics.observe(event)
    metrics.gateway_connections.labels("agent").set(3)
    metrics.gateway_frames_in.labels("visitor").inc(10)
    metrics.gateway_frames_out.labels("visitor").inc(12)
    metrics.gateway_frames_rejected.labels("rate_limited").inc()
    return registry


def test_values_match_the_scripted_day(registry: CollectorRegistry) -> None:
    s = scrape(registry)
    assert total(s, "cc_contacts_waiting", queue="sales") == 1  # c6
    assert total(s, "cc_contacts_waiting", queue="support") == 1  # c7
    assert total(s, "cc_agents", state="busy") == 1
    assert total(s, "cc_agents", state="available") == 1
    assert total(s, "cc_agents", state="away") == 1
    assert total(s, "cc_agents", state="offline") == 0
    # OfferMade: c1 once, c4 five times (3 to a3, 2 to a2).
    assert total(s, "cc_offers_made_total") == 6
    assert total(s, "cc_offers_total", outcome="accepted") == 2
    assert total(s, "cc_offers_total", outcome="declined") == 1
    assert total(s, "cc_offers_total", outcome="expired") == 3
    # Messages are counted by the gateway where they arrive, not from domain events
    # (every process of a cluster receives every domain event).
    assert total(s, "cc_messages_total", sender="agent") == 0
    assert total(s, "cc_contacts_total", outcome="queued") == 9
    assert total(s, "cc_contacts_total", outcome="answered") == 5
    assert total(s, "cc_contacts_total", outcome="abandoned") == 2
    assert total(s, "cc_contacts_total", outcome="handled") == 4
    assert total(s, "cc_contacts_total", stage="unknown", outcome="queued") == 1  # "foo"
    # Waits: answered 20 + 40 + 10 + 10 + 5 = 85; abandoned 5 + 30.
    assert total(s, "cc_contact_wait_seconds_count", outcome="answered") == 5
    assert total(s, "cc_contact_wait_seconds_sum", outcome="answered") == 85
    assert total(s, "cc_contact_wait_seconds_sum", outcome="abandoned") == 35
    # c1 waited exactly 20 s: inside the le="20" bucket (Prometheus buckets are <=).
    assert (
        total(
            s,
            "cc_contact_wait_seconds_bucket",
            queue="sales",
            channel="voice",
            outcome="answered",
            le="20.0",
        )
        == 1
    )
    # Handle parts: talk 555, hold 30, wrap-up 95 (see test_aggregator).
    assert total(s, "cc_contact_handle_seconds_sum", part="talk") == 555
    assert total(s, "cc_contact_handle_seconds_sum", part="hold") == 30
    assert total(s, "cc_contact_handle_seconds_sum", part="wrap_up") == 95
    assert total(s, "cc_contact_handle_seconds_count", part="wrap_up") == 4
    assert total(s, "cc_chat_first_response_seconds_sum") == 5 + 12 + 30
    assert total(s, "cc_offer_acceptance_seconds_sum") == 10 + 3
    assert total(s, "cc_call_mos_count") == 5
    assert total(s, "cc_call_mos_sum") == pytest.approx(4.2 + 3.0 + 3.2 + 4.1 + 2.9)
    assert total(s, "cc_call_quality_warnings_total", warning="high_loss") == 1
    assert total(s, "cc_call_quality_warnings_total", warning="low_mos") == 1
    assert total(s, "cc_csat_ratings_total", rating="5") == 1
    assert total(s, "cc_gateway_connections", role="agent") == 3
    assert total(s, "cc_gateway_frames_in_total", role="visitor") == 10
    assert total(s, "cc_gateway_frames_out_total", role="visitor") == 12
    assert total(s, "cc_gateway_frames_rejected_total", reason="rate_limited") == 1


def test_no_ids_in_labels(registry: CollectorRegistry) -> None:
    ids: set[str] = set()
    for event in events():
        for attr in ("contact_id", "agent_id", "call_id"):
            value = getattr(event, attr, None)
            if value:
                ids.add(value)
    assert {"c1", "a1", "k8"} <= ids
    label_values = {v for (_, labels) in scrape(registry) for _, v in labels}
    assert not ids & label_values


def test_label_values_are_normalised() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    for i in range(50):
        metrics.observe(ContactQueued(t(i), f"x{i}", "sales", "chat", f"stage-{i}", t(i)))
        metrics.observe(MessageSent(t(i), f"x{i}", "robot"))  # type: ignore[arg-type]
    s = scrape(registry)
    stages = {dict(ls)["stage"] for (n, ls) in s if n == "cc_contacts_total"}
    assert stages == {"unknown"}


def test_registries_are_independent() -> None:
    a, b = CollectorRegistry(), CollectorRegistry()
    Metrics(a).observe(ContactQueued(t(0), "x", "sales", "chat", "decision", t(0)))
    Metrics(b)
    assert total(scrape(a), "cc_contacts_waiting") == 1
    assert total(scrape(b), "cc_contacts_waiting") == 0


def test_promtool_accepts_the_exposition(registry: CollectorRegistry) -> None:
    promtool = shutil.which("promtool") or (
        "/usr/bin/promtool" if os.path.exists("/usr/bin/promtool") else None
    )
    if promtool is None:
        if os.environ.get("CC_REQUIRE_SERVICES") == "1":
            pytest.fail("promtool not found and CC_REQUIRE_SERVICES=1")
        pytest.skip("promtool not installed")
    result = subprocess.run(
        [promtool, "check", "metrics"],
        input=generate_latest(registry),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
