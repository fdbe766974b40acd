"""Documentation and code agree: the AsyncAPI document is what the structs generate,
every JSON example in docs/protocol.md is a valid frame or event, and /openapi.json
documents every REST route the app serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import yaml

from contact_center import protocol as p
from contact_center.api.openapi import openapi_document
from contact_center.api.registry import API_ROUTES
from contact_center.app import create_app
from contact_center.protocol_docs import AGENT_EVENTS, DOC_PATH, VISITOR_EVENTS, build_document, render
from tests.support.server import server_settings

DOCS = Path(__file__).resolve().parent.parent / "docs"
_server_decoder = msgspec.json.Decoder(p.ServerEvent)


def test_asyncapi_document_is_generated_from_the_structs() -> None:
    assert DOC_PATH.read_text() == render(), "run: python -m contact_center.protocol_docs"
    document = yaml.safe_load(DOC_PATH.read_text())
    assert document == json.loads(json.dumps(build_document()))


def test_channels_list_exactly_what_each_socket_accepts_and_sends() -> None:
    document = yaml.safe_load(DOC_PATH.read_text())
    for channel, allowed, events in (
        ("visitor", p.VISITOR_FRAMES, VISITOR_EVENTS),
        ("agent", p.AGENT_FRAMES, AGENT_EVENTS),
    ):
        keys = set(document["channels"][channel]["messages"])
        assert {k[len("client.") :] for k in keys if k.startswith("client.")} == set(allowed) | {"hello"}
        assert {k[len("server.") :] for k in keys if k.startswith("server.")} == set(events)
    tags = {p.frame_tag(cls) for cls in p.SERVER_EVENTS}
    assert set(VISITOR_EVENTS) | set(AGENT_EVENTS) <= tags


def test_schema_in_the_document_matches_what_the_decoder_enforces() -> None:
    document = yaml.safe_load(DOC_PATH.read_text())
    schema = document["components"]["schemas"]["ChatMessage"]
    assert schema["properties"]["body"]["maxLength"] == 4000
    assert set(schema["required"]) == {"type", "id", "contact_id", "body"}
    too_long = {"type": "chat.message", "id": "x", "contact_id": "c1", "body": "b" * 4001}
    try:
        p.decode_client_frame(json.dumps(too_long))
    except p.FrameError as exc:
        assert exc.code == "invalid_frame"
    else:
        raise AssertionError("the decoder accepted what the document forbids")


def test_every_example_in_protocol_md_is_valid() -> None:
    text = (DOCS / "protocol.md").read_text()
    blocks = re.findall(r"```json\n(.*?)\n\s*```", text, re.S)
    assert len(blocks) >= 10
    for block in blocks:
        raw = block.strip()
        try:
            p.decode_client_frame(raw)
        except p.FrameError as client_error:
            try:
                _server_decoder.decode(raw)
            except msgspec.ValidationError as server_error:
                raise AssertionError(
                    f"{raw}\nclient: {client_error.message}\nserver: {server_error}"
                ) from None


def test_openapi_documents_every_rest_route(tmp_path: Path) -> None:
    app = create_app(server_settings(tmp_path))
    document = openapi_document(API_ROUTES, "test")
    served = {
        (method, route.path)
        for route in app.routes
        if getattr(route, "path", "").startswith(("/api/", "/healthz"))
        for method in (getattr(route, "methods", None) or ())
        if method != "HEAD"
    }
    documented = {(m.upper(), path) for path, ops in document["paths"].items() for m in ops}
    assert served == documented
    for ops in document["paths"].values():
        for op in ops.values():
            for response in op["responses"].values():
                for media in response.get("content", {}).values():
                    assert "$ref" in media["schema"] or "type" in media["schema"]


def test_every_rest_body_in_protocol_md_is_what_its_route_accepts() -> None:
    """The curl examples' bodies decode as the request type the route declares."""
    text = (DOCS / "protocol.md").read_text()
    calls = re.findall(r"curl -X (\w+) https?://[^/\s]+(/\S+) .*?-d '(\{.*?\})'", text)
    assert len(calls) >= 2
    routes = {(api.method, api.path): api for api in API_ROUTES}
    for method, path, body in calls:
        api = routes[(method, path)]
        assert api.request is not None, f"{method} {path} takes no body"
        msgspec.json.decode(body, type=api.request)
