"""``/metrics`` after some traffic: it parses with prometheus_client's parser, passes
``promtool check metrics``, carries the contact, queue, agent, call-quality and gateway
families; the Prometheus config and rules in deploy/ pass promtool, and every series
the Grafana dashboard asks for is one the server serves."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.supervisor.floor import TIMEOUT, Floor
from tests.support.client import WsClient
from tests.support.server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CC_REQUIRE_SERVICES") == "1":
            pytest.fail("promtool is not installed (CC_REQUIRE_SERVICES=1)")
        pytest.skip("promtool is not installed (Debian package prometheus)")
    return path


async def some_traffic(server: LiveServer) -> str:
    floor = Floor(server)
    server.add_queue(floor.admin, "sales")
    supervisor = await WsClient.connect(server.ws_url + "/ws/supervisor", floor.admin)
    await supervisor.wait_type("dashboard.snapshot", timeout=TIMEOUT)
    await floor.agent("alice")
    await floor.set_status("alice", "available")
    contact = await floor.arrive("sales", "decision")
    await floor.accept("alice", contact)
    await floor.reply("alice", contact, "Hello")
    await floor.end("alice", contact)
    await floor.rate(contact, 5)
    await supervisor.wait_for(
        lambda e: e["type"] == "dashboard.snapshot" and e["snapshot"]["totals"]["handled"]["value"] == 1,
        TIMEOUT,
    )
    text = server.api("GET", "/metrics").text
    await supervisor.close()
    await floor.close()
    return text


@pytest.fixture
async def exposition(server: LiveServer) -> str:
    return await some_traffic(server)


def test_metrics_parse_and_carry_every_family(exposition: str) -> None:
    families = {f.name: f for f in text_string_to_metric_families(exposition)}
    expected = {
        "cc_contact_wait_seconds": "histogram",
        "cc_contact_handle_seconds": "histogram",
        "cc_chat_first_response_seconds": "histogram",
        "cc_contacts_waiting": "gauge",
        "cc_agents": "gauge",
        "cc_offers": "counter",
        "cc_messages": "counter",
        "cc_contacts": "counter",
        "cc_csat_ratings": "counter",
        "cc_call_mos": "histogram",
        "cc_call_quality_warnings": "counter",
        "cc_queue_agents_needed": "gauge",
        "cc_queue_agents_staffed": "gauge",
        "cc_queue_longest_wait_seconds": "gauge",
        "cc_queue_service_level_ratio": "gauge",
        "cc_queue_open": "gauge",
        "cc_gateway_connections": "gauge",
        "cc_gateway_frames_in": "counter",
        "cc_gateway_frames_out": "counter",
        "cc_dashboard_subscribers": "gauge",
        "cc_dashboard_pushes": "counter",
    }
    for name, kind in expected.items():
        assert name in families, name
        assert families[name].type == kind, (name, families[name].type)

    def value(family: str, sample: str, **labels: str) -> float:
        for s in families[family].samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
        raise AssertionError(f"no {sample} {labels}")

    assert value("cc_contacts", "cc_contacts_total", queue="sales", outcome="answered") == 1
    family = "cc_contact_wait_seconds"
    waits = value(family, family + "_count", queue="sales", outcome="answered")
    assert waits == 1
    assert value("cc_offers", "cc_offers_total", outcome="accepted") >= 1
    assert value("cc_csat_ratings", "cc_csat_ratings_total", rating="5") == 1
    assert value("cc_queue_open", "cc_queue_open", queue="sales") == 1
    assert value("cc_queue_agents_needed", "cc_queue_agents_needed", queue="sales") >= 1
    assert value("cc_gateway_frames_out", "cc_gateway_frames_out_total", role="supervisor_page") >= 1
    assert value("cc_dashboard_pushes", "cc_dashboard_pushes_total") >= 1


def test_promtool_accepts_the_metrics_and_the_deploy_files(exposition: str) -> None:
    tool = promtool()
    checked = subprocess.run(
        [tool, "check", "metrics"], input=exposition, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = subprocess.run(
        [tool, "check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert config.returncode == 0, config.stdout + config.stderr
    assert "rules.yml" in config.stdout + config.stderr and "SUCCESS" in config.stdout


def test_grafana_asks_only_for_series_the_server_serves(exposition: str) -> None:
    served = set()
    for family in text_string_to_metric_families(exposition):
        served.add(family.name)
        served.update(sample.name for sample in family.samples)
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "contact-center.json").read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(panels) >= 20
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "prometheus"
            names = set(re.findall(r"\bcc_[a-z_]+", target["expr"]))
            assert names, target["expr"]
            for name in names:
                # A labelled family with no child yet has no samples: its name will do.
                base = re.sub(r"_(total|bucket|sum|count)$", "", name)
                assert name in served or base in served, f"{panel['title']}: {name} is not served"
    datasource = (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    assert "uid: prometheus" in datasource and "http://prometheus:9090" in datasource
