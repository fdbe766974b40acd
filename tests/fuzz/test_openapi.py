"""schemathesis against the OpenAPI document on a live server, as an admin and without
a token: no request gets a 5xx, and every response matches the document (status code,
content type, body schema).  For each operation, cases are generated from the document
itself: valid ones (positive) and invalid ones (negative: wrong types, missing fields,
values out of range).

The document is the one /openapi.json serves, built from the same routes; a test below
checks that the server serves exactly it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contact_center.api.openapi import openapi_document
from contact_center.api.registry import API_ROUTES
from contact_center.app import package_version
from tests.support.server import LiveServer, live_server

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
DOCUMENT = openapi_document(API_ROUTES, package_version())
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}
MODES = {"valid": GenerationMode.POSITIVE, "invalid": GenerationMode.NEGATIVE}


def _has_input(operation: Any) -> bool:
    """An operation with no parameters and no body has no invalid request to make."""
    return bool(list(operation.iter_parameters())) or bool(list(operation.body))


CASES = [
    (label, mode)
    for label in sorted(OPERATIONS)
    for mode in MODES
    if mode == "valid" or _has_input(OPERATIONS[label])
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # The sign-in throttle would answer the fuzzer's many failed logins with 429 (it is
    # documented, and tested on its own): lift it so logins reach the handler.
    with live_server(
        tmp_path_factory.mktemp("openapi"), login_free_failures=10**6, login_address_free_failures=10**6
    ) as server:
        admin = server.admin_token()
        server.add_queue(admin, "sales")
        server.add_agent(admin, "alice")
        yield server


@pytest.fixture(scope="module")
def admin_token(live: LiveServer) -> str:
    return live.admin_token()


def test_the_server_serves_this_document(live: LiveServer) -> None:
    assert httpx.get(live.base_url + "/openapi.json").json() == DOCUMENT


@pytest.mark.parametrize("who", ["admin", "anonymous"])
@pytest.mark.parametrize(("label", "mode"), CASES)
def test_operation(
    label: str, who: str, mode: str, live: LiveServer, admin_token: str, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {admin_token}"} if who == "admin" else {}

    @given(OPERATIONS[label].as_strategy(MODES[mode]))
    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        case.call_and_validate(base_url=live.base_url, headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize(
    ("label", "query"),
    [
        ("GET /api/reports", {"format": "csv", "by": "queue"}),
        ("GET /api/journey/funnel.csv", {"from": "2026-01-01"}),
        ("GET /api/admin/audit", {"limit": 5, "action": "auth."}),
    ],
)
def test_documented_variants(label: str, query: dict[str, Any], live: LiveServer, admin_token: str) -> None:
    """Answers the generator rarely reaches (a CSV instead of JSON) match the document too."""
    case = OPERATIONS[label].Case(query=query)
    response = case.call_and_validate(
        base_url=live.base_url, headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS
    )
    assert response.status_code == 200
