"""Generate ``docs/asyncapi.yaml`` from the protocol structs.

    python -m contact_center.protocol_docs            # rewrite docs/asyncapi.yaml
    python -m contact_center.protocol_docs --check    # exit 1 if it is out of date

The document is derived, never hand-edited, and a test fails when the committed copy
differs from what the code validates with.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any

import msgspec
import yaml

from contact_center import protocol as p

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "asyncapi.yaml"
_REF = "#/components/schemas/{name}"

# Call events reach both kinds of socket (DESIGN section 3a).
CALL_EVENTS = (
    "call.invite",
    "call.state",
    "call.offer",
    "call.answer",
    "call.candidates",
    "call.negotiate",
    "call.media_state",
    "call.quality",
)

# Which server events each kind of socket receives.
VISITOR_EVENTS = (
    "ack",
    "error",
    "pong",
    "welcome",
    "chat.message",
    "contact.joined",
    "contact.transferred",
    "contact.ended",
    "contact.rated",
    "chat.typing",
    "chat.receipt",
    "queue.position",
    "contact.overflowed",
    *CALL_EVENTS,
)
AGENT_EVENTS = (
    "ack",
    "error",
    "pong",
    "welcome",
    "chat.message",
    "contact.joined",
    "contact.transferred",
    "contact.ended",
    "contact.rated",
    "chat.typing",
    "chat.receipt",
    "offer",
    "offer.revoked",
    "refused",
    "contact.assigned",
    "contact.released",
    "agent.state",
    "queue.view",
    "visitor.page",
    *CALL_EVENTS,
)
EXTRA_EVENTS: dict[str, tuple[str, ...]] = {}
# The supervisor page's socket: the dashboard, and conversations followed read-only.
SUPERVISOR_EVENTS = (
    "ack",
    "error",
    "pong",
    "welcome",
    "dashboard.legend",
    "dashboard.snapshot",
    "chat.message",
    "contact.joined",
    "contact.transferred",
    "contact.ended",
    "contact.rated",
    "chat.typing",
    "chat.receipt",
    "queue.position",
    "contact.overflowed",
    "visitor.page",
)


def _tag(cls: type[msgspec.Struct]) -> str:
    return p.frame_tag(cls)


def prose(text: str) -> str:
    """A docstring as one line per paragraph.

    Libraries disagree on how they extract a docstring (msgspec 0.19 kept the source's
    indentation, 0.23 cleans it), and a generated document must not change with the
    library's version: strip every line, join the lines of a paragraph with a space and
    keep blank lines between paragraphs.
    """
    paragraphs: list[list[str]] = [[]]
    for line in inspect.cleandoc(text).splitlines():
        line = line.strip()
        if line:
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    return "\n\n".join(" ".join(lines) for lines in paragraphs if lines)


def _normalise(node: Any) -> Any:
    """Every ``description`` in a schema tree through :func:`prose`."""
    if isinstance(node, dict):
        return {
            key: prose(value) if key == "description" and isinstance(value, str) else _normalise(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_normalise(item) for item in node]
    return node


def _message_key(direction: str, tag: str) -> str:
    return f"{direction}.{tag}"


def build_document() -> dict[str, Any]:
    client_types: list[type[msgspec.Struct]] = list(p.CLIENT_FRAMES)
    server_types: list[type[msgspec.Struct]] = list(p.SERVER_EVENTS)
    schemas, components = msgspec.json.schema_components(client_types + server_types, ref_template=_REF)
    schemas, components = _normalise(schemas), _normalise(components)
    by_type = dict(zip(client_types + server_types, schemas, strict=True))

    messages: dict[str, Any] = {}
    for cls in client_types:
        messages[_message_key("client", _tag(cls))] = {
            "name": _tag(cls),
            "title": _tag(cls),
            "summary": prose(inspect.getdoc(cls) or _tag(cls)),
            "payload": by_type[cls],
        }
    for cls in server_types:
        messages[_message_key("server", _tag(cls))] = {
            "name": _tag(cls),
            "title": _tag(cls),
            "summary": prose(inspect.getdoc(cls) or _tag(cls)),
            "payload": by_type[cls],
        }

    def refs(keys: list[str]) -> dict[str, Any]:
        return {key: {"$ref": f"#/components/messages/{key}"} for key in keys}

    visitor_in = ["client.hello"] + [_message_key("client", t) for t in sorted(p.VISITOR_FRAMES)]
    agent_in = ["client.hello"] + [_message_key("client", t) for t in sorted(p.AGENT_FRAMES)]
    visitor_out = [_message_key("server", t) for t in VISITOR_EVENTS]
    agent_out = [_message_key("server", t) for t in AGENT_EVENTS]
    supervisor_in = ["client.hello"] + [_message_key("client", t) for t in sorted(p.SUPERVISOR_FRAMES)]
    supervisor_out = [_message_key("server", t) for t in SUPERVISOR_EVENTS]

    channels = {
        "visitor": {
            "address": "/ws/visitor",
            "title": "Visitor socket (the widget)",
            "description": "Opened by the widget with a visitor token from POST /api/visitor/token.",
            "messages": refs(visitor_in + visitor_out),
        },
        "agent": {
            "address": "/ws/agent",
            "title": "Agent socket (the console)",
            "description": "Opened by agents, supervisors and admins with a token from POST /api/auth/login.",
            "messages": refs(agent_in + agent_out),
        },
        "supervisor": {
            "address": "/ws/supervisor",
            "title": "Supervisor socket (the live dashboard)",
            "description": (
                "Opened by the supervisor page with a supervisor or admin token from POST "
                "/api/auth/login (other roles: close 4403). Receives dashboard.legend once, then "
                "dashboard.snapshot at least every second; follows conversations read-only."
            ),
            "messages": refs(supervisor_in + supervisor_out),
        },
    }

    def operation(action: str, channel: str, keys: list[str], summary: str) -> dict[str, Any]:
        return {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": summary,
            "messages": [{"$ref": f"#/channels/{channel}/messages/{key}"} for key in keys],
        }

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Contact centre WebSocket protocol",
            "version": "1",
            "description": (
                "JSON text frames tagged by `type`. The first frame on a socket is `hello` with a "
                "signed token (close 4401 otherwise; 4403 when the token's role does not match the "
                "socket). Frames that change state carry a client-chosen `id`, acknowledged by `ack`; "
                "a repeated id is applied once. Events on a conversation carry its `seq`; after a "
                "reconnect, `hello.resume` replays what followed. A bad frame gets `error` and the "
                "socket stays open; floods close with 4429 and frames over the size limit with "
                "1009. Prose and examples: docs/protocol.md."
            ),
        },
        "servers": {
            "local": {"host": "127.0.0.1:8000", "protocol": "ws", "description": "the embedded default"}
        },
        "channels": channels,
        "operations": {
            "visitorSends": operation("receive", "visitor", visitor_in, "Frames the widget sends"),
            "visitorReceives": operation("send", "visitor", visitor_out, "Events the widget receives"),
            "agentSends": operation("receive", "agent", agent_in, "Frames the console sends"),
            "agentReceives": operation("send", "agent", agent_out, "Events the console receives"),
            "supervisorSends": operation("receive", "supervisor", supervisor_in, "Frames the page sends"),
            "supervisorReceives": operation("send", "supervisor", supervisor_out, "Events the page gets"),
        },
        "components": {"messages": messages, "schemas": components},
    }


def render() -> str:
    header = (
        "# Generated by `python -m contact_center.protocol_docs` from contact_center/protocol.py.\n"
        "# Do not edit by hand.\n"
    )
    body: str = yaml.safe_dump(build_document(), sort_keys=False, allow_unicode=True, width=100)
    return header + body


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = DOC_PATH.read_text() if DOC_PATH.exists() else ""
        if current != text:
            print(f"{DOC_PATH} is out of date: run python -m contact_center.protocol_docs")
            return 1
        return 0
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(text)
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
