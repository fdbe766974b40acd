"""The OpenAPI 3.1 document, generated from the declared routes and their msgspec
types, so what /openapi.json says is what the handlers validate."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from contact_center.api.http import ApiRoute, ErrorBody

_REF = "#/components/schemas/{name}"


def openapi_document(routes: Sequence[ApiRoute], version: str) -> dict[str, Any]:
    types: list[Any] = [ErrorBody]
    for route in routes:
        if route.request is not None:
            types.append(route.request)
        if route.response is not None:
            types.append(route.response)
    schemas, components = msgspec.json.schema_components(types, ref_template=_REF)
    by_type = dict(zip(types, schemas, strict=True))
    error = {"application/json": {"schema": by_type[ErrorBody]}}

    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "summary": route.summary,
            "tags": [route.tag],
            "operationId": route.handler.__name__,
            "responses": {},
        }
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", route.path)
        ]
        params += [
            {"name": name, "in": "query", "required": False, "schema": {"type": kind}, "description": text}
            for name, kind, text in route.query
        ]
        if params:
            operation["parameters"] = params
        if route.role is not None:
            operation["security"] = [{"bearer": []}]
            operation["description"] = f"Needs the {route.role} role or higher."
            operation["responses"]["401"] = {"description": "no or bad token", "content": error}
            operation["responses"]["403"] = {"description": "role too low", "content": error}
        if route.request is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": by_type[route.request]}},
            }
            operation["responses"]["422"] = {"description": "invalid body", "content": error}
        # Any request may also be refused: bad input (400, 404, 409, 413, 422), too many
        # attempts (429, with Retry-After), each with the same error body.
        operation["responses"]["4XX"] = {"description": "refused, with the reason", "content": error}
        ok: dict[str, Any] = {"description": "OK"}
        if route.response is not None:
            ok["content"] = {route.response_media: {"schema": by_type[route.response]}}
            for media in route.alternative_media:
                ok["content"][media] = {"schema": {"type": "string"}}
        operation["responses"][str(route.status)] = ok
        paths.setdefault(route.path, {})[route.method.lower()] = operation

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Contact centre REST API",
            "version": version,
            "description": "REST side of the contact centre. The real-time side is the "
            "WebSocket protocol in docs/protocol.md and docs/asyncapi.yaml.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
