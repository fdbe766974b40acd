"""Saved replies over REST against a live server, on SQLite and on PostgreSQL: who may
create, change and delete which (personal ones are their owner's alone, shared ones
are the supervisors'), validation, search, and which replies apply in a queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.server import LiveServer, live_server


def _shortcuts(response: Any) -> list[tuple[str, str, str | None]]:
    assert response.status_code == 200, response.text
    return [(r["scope"], r["shortcut"], r["queue_id"]) for r in response.json()]


def saved_replies_round_trip(server: LiveServer) -> None:
    admin = server.admin_token()
    server.add_queue(admin, "sales", name="Sales")
    server.add_queue(admin, "support", name="Support")
    server.add_agent(admin, "alice", display_name="Alice Martin")
    server.add_agent(admin, "bob")
    server.add_agent(admin, "sam", role="supervisor")
    alice, bob, sam = server.login("alice"), server.login("bob"), server.login("sam")

    def post(token: str, **body: Any) -> Any:
        return server.api("POST", "/api/saved-replies", token, json=body)

    # An agent keeps personal replies; shared ones are the supervisors'.
    thanks = post(alice, shortcut="thanks", title="Thank you", body="Thanks {{visitor.name}}!")
    assert thanks.status_code == 201, thanks.text
    assert thanks.json()["scope"] == "personal" and thanks.json()["editable"] is True
    refused = post(alice, shortcut="refund", title="Refund", body="x", scope="global")
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    in_persian = server.api(
        "POST",
        "/api/saved-replies",
        alice,
        json={"shortcut": "refund", "title": "R", "body": "x", "scope": "queue", "queue_id": "sales"},
        headers={"Accept-Language": "fa"},
    )
    assert in_persian.status_code == 403 and "سرپرستان" in in_persian.json()["message"]

    refund = post(
        sam,
        shortcut="refund",
        title="Refund policy",
        body="Hi {{visitor.name}}, {{agent.name}} here: refunds take 5 days.",
        scope="global",
    )
    assert refund.status_code == 201, refund.text
    sizes = post(
        sam,
        shortcut="sizes",
        title="Size guide",
        body="Our M fits 170-180 cm.",
        scope="queue",
        queue_id="sales",
    )
    assert sizes.status_code == 201, sizes.text
    # A shortcut is unique within its scope, not across scopes.
    again = post(sam, shortcut="refund", title="Again", body="x", scope="global")
    assert again.status_code == 409 and again.json()["error"] == "exists"
    assert (
        post(
            sam, shortcut="refund", title="Repairs refund", body="y", scope="queue", queue_id="support"
        ).status_code
        == 201
    )
    assert post(alice, shortcut="refund", title="My refund words", body="z").status_code == 201
    assert post(bob, shortcut="thanks", title="Bob's thanks", body="Cheers").status_code == 201

    # Bad input: a clear 4xx, nothing stored.
    for body, status in (
        ({"shortcut": "Bad!", "title": "t", "body": "b"}, 422),
        ({"shortcut": "x" * 33, "title": "t", "body": "b"}, 422),
        ({"shortcut": "long", "title": "t", "body": "b" * 4001}, 422),
        ({"shortcut": "blank", "title": "   ", "body": "b"}, 422),
        ({"shortcut": "blank", "title": "t", "body": "\n \n"}, 422),
        ({"shortcut": "q", "title": "t", "body": "b", "scope": "queue"}, 422),
        ({"shortcut": "q", "title": "t", "body": "b", "scope": "global", "queue_id": "sales"}, 422),
        ({"shortcut": "q", "title": "t", "body": "b", "scope": "queue", "queue_id": "nowhere"}, 422),
        ({"shortcut": "q", "title": "t", "body": "b", "scope": "team"}, 422),
        ({"shortcut": "q", "title": "t", "body": "b", "owner_id": "someone"}, 422),
    ):
        response = post(sam, **body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"] == "invalid" and response.json()["message"], response.text
    assert (
        server.api(
            "POST", "/api/saved-replies", json={"shortcut": "x", "title": "t", "body": "b"}
        ).status_code
        == 401
    )
    assert server.api("GET", "/api/saved-replies").status_code == 401
    assert server.api("GET", "/api/saved-replies?scope=team", alice).status_code == 422

    # What applies in a queue: mine, then the queue's, then every queue's.
    in_sales = _shortcuts(server.api("GET", "/api/saved-replies?queue=sales", alice))
    assert in_sales == [
        ("personal", "refund", None),
        ("personal", "thanks", None),
        ("queue", "sizes", "sales"),
        ("global", "refund", None),
    ]
    in_support = _shortcuts(server.api("GET", "/api/saved-replies?queue=support", alice))
    assert ("queue", "refund", "support") in in_support and ("queue", "sizes", "sales") not in in_support
    everything = _shortcuts(server.api("GET", "/api/saved-replies", alice))
    assert len(everything) == 5 and ("queue", "refund", "support") in everything
    # Nobody sees another agent's personal replies, supervisors neither.
    bobs = [r for r in server.api("GET", "/api/saved-replies", bob).json() if r["scope"] == "personal"]
    assert [(r["shortcut"], r["title"]) for r in bobs] == [("thanks", "Bob's thanks")]
    assert all(r["scope"] != "personal" for r in server.api("GET", "/api/saved-replies", sam).json())
    # editable says what the caller may change.
    by_key = {
        (r["scope"], r["shortcut"]): r
        for r in server.api("GET", "/api/saved-replies?queue=sales", alice).json()
    }
    assert by_key[("personal", "thanks")]["editable"] and not by_key[("global", "refund")]["editable"]
    assert all(r["editable"] for r in server.api("GET", "/api/saved-replies", sam).json())

    # Search over shortcut, title and body, any case, within what the caller sees.
    assert _shortcuts(server.api("GET", "/api/saved-replies?q=SIZE", alice)) == [("queue", "sizes", "sales")]
    assert _shortcuts(server.api("GET", "/api/saved-replies?q=5 days", alice)) == [("global", "refund", None)]
    found = _shortcuts(server.api("GET", "/api/saved-replies?q=refund&queue=sales", alice))
    assert found == [("personal", "refund", None), ("global", "refund", None)]
    assert _shortcuts(server.api("GET", "/api/saved-replies?q=100%25", alice)) == []
    assert _shortcuts(server.api("GET", "/api/saved-replies?q=cheers", alice)) == []

    # Changing: the owner changes a personal one; nobody else even finds it.
    thanks_id = thanks.json()["id"]
    refund_id = refund.json()["id"]
    assert (
        server.api("PATCH", f"/api/saved-replies/{thanks_id}", bob, json={"title": "Mine now"}).status_code
        == 404
    )
    assert (
        server.api("PATCH", f"/api/saved-replies/{thanks_id}", sam, json={"title": "Mine now"}).status_code
        == 404
    )
    changed = server.api("PATCH", f"/api/saved-replies/{thanks_id}", alice, json={"title": " Many thanks "})
    assert changed.status_code == 200 and changed.json()["title"] == "Many thanks"
    assert changed.json()["body"] == "Thanks {{visitor.name}}!"
    taken = server.api("PATCH", f"/api/saved-replies/{thanks_id}", alice, json={"shortcut": "refund"})
    assert taken.status_code == 409
    assert (
        server.api("PATCH", f"/api/saved-replies/{thanks_id}", alice, json={"body": "  "}).status_code == 422
    )
    assert (
        server.api("PATCH", f"/api/saved-replies/{thanks_id}", alice, json={"scope": "global"}).status_code
        == 422
    )
    # Shared ones: supervisors only.
    forbidden = server.api("PATCH", f"/api/saved-replies/{refund_id}", alice, json={"body": "hacked"})
    assert forbidden.status_code == 403
    edited = server.api(
        "PATCH", f"/api/saved-replies/{refund_id}", sam, json={"body": "Refunds take 3 days."}
    )
    assert edited.status_code == 200 and edited.json()["body"] == "Refunds take 3 days."
    assert server.api("PATCH", "/api/saved-replies/nope", sam, json={"body": "x"}).status_code == 404

    # Deleting, by the same rules.
    assert server.api("DELETE", f"/api/saved-replies/{refund_id}", alice).status_code == 403
    assert server.api("DELETE", f"/api/saved-replies/{thanks_id}", bob).status_code == 404
    assert server.api("DELETE", f"/api/saved-replies/{thanks_id}", alice).status_code == 204
    assert server.api("DELETE", f"/api/saved-replies/{thanks_id}", alice).status_code == 404
    assert server.api("DELETE", f"/api/saved-replies/{refund_id}", sam).status_code == 204
    assert _shortcuts(server.api("GET", "/api/saved-replies?queue=sales", alice)) == [
        ("personal", "refund", None),
        ("queue", "sizes", "sales"),
    ]

    # Shared replies are team configuration: their changes are in the audit log.
    audit = server.api("GET", "/api/admin/audit?action=saved_reply.", admin).json()["entries"]
    actions = sorted((e["action"], e["actor_name"]) for e in audit)
    assert ("saved_reply.create", "sam") in actions and ("saved_reply.update", "sam") in actions
    assert ("saved_reply.delete", "sam") in actions
    assert all(e["actor_name"] == "sam" for e in audit)  # personal replies are not audited


def test_saved_replies_on_sqlite(server: LiveServer) -> None:
    saved_replies_round_trip(server)


@pytest.mark.services
def test_saved_replies_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    with live_server(tmp_path, database_url=postgres_url) as server:
        saved_replies_round_trip(server)
