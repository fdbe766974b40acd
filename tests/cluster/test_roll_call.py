"""Redis comes back empty (the routing log, its snapshot and presence gone): the router
rebuilds from the database and holds a roll call, so an agent whose console stayed
connected through the outage is still available and gets the next contact without
reconnecting.  (Found by the chaos soak: such agents looked offline.)"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.support.client import WsClient
from tests.support.cluster import cluster

pytestmark = [pytest.mark.services, pytest.mark.slow]


async def test_an_agent_connected_through_a_redis_restart_still_gets_contacts(
    tmp_path: Path, postgres_url: str
) -> None:
    from tests.support.services import redis_server

    with redis_server(tmp_path) as redis_proc:
        if redis_proc.process is None:
            pytest.skip("needs a redis-server this test starts (CC_TEST_REDIS_URL points elsewhere)")
        with cluster(tmp_path, redis_proc.url, postgres_url, ["all", "gateway"]) as c:
            admin = c.admin_token()
            c.api("POST", "/api/admin/queues", admin, json={"id": "support"})
            c.api("POST", "/api/admin/agents", admin, json={"username": "ann", "password": "agent-password"})
            router, gateway = c.nodes
            ann = await WsClient.connect(gateway.ws_url + "/ws/agent", c.login("ann"))
            await ann.wait_type("welcome", timeout=20)
            await ann.request({"type": "agent.status", "status": "available"}, timeout=20)
            await ann.wait_type("agent.state", state="available", timeout=20)

            redis_proc.kill()
            redis_proc.restart()  # empty
            # The emptied Redis holds no lease: once one is there again, the router has
            # retaken it (before that, /healthz may still report the old term's routing,
            # and a visitor would arrive mid-outage: a different case, see issue 11).
            deadline = time.monotonic() + 60
            async with httpx.AsyncClient(timeout=5) as http:
                while (
                    c.router_holder(redis_proc.url) is None
                    or not (await http.get(router.base_url + "/healthz")).json()["routing"]
                ):
                    assert time.monotonic() < deadline, "the router did not lead again"
                    await asyncio.sleep(0.2)

            visitor = await WsClient.connect(router.ws_url + "/ws/visitor", c.visitor_token())
            await visitor.wait_type("welcome", timeout=20)
            contact_id = (
                await visitor.request({"type": "chat.start", "queue": "support", "name": "Vi"}, timeout=30)
            )["contact_id"]
            offer = await ann.wait_for(
                lambda e: e.get("type") == "offer" and e["contact"]["id"] == contact_id, timeout=60
            )
            assert not ann.closed.done(), "the console never reconnected"
            await ann.request({"type": "offer.accept", "contact_id": offer["contact"]["id"]}, timeout=20)
            await visitor.wait_type("contact.joined", timeout=30)
            await visitor.close()
            await ann.close()
