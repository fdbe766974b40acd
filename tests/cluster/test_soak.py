"""The chaos soak's bounded CI form (``bench/soak.py``): visitors and agents over real
sockets for 60 s through two gateways and two routers on a private Redis and a
throwaway PostgreSQL cluster, while a gateway and the active router are killed with
-9, Redis and PostgreSQL are restarted, and clients drop their own sockets.  Every
loss figure must be 0."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.chaos import ServiceMissing, postgres_bin
from bench.soak import SoakConfig, run_soak
from tests.support.services import unavailable

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(900)]


async def test_a_minute_of_chaos_loses_nothing(tmp_path: Path) -> None:
    try:
        postgres_bin()
    except ServiceMissing as exc:
        unavailable(str(exc))
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    config = SoakConfig(
        visitors=10,
        agents=3,
        duration_s=60,
        chaos_every_s=7,
        reconnect_every_s=20,
        call_share=0.15,
        workdir=tmp_path,
        verbose=False,
    )
    report = await run_soak(config)
    print(report.text())
    assert report.losses == dict.fromkeys(report.losses, 0), report.text()
    # The run did what it says: traffic flowed and every kind of chaos happened.
    assert report.acknowledged > 100 and report.delivered == report.acknowledged
    assert report.contacts_served == report.contacts_started > 10
    for event in ("gateway kill -9", "router kill -9", "redis restart", "postgresql restart"):
        assert report.chaos.get(event, 0) >= 1, (event, report.chaos)
    assert report.socket_drops > 0 and report.calls_answered > 0
