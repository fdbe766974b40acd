"""A visitor and an agent in one conversation on a live server (lifecycle tests)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.client import WsClient
from tests.support.server import LiveServer


@dataclass
class Chat:
    visitor: WsClient
    agent: WsClient
    contact_id: str
    visitor_token: str

    async def close(self) -> None:
        await self.visitor.close()
        await self.agent.close()


async def open_chat(server: LiveServer, admin: str, agent_name: str = "alice", **start: object) -> Chat:
    """Queue ``sales`` and agent ``agent_name`` (created if missing), a visitor's chat
    accepted by the agent."""
    if server.api("GET", "/api/admin/queues", admin).json() == []:
        server.add_queue(admin, "sales")
    if not any(u["username"] == agent_name for u in server.api("GET", "/api/admin/agents", admin).json()):
        server.add_agent(admin, agent_name, capacity={"chat": 5})
    agent = await WsClient.connect(server.ws_url + "/ws/agent", server.login(agent_name))
    await agent.wait_type("welcome")
    await agent.request({"type": "agent.status", "status": "available"})
    token = server.visitor_token()
    visitor = await WsClient.connect(server.ws_url + "/ws/visitor", token)
    await visitor.wait_type("welcome")
    frame = {"type": "chat.start", "queue": "sales", "name": "Vera", **start}
    contact_id = (await visitor.request(frame))["contact_id"]
    offer = await agent.wait_type("offer", timeout=20)
    await agent.request({"type": "offer.accept", "contact_id": offer["contact"]["id"]})
    await visitor.wait_type("contact.joined", timeout=20)
    return Chat(visitor, agent, contact_id, token)
