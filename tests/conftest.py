"""Shared fixtures: a live server per test on a fresh SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import LiveServer, live_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path) as running:
        yield running


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    from tests.support.services import redis_server

    with redis_server(tmp_path) as running:
        yield running.url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    from tests.support.services import postgres_database

    with postgres_database() as url:
        yield url
