"""What the server writes for people, in their language, against a live server: REST
errors by Accept-Language, error frames by the socket's hello.locale, the widget's
language and queue names negotiated within a site's allowed locales, the catalogue
endpoint and its cache validation, and CSV exports for people (titles, Jalali times)."""

from __future__ import annotations

import asyncio
import csv
import io
import re

from tests.support.client import WsClient
from tests.support.server import LiveServer


def test_rest_errors_speak_the_readers_language(server: LiveServer) -> None:
    admin = server.admin_token()
    fa = server.api("GET", "/api/contacts/nope", admin, headers={"Accept-Language": "fa-IR,en;q=0.5"})
    assert fa.status_code == 404
    assert fa.json() == {"error": "not_found", "message": "چنین تماسی (contact) نیست"}
    en = server.api("GET", "/api/contacts/nope", admin)
    assert en.json()["message"] == "no such contact"
    bad = server.api("POST", "/api/admin/queues", admin, json={"id": "q", "labels": {"xx": "Q"}})
    assert bad.status_code == 422 and "xx" in bad.json()["message"]


async def test_error_frames_speak_the_sockets_language(server: LiveServer) -> None:
    token = server.visitor_token()
    visitor = await WsClient.connect(server.ws_url + "/ws/visitor", None)
    await visitor.send({"type": "hello", "token": token, "locale": "fa"})
    await visitor.wait_type("welcome")
    await visitor.send({"type": "chat.message", "id": "m1", "contact_id": "nope", "body": "سلام"})
    error = await visitor.wait_type("error", ref="m1")
    assert error["code"] == "not_found"
    assert error["message"] == "چنین گفتگویی نیست" and error["message_key"] == "error.no_such_conversation"
    await visitor.close()
    english = await WsClient.connect(server.ws_url + "/ws/visitor", token)
    await english.wait_type("welcome")
    await english.send({"type": "chat.message", "id": "m2", "contact_id": "nope", "body": "hi"})
    assert (await english.wait_type("error", ref="m2"))["message"] == "no such conversation"
    await english.close()


def test_widget_language_follows_the_site(server: LiveServer) -> None:
    admin = server.admin_token()
    server.add_queue(admin, "sales", name="Sales", labels={"fa": "فروش"})
    config = server.api("GET", "/api/widget/config?want=fa-IR,en").json()
    assert (config["locale"], config["dir"]) == ("fa", "rtl")
    assert config["queues"][0]["name"] == "فروش"
    assert server.api("GET", "/api/widget/config?want=de,en").json()["queues"][0]["name"] == "Sales"

    created = server.api(
        "POST",
        "/api/admin/sites",
        admin,
        json={"name": "shop.ir", "default_locale": "fa", "allowed_locales": ["fa"]},
    )
    assert created.status_code == 201, created.text
    site = created.json()["site"]
    assert (site["default_locale"], site["allowed_locales"]) == ("fa", ["fa"])
    # An English browser on a Persian-only site gets Persian.
    config = server.api("GET", f"/api/widget/config?site={site['id']}&want=en-US").json()
    assert config["locale"] == "fa" and config["allowed_locales"] == ["fa"]
    bundle = server.api("GET", f"/api/locales/widget?site={site['id']}&want=en-US")
    assert bundle.json()["locale"] == "fa" and bundle.json()["dir"] == "rtl"
    again = server.api(
        "GET",
        f"/api/locales/widget?site={site['id']}&want=en-US",
        headers={"If-None-Match": bundle.headers["etag"]},
    )
    assert again.status_code == 304
    # The default must be allowed; then both change.
    wrong = server.api("PATCH", f"/api/admin/sites/{site['id']}", admin, json={"allowed_locales": ["en"]})
    assert wrong.status_code == 422
    moved = server.api(
        "PATCH",
        f"/api/admin/sites/{site['id']}",
        admin,
        json={"default_locale": "en", "allowed_locales": ["en", "fa"]},
    )
    assert moved.json()["allowed_locales"] == ["en", "fa"]
    assert server.api("GET", f"/api/widget/config?site={site['id']}&want=de").json()["locale"] == "en"
    assert server.api("GET", "/api/locales/nope").status_code == 404


async def test_report_csv_for_people_in_persian(server: LiveServer) -> None:
    admin = server.admin_token()
    query = "/api/reports?from=2025-03-21&to=2025-03-21&interval=day&tz=Asia/Tehran&format=csv"
    machine = await asyncio.to_thread(server.api, "GET", query, admin)
    assert machine.text.splitlines()[0].startswith("interval_start,interval_end,")
    people = await asyncio.to_thread(server.api, "GET", query + "&locale=fa", admin)
    rows = list(csv.reader(io.StringIO(people.text)))
    assert rows[0][:2] == ["آغاز بازه", "پایان بازه"]
    assert rows[1][0] == "۱۴۰۴/۰۱/۰۱ ۰۰:۰۰"  # Nowruz, midnight in Tehran
    assert re.fullmatch(r"[0-9.]*", rows[1][4])  # counts stay in ASCII digits for spreadsheets
    funnel = await asyncio.to_thread(server.api, "GET", "/api/journey/funnel.csv?locale=fa", admin)
    assert funnel.text.splitlines()[0].startswith("مرحله,")
