"""The journey through a real server: page views over REST and WebSocket, the
first-touch source that a later visit never overwrites, a chat started on a page with
data-stage showing up in the journey map, stage inference for a contact, conversions
reported with a site key, the visitor's timeline for the agent console, roles, CSV,
stage rules and sites through the admin API."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.support.client import WsClient
from tests.support.server import LiveServer, live_server


def visitor_id_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


def flush(server: LiveServer) -> None:
    """Write the buffered page views now (the writer would within half a second)."""
    server.run_in_server(server.services.journey.flush())


def visitor_row(server: LiveServer, visitor_id: str) -> dict[str, Any]:
    row = server.run_in_server(server.services.visitors.get(visitor_id))
    assert row is not None
    return dict(row)


async def first_touch_never_overwritten(server: LiveServer) -> None:
    token = server.visitor_token()
    vid = visitor_id_of(token)
    # First visit: from a newsletter, beaconed over REST (token in the body).
    first = {
        "url": "https://shop.example/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=may",
        "title": "Pricing",
        "referrer": "",
        "stage": "decision",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "may",
    }
    response = server.api("POST", "/api/visitor/pageviews", json={"token": token, "views": [first]})
    assert response.status_code == 204, response.text
    # A later visit from a paid search ad, over the widget's socket, and another beacon.
    socket = await WsClient.connect(server.ws_url + "/ws/visitor", token)
    await socket.wait_type("welcome")
    later = {
        "url": "https://shop.example/product?utm_source=google&utm_medium=cpc",
        "title": "Product",
        "referrer": "https://www.google.com/",
        "stage": "consideration",
        "utm_source": "google",
        "utm_medium": "cpc",
    }
    await socket.send({"type": "page.view", "page": later})
    # Frames are handled in order: once the ping is answered the view is recorded.
    await socket.send({"type": "ping", "id": "p1"})
    await socket.wait_type("pong")
    server.api("POST", "/api/visitor/pageviews", json={"token": token, "views": [later, later]})
    await socket.close()
    flush(server)
    row = visitor_row(server, vid)
    assert (row["first_utm_source"], row["first_utm_medium"], row["first_utm_campaign"]) == (
        "newsletter",
        "email",
        "may",
    )
    assert row["first_landing_url"] == first["url"]
    assert row["first_source"] == "newsletter"
    assert row["last_seen_at"] >= row["created_at"]
    admin = server.admin_token()
    journey = server.api("GET", f"/api/visitors/{vid}/journey", admin).json()
    assert [i["utm_source"] for i in journey["items"]] == ["newsletter", "google", "google", "google"]
    assert journey["visitor"]["first_utm_source"] == "newsletter"
    assert journey["page_views"] == 4


async def test_first_touch_source_is_never_overwritten(server: LiveServer) -> None:
    await first_touch_never_overwritten(server)


@pytest.mark.services
async def test_first_touch_source_is_never_overwritten_on_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    with live_server(tmp_path, database_url=postgres_url) as server:
        await first_touch_never_overwritten(server)


async def chat_on_declared_page_shows_in_grid(server: LiveServer) -> None:
    admin = server.admin_token()
    server.add_queue(admin, "sales", name="Sales")
    server.add_agent(admin, "alice", display_name="Alice")
    agent = await WsClient.connect(server.ws_url + "/ws/agent", server.login("alice"))
    await agent.wait_type("welcome")
    await agent.request({"type": "agent.status", "status": "available"})

    token = server.visitor_token()
    vid = visitor_id_of(token)
    visitor = await WsClient.connect(server.ws_url + "/ws/visitor", token)
    await visitor.wait_type("welcome")
    page = {"url": "https://shop.example/pricing", "title": "Pricing", "stage": "decision"}
    await visitor.send({"type": "page.view", "page": page})
    ack = await visitor.request(
        {"type": "chat.start", "queue": "sales", "name": "Vera", "message": "Hi", "page": page}
    )
    contact_id = ack["contact_id"]
    await agent.wait_type("offer")
    await agent.request({"type": "offer.accept", "contact_id": contact_id})
    await visitor.wait_type("contact.joined", contact_id=contact_id)
    await agent.request({"type": "contact.end", "contact_id": contact_id, "disposition": "resolved"})
    await visitor.wait_type("contact.ended", contact_id=contact_id)
    await visitor.request({"type": "chat.rate", "contact_id": contact_id, "rating": 5})

    # The site reports the purchase that followed.
    created = server.api("POST", "/api/admin/sites", admin, json={"name": "shop"})
    key = created.json()["key"]
    event = {
        "event": "purchase_completed",
        "visitor_id": vid,
        "value": 1290.0,
        "currency": "EUR",
        "event_id": "o-1",
    }
    assert (
        server.api("POST", "/api/journey/events", json=event, headers={"X-Site-Key": key}).status_code == 201
    )
    flush(server)

    grid = server.api("GET", "/api/journey/grid", admin).json()
    cells = {(c["stage"], c["channel"]): c for c in grid["cells"]}
    cell = cells[("decision", "chat")]
    assert (cell["volume"], cell["queued"], cell["answered"], cell["abandoned"]) == (1, 1, 1, 0)
    assert (cell["rated"], cell["csat"], cell["converted"], cell["conversion_rate"]) == (1, 1.0, 1, 1.0)
    assert cell["avg_wait_s"] is not None and cell["avg_wait_s"] >= 0
    funnel = server.api("GET", "/api/journey/funnel", admin).json()
    steps = {s["stage"]: s for s in funnel["steps"]}
    assert (steps["decision"]["visitors"], steps["decision"]["contacted"], steps["purchase"]["reached"]) == (
        1,
        1,
        1,
    )
    origins = server.api("GET", "/api/journey/origins", admin).json()
    assert origins["rows"] == [
        {"stage": "decision", "channel": "chat", "contacts": 1, "declared": 1, "rule": 0, "inferred": 0}
    ]
    attribution = server.api("GET", "/api/journey/attribution", admin).json()
    assert (attribution["conversions"], attribution["value"], attribution["attributed"]) == (1, 1290.0, 1)

    # The agent who handled the chat sees the visitor's journey beside it.
    journey = server.api("GET", f"/api/visitors/{vid}/journey", server.login("alice")).json()
    kinds = [(i["kind"], i["stage"]) for i in journey["items"]]
    assert kinds == [("page_view", "decision"), ("contact", "decision"), ("conversion", "purchase")]
    contact = journey["items"][1]
    assert (contact["outcome"], contact["csat"], contact["agent_name"], contact["status"]) == (
        "resolved",
        5,
        "Alice",
        "ended",
    )
    assert (journey["items"][2]["value"], journey["items"][2]["currency"]) == (1290.0, "EUR")
    await agent.close()
    await visitor.close()


async def test_chat_on_a_declared_page_shows_in_the_grid(server: LiveServer) -> None:
    await chat_on_declared_page_shows_in_grid(server)


@pytest.mark.services
async def test_chat_on_a_declared_page_shows_in_the_grid_on_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    with live_server(tmp_path, database_url=postgres_url) as server:
        await chat_on_declared_page_shows_in_grid(server)


async def test_contact_stage_is_inferred_from_the_latest_page(server: LiveServer) -> None:
    admin = server.admin_token()
    server.add_queue(admin, "support", name="Support")
    token = server.visitor_token()
    views = [
        {"url": "https://shop.example/", "stage": "awareness"},
        {"url": "https://shop.example/checkout", "stage": "purchase"},
        {"url": "https://shop.example/blog/some-post"},  # no stage, no rule
    ]
    assert (
        server.api("POST", "/api/visitor/pageviews", json={"token": token, "views": views}).status_code == 204
    )
    socket = await WsClient.connect(server.ws_url + "/ws/visitor", token)
    await socket.wait_type("welcome")
    ack = await socket.request(
        {
            "type": "chat.start",
            "queue": "support",
            "name": "Ann",
            "page": {"url": "https://shop.example/help"},
        }
    )
    contact = server.api("GET", f"/api/contacts/{ack['contact_id']}", admin).json()["contact"]
    assert contact["stage"] == "purchase"
    flush(server)
    journey = server.api("GET", f"/api/visitors/{visitor_id_of(token)}/journey", admin).json()
    # The page without a stage inherits the visitor's stage too.
    assert [(i["kind"], i["stage"], i["stage_source"]) for i in journey["items"]] == [
        ("page_view", "awareness", "declared"),
        ("page_view", "purchase", "declared"),
        ("page_view", "purchase", "inferred"),
        ("contact", "purchase", "inferred"),
    ]
    await socket.close()


async def test_conversion_events_need_a_valid_site_key(server: LiveServer) -> None:
    admin = server.admin_token()
    vid = visitor_id_of(server.visitor_token())
    event = {"event": "purchase_completed", "visitor_id": vid, "value": 99.5}
    missing = server.api("POST", "/api/journey/events", json=event)
    assert missing.status_code == 401 and missing.json()["error"] == "unauthenticated"
    wrong = server.api(
        "POST", "/api/journey/events", json=event, headers={"X-Site-Key": "cck_not-a-real-key"}
    )
    assert wrong.status_code == 403
    garbage = server.api("POST", "/api/journey/events", json=event, headers={"X-Site-Key": "x" * 500})
    assert garbage.status_code == 403
    # An agent's bearer token is not a site key.
    as_agent = server.api("POST", "/api/journey/events", admin, json=event)
    assert as_agent.status_code == 401

    created = server.api("POST", "/api/admin/sites", admin, json={"name": "shop.example"})
    assert created.status_code == 201
    site, key = created.json()["site"], created.json()["key"]
    assert key.startswith("cck_") and site["key_prefix"] == key[:12]
    # Keys are stored hashed: the listing never has them.
    listing = server.api("GET", "/api/admin/sites", admin)
    assert key not in listing.text and listing.json()[0]["id"] == site["id"]

    headers = {"X-Site-Key": key}
    ok = server.api("POST", "/api/journey/events", json={**event, "event_id": "order-7"}, headers=headers)
    assert ok.status_code == 201 and ok.json()["duplicate"] is False
    again = server.api("POST", "/api/journey/events", json={**event, "event_id": "order-7"}, headers=headers)
    assert again.json() == {**ok.json(), "duplicate": True}
    by_token = server.api(
        "POST",
        "/api/journey/events",
        json={"event": "signup", "visitor_token": server.visitor_token()},
        headers=headers,
    )
    assert by_token.status_code == 201
    bad = [
        {"event": "x"},  # no visitor
        {"event": "x", "visitor_token": "nope"},
        {"event": "x", "visitor_id": vid, "occurred_at": time.time() - 90 * 86400},
        {"event": "bad name!", "visitor_id": vid},
        {"event": "x", "visitor_id": vid, "stage": "nowhere"},
    ]
    for body in bad:
        assert server.api("POST", "/api/journey/events", json=body, headers=headers).status_code == 422, body
    journey = server.api("GET", f"/api/visitors/{vid}/journey", admin).json()
    assert [(i["kind"], i["outcome"], i["value"]) for i in journey["items"]] == [
        ("conversion", "purchase_completed", 99.5)
    ]
    # A disabled site's key stops working.
    assert server.api("DELETE", f"/api/admin/sites/{site['id']}", admin).status_code == 204
    assert server.api("POST", "/api/journey/events", json=event, headers=headers).status_code == 403


async def test_roles_csv_and_filters(server: LiveServer) -> None:
    admin = server.admin_token()
    server.add_agent(admin, "sam", role="supervisor")
    server.add_agent(admin, "ann")
    supervisor, agent = server.login("sam"), server.login("ann")
    paths = [
        "/api/journey/funnel",
        "/api/journey/grid",
        "/api/journey/bottlenecks",
        "/api/journey/origins",
        "/api/journey/attribution",
        "/api/journey/sources",
        "/api/journey/funnel.csv",
        "/api/journey/grid.csv",
        "/api/journey/origins.csv",
        "/api/journey/attribution.csv",
        "/api/admin/stage-rules",
    ]
    for path in paths:
        assert server.api("GET", path).status_code == 401, path
        assert server.api("GET", path, agent).status_code == 403, path
        assert server.api("GET", path, supervisor).status_code == 200, path
    # An agent only sees the journey of visitors it talks or talked to (or who wait).
    vid = visitor_id_of(server.visitor_token())
    assert server.api("GET", f"/api/visitors/{vid}/journey", agent).status_code == 404
    assert server.api("GET", f"/api/visitors/{vid}/journey", supervisor).status_code == 200
    assert server.api("GET", "/api/admin/sites", supervisor).status_code == 403

    funnel_csv = server.api("GET", "/api/journey/funnel.csv?from=2026-01-01&to=2026-01-31", supervisor)
    assert funnel_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in funnel_csv.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(funnel_csv.text)))
    assert rows[0][:3] == ["stage", "visitors", "reached"] and [r[0] for r in rows[1:]] == [
        "awareness",
        "consideration",
        "decision",
        "purchase",
        "retention",
    ]
    grid = server.api(
        "GET", "/api/journey/grid?from=2026-01-01&to=2026-01-31&source=google&queue=sales", supervisor
    )
    window = grid.json()["window"]
    assert (window["source"], window["queue"]) == ("google", "sales")
    assert window["end"] - window["start"] == 31 * 86400
    for bad in ("from=yesterday", "from=2026-02-01&to=2026-01-01", "min_volume=-1", "max_abandonment=2"):
        assert server.api("GET", f"/api/journey/grid?{bad}", supervisor).status_code == 422, bad


async def test_stage_rules_through_the_admin_api(server: LiveServer) -> None:
    admin = server.admin_token()
    add = server.api(
        "POST", "/api/admin/stage-rules", admin, json={"pattern": "/blog/*", "stage": "awareness"}
    )
    assert add.status_code == 201
    server.api("POST", "/api/admin/stage-rules", admin, json={"pattern": "/pricing*", "stage": "decision"})
    rules = server.api("GET", "/api/admin/stage-rules", admin).json()["rules"]
    assert [(r["pattern"], r["stage"], r["origin"]) for r in rules] == [
        ("/blog/*", "awareness", "admin"),
        ("/pricing*", "decision", "admin"),
    ]
    match = server.api("GET", "/api/admin/stage-rules/match?url=https://x.test/blog/a", admin).json()
    assert match == {"stage": "awareness", "stage_source": "rule", "pattern": "/blog/*"}
    declared = server.api(
        "GET", "/api/admin/stage-rules/match?url=https://x.test/blog/a&stage=retention", admin
    )
    assert declared.json() == {"stage": "retention", "stage_source": "declared", "pattern": None}

    # Page views and contacts follow the rules at once; a page's data-stage still wins.
    token = server.visitor_token()
    views = [{"url": "https://x.test/blog/gravel"}, {"url": "https://x.test/pricing", "stage": "purchase"}]
    server.api("POST", "/api/visitor/pageviews", json={"token": token, "views": views})
    flush(server)
    journey = server.api("GET", f"/api/visitors/{visitor_id_of(token)}/journey", admin).json()
    assert [(i["stage"], i["stage_source"]) for i in journey["items"]] == [
        ("awareness", "rule"),
        ("purchase", "declared"),
    ]

    replaced = server.api(
        "PUT", "/api/admin/stage-rules", admin, json={"rules": [{"pattern": "/x*", "stage": "retention"}]}
    )
    assert [r["pattern"] for r in replaced.json()["rules"]] == ["/x*"]
    rule_id = replaced.json()["rules"][0]["id"]
    assert server.api("DELETE", f"/api/admin/stage-rules/{rule_id}", admin).status_code == 204
    assert server.api("DELETE", f"/api/admin/stage-rules/{rule_id}", admin).status_code == 404
    assert server.api("GET", "/api/admin/stage-rules", admin).json()["rules"] == []
    bad = server.api("POST", "/api/admin/stage-rules", admin, json={"pattern": "/y", "stage": "nowhere"})
    assert bad.status_code == 422
    agent_token = (server.add_agent(admin, "ann"), server.login("ann"))[1]
    assert (
        server.api(
            "POST", "/api/admin/stage-rules", agent_token, json={"pattern": "/y", "stage": "decision"}
        ).status_code
        == 403
    )


async def test_settings_rules_and_tracking_switch(tmp_path: Path) -> None:
    with live_server(tmp_path, stage_rules=("/shop/*=consideration",), track_page_views=False) as server:
        admin = server.admin_token()
        rules = server.api("GET", "/api/admin/stage-rules", admin).json()["rules"]
        assert rules == [
            {"id": None, "pattern": "/shop/*", "stage": "consideration", "position": 0, "origin": "settings"}
        ]
        assert server.api("GET", "/api/widget/config").json()["track_page_views"] is False
        token = server.visitor_token()
        server.api(
            "POST",
            "/api/visitor/pageviews",
            json={"token": token, "views": [{"url": "https://x.test/shop/a"}]},
        )
        flush(server)
        journey = server.api("GET", f"/api/visitors/{visitor_id_of(token)}/journey", admin).json()
        assert journey["items"] == []


async def test_first_touch_comes_from_the_first_page_even_when_the_socket_opens_first(
    server: LiveServer,
) -> None:
    """The widget says hello before it reports the page it is on: the hello must not
    create the visitor with an empty (direct) first touch."""
    token = server.visitor_token()
    vid = visitor_id_of(token)
    socket = await WsClient.connect(server.ws_url + "/ws/visitor", token)
    await socket.wait_type("welcome")
    page = {
        "url": "https://shop.example/pricing?utm_source=newsletter",
        "title": "Pricing",
        "stage": "decision",
        "utm_source": "newsletter",
    }
    await socket.send({"type": "page.view", "page": page})
    await socket.send({"type": "ping", "id": "p1"})
    await socket.wait_type("pong")
    await socket.close()
    flush(server)
    row = visitor_row(server, vid)
    assert row["first_utm_source"] == "newsletter"
    assert row["first_landing_url"] == page["url"]
