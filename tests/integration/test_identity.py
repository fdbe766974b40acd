"""Verified visitor identity over REST and the visitor socket, on SQLite and on
PostgreSQL: a site's backend signs its customer's id, the token names the customer's
one visitor on every device, and a forged, stale or foreign HMAC is refused while an
anonymous visitor still works."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest

from contact_center.i18n import translate
from tests.support.client import WsClient
from tests.support.server import LiveServer, live_server


def sign(secret: str, customer_id: str) -> str:
    """What a site's backend computes (README, "Verified identity")."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


def new_site(server: LiveServer, admin: str, name: str) -> tuple[str, str]:
    created = server.api("POST", "/api/admin/sites", admin, json={"name": name})
    assert created.status_code == 201, created.text
    site_id = created.json()["site"]["id"]
    issued = server.api("POST", f"/api/admin/sites/{site_id}/identity-secret", admin)
    assert issued.status_code == 201, issued.text
    secret = issued.json()["secret"]
    assert secret.startswith("ccid_") and issued.json()["prefix"] == secret[:12]
    return site_id, secret


def token_request(server: LiveServer, **body: Any) -> Any:
    return server.api("POST", "/api/visitor/token", json=body)


def identify(server: LiveServer, site: str, customer: str, mac: str, token: str = "", **who: str) -> Any:
    return token_request(server, token=token, site=site, identity={"id": customer, **who}, hmac=mac)


def assert_refused(response: Any, key: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json() == {"error": "identity_refused", "message": translate("en", key)}


async def identity_round_trip(server: LiveServer) -> None:
    admin = server.admin_token()
    shop, secret = new_site(server, admin, "shop.example")
    listed = {s["id"]: s for s in server.api("GET", "/api/admin/sites", admin).json()}
    assert listed[shop]["identity_prefix"] == secret[:12]
    assert secret not in server.api("GET", "/api/admin/sites", admin).text

    # Two requests with no token at all (two devices): one customer, one visitor.
    first = identify(server, shop, "c-42", sign(secret, "c-42"), name="Ada Lovelace", email="ada@example.com")
    assert first.status_code == 200, first.text
    assert first.json()["verified"] is True
    customer_visitor = first.json()["visitor_id"]
    second = identify(server, shop, "c-42", sign(secret, "c-42").upper())
    assert second.json()["visitor_id"] == customer_visitor and second.json()["verified"] is True
    # A device that was an anonymous visitor becomes the customer's visitor.
    anonymous = server.visitor_token()
    third = identify(server, shop, "c-42", sign(secret, "c-42"), token=anonymous)
    assert third.json()["visitor_id"] == customer_visitor

    # Forged: another id's hmac, garbage, none at all.  Refused, nothing stored.
    assert_refused(identify(server, shop, "c-42", sign(secret, "c-43")), "error.identity.bad_hmac")
    assert_refused(identify(server, shop, "c-42", "0" * 64), "error.identity.bad_hmac")
    assert_refused(identify(server, shop, "c-42", ""), "error.identity.bad_hmac")
    assert_refused(identify(server, shop, "c-77", sign(secret + "x", "c-77")), "error.identity.bad_hmac")
    # ... and the widget's fallback, an anonymous visitor, still works.
    fallback = token_request(server, token="")
    assert fallback.status_code == 200 and fallback.json()["verified"] is False
    assert fallback.json()["visitor_id"] != customer_visitor

    # Bad input is a 422 with its catalogue key.
    for body, key in (
        ({"site": shop, "identity": {"id": "x" * 129}, "hmac": "ab"}, None),
        ({"site": shop, "identity": {"id": "c\n42"}, "hmac": sign(secret, "c\n42")}, "error.identity.bad_id"),
        (
            {"site": shop, "identity": {"id": "c-42", "email": "no address"}, "hmac": sign(secret, "c-42")},
            "error.identity.bad_email",
        ),
        ({"identity": {"id": "c-42"}, "hmac": sign(secret, "c-42")}, "error.identity.site_needed"),
        ({"site": shop, "hmac": sign(secret, "c-42")}, "error.identity.hmac_without_identity"),
    ):
        refused = token_request(server, **body)
        assert refused.status_code == 422, (body, refused.text)
        if key:
            assert refused.json()["message"] == translate("en", key)

    # Another site's secret does not vouch for this site's customers; on its own site
    # the same id is another customer.
    other, other_secret = new_site(server, admin, "other.example")
    assert_refused(identify(server, shop, "c-42", sign(other_secret, "c-42")), "error.identity.bad_hmac")
    elsewhere = identify(server, other, "c-42", sign(other_secret, "c-42"))
    assert elsewhere.status_code == 200 and elsewhere.json()["visitor_id"] != customer_visitor
    unknown = identify(server, "no-such-site", "c-42", sign(secret, "c-42"))
    assert_refused(unknown, "error.identity.not_enabled")

    # The customer chats from the first device; the agent sees the verified customer.
    server.add_queue(admin, "sales", name="Sales")
    laptop = await WsClient.connect(server.ws_url + "/ws/visitor", first.json()["token"])
    await laptop.wait_type("welcome")
    ack = await laptop.request({"type": "chat.start", "queue": "sales", "name": "Ada", "message": "Order?"})
    contact_id = ack["contact_id"]
    detail = server.api("GET", f"/api/contacts/{contact_id}", admin).json()
    assert detail["customer"]["external_id"] == "c-42"
    assert detail["customer"]["name"] == "Ada Lovelace" and detail["customer"]["email"] == "ada@example.com"
    assert detail["customer"]["site_id"] == shop and detail["customer"]["site_name"] == "shop.example"

    # The second device (its own token, same visitor) sees that conversation ...
    phone = await WsClient.connect(server.ws_url + "/ws/visitor", second.json()["token"])
    welcome = await phone.wait_type("welcome")
    assert [c["id"] for c in welcome["contacts"]] == [contact_id]
    replayed = await phone.wait_type("chat.message", contact_id=contact_id)
    assert replayed["body"] == "Order?"
    # ... the anonymous fallback sees nothing of it, nor may it touch it.
    stranger = await WsClient.connect(server.ws_url + "/ws/visitor", fallback.json()["token"])
    assert (await stranger.wait_type("welcome")).get("contacts", []) == []
    await stranger.send({"type": "sync", "id": "s1", "contact_id": contact_id, "after_seq": 0})
    assert (await stranger.wait_type("error"))["code"] == "not_found"
    # An anonymous visitor's contact has no customer.
    anon_ack = await stranger.request({"type": "chat.start", "queue": "sales", "name": "A", "message": "Hi"})
    anon = server.api("GET", f"/api/contacts/{anon_ack['contact_id']}", admin).json()
    assert anon["customer"] is None
    for client in (laptop, phone, stranger):
        await client.close()

    # Rotated: the old hmac is refused, the new one finds the same customer.
    rotated = server.api("POST", f"/api/admin/sites/{shop}/identity-secret", admin).json()["secret"]
    assert rotated != secret
    assert_refused(identify(server, shop, "c-42", sign(secret, "c-42")), "error.identity.bad_hmac")
    again = identify(server, shop, "c-42", sign(rotated, "c-42"))
    assert again.json()["visitor_id"] == customer_visitor
    # Turned off: every hmac is refused.
    assert server.api("DELETE", f"/api/admin/sites/{shop}/identity-secret", admin).status_code == 204
    assert_refused(identify(server, shop, "c-42", sign(rotated, "c-42")), "error.identity.not_enabled")
    # Only admins hand out secrets.
    server.add_agent(admin, "alice")
    agent = server.login("alice")
    assert server.api("POST", f"/api/admin/sites/{shop}/identity-secret", agent).status_code == 403
    assert server.api("POST", "/api/admin/sites/nope/identity-secret", admin).status_code == 404
    actions = [e["action"] for e in server.api("GET", "/api/admin/audit", admin).json()["entries"]]
    assert actions.count("site.identity_secret") == 3 and "site.identity_secret_remove" in actions


async def test_verified_identity_on_sqlite(server: LiveServer) -> None:
    await identity_round_trip(server)


@pytest.mark.services
async def test_verified_identity_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    with live_server(tmp_path, database_url=postgres_url) as server:
        await identity_round_trip(server)
