"""Hypothesis strategies for WebSocket frames, built from the protocol's own msgspec
structs (their JSON schema), then mutated.

Valid frames follow the schema (types, lengths, patterns, enums, required fields);
the mutations are what a broken or hostile client sends: a field of the wrong type, a
required field missing, a string far past its limit, unicode edge cases (lone
surrogates, NUL, bidi overrides, zero-width joiners, emoji), seq numbers that are
negative or huge, unknown fields and types, JSON that is not an object, and bytes
that are not JSON at all.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from hypothesis import strategies as st

from contact_center import protocol as p

UNICODE_EDGES = [
    "\u0000",
    "\ud800",  # a lone surrogate (escaped in JSON, not valid UTF-16)
    "\udfff",
    "\u202e",  # right-to-left override
    "\u200d",  # zero-width joiner
    "\ufeff",
    "\uffff",
    "👩‍👩‍👧‍👦",
    "\U0010ffff",
    "e\u0301",
    "<img src=x onerror=alert(1)>",
    "'; DROP TABLE contacts; --",
    "%s%n%x",
    "../../etc/passwd",
]


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for values valid under this (msgspec-made) JSON schema."""
    schema = _resolve(schema, defs)
    if "anyOf" in schema:
        return st.one_of([from_schema(s, defs) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "string":
        lo, hi = schema.get("minLength", 0), min(schema.get("maxLength", 200), 200)
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: lo <= len(s) <= hi)
        return st.text(min_size=lo, max_size=hi)
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**31)), schema.get("maximum", 2**31))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e6), schema.get("maximum", 1e6), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {}), defs), max_size=min(schema.get("maxItems", 4), 4)
        )
    if kind == "object":
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: from_schema(v, defs) for k, v in properties.items() if k in required},
            optional={k: from_schema(v, defs) for k, v in properties.items() if k not in required},
        )
    return st.just("")


def _struct_schema(cls: type[msgspec.Struct]) -> tuple[dict[str, Any], dict[str, Any]]:
    full = msgspec.json.schema(cls)
    defs = full.get("$defs", {})
    return _resolve(full, defs), defs


def valid_frame(cls: type[msgspec.Struct]) -> st.SearchStrategy[dict[str, Any]]:
    schema, defs = _struct_schema(cls)
    return from_schema(schema, defs)  # type: ignore[no-any-return]


WRONG_VALUES = st.sampled_from([None, 0, -1, 2**70, 1.5e308, True, [], [1, 2], {}, {"a": 1}, "", "x" * 70])


@st.composite
def mutated_frame(draw: st.DrawFn, cls: type[msgspec.Struct]) -> dict[str, Any]:
    frame = dict(draw(valid_frame(cls)))
    schema, _defs = _struct_schema(cls)
    fields = [k for k in schema.get("properties", {}) if k != "type"]
    how = draw(st.sampled_from(["wrong_type", "missing", "huge", "unicode", "seq", "unknown_field", "type"]))
    if how == "wrong_type" and fields:
        frame[draw(st.sampled_from(fields))] = draw(WRONG_VALUES)
    elif how == "missing" and schema.get("required"):
        frame.pop(draw(st.sampled_from(sorted(schema["required"]))), None)
    elif how == "huge":
        target = draw(st.sampled_from(fields or ["type"]))
        frame[target] = "é" * draw(st.sampled_from([65, 257, 4001, 20_000]))
    elif how == "unicode":
        target = draw(st.sampled_from(fields or ["type"]))
        frame[target] = draw(st.sampled_from(UNICODE_EDGES)) * draw(st.integers(1, 3))
    elif how == "seq":
        for name in ("seq", "after_seq", "rating", "lifetime"):
            if name in frame or name in fields:
                frame[name] = draw(st.sampled_from([-1, -(2**63), 2**63, 2**70, 10**30]))
    elif how == "unknown_field":
        frame[draw(st.sampled_from(["foo", "__proto__", "constructor", "id2"]))] = draw(WRONG_VALUES)
    else:
        frame["type"] = draw(st.sampled_from(["ack", "welcome", "error", "CHAT.START", "", "chat.message "]))
    return frame


def encode(frame: Any) -> str:
    """As a client would put it on the wire (lone surrogates escaped by json)."""
    return json.dumps(frame)


GARBAGE = [
    "[]",
    "1",
    '"chat.message"',
    "null",
    "{",
    '{"type": "chat.message", "id": ',
    "{}",
    '{"type": null}',
    "\u0000",
    "",
    '{"type": "ping", "id": "' + "x" * 65 + '"}',
    '{"type":"chat.message","id":"a","contact_id":"b","body":"c","body":"d"}',
    "[" * 5000 + "]" * 5000,
    '{"a":' * 2000 + "1" + "}" * 2000,
]
RAW_GARBAGE = st.sampled_from(GARBAGE)
# Binary frames: the protocol is text frames; bytes are refused (or read as the JSON
# they hold), never a crash.
BINARY = [b"\xff\xfe\x00", b'{"type": "ping", "id": "b"}', b"\x80" * 100, b""]

CLIENT_FRAMES: tuple[type[msgspec.Struct], ...] = tuple(c for c in p.CLIENT_FRAMES if c is not p.Hello)
