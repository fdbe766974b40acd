"""``contact-center call-bot``: a real process logs in as an agent, answers a visitor's
call with a test tone and pattern, reports the call's quality and hangs up."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.calls.support import close_all, desk, ended_row, media_flows, until, visitor_device
from tests.support.server import live_server

pytestmark = pytest.mark.webrtc


async def test_the_call_bot_answers_a_call_from_the_widget(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        admin = desk(server, agents=())
        server.add_agent(admin, "callbot", password="bot-password", display_name="Call bot")
        env = {**os.environ, "CC_BOT_PASSWORD": "bot-password"}
        bot = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "contact_center.cli",
                "call-bot",
                "--username",
                "callbot",
                "--url",
                server.base_url,
                "--loopback",
                "--hangup-after",
                "3",
                "--calls",
                "1",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        visitor = await visitor_device(server)
        try:
            # Wait until the bot is available (the widget would show the queue online).
            await until(
                lambda: any(s.agents_available for s in server.services.queue_statuses()), 60, "bot available"
            )
            side = await visitor.invite("video", queue="sales", name="Site owner")
            await visitor.wait_state(side.call_id, "active", 60)
            await until(lambda: media_flows(visitor, call_id=side.call_id), 60, "tone and pattern")
            # The bot hangs up by itself.
            assert (await visitor.wait_state(side.call_id, "ended", 60))["reason"] == "completed"
            output, _ = await asyncio.to_thread(bot.communicate, timeout=60)
        finally:
            if bot.poll() is None:
                bot.kill()
            await close_all(visitor)
        assert bot.returncode == 0, output
        assert f"call {side.call_id}: active" in output
        assert "MOS" in output and "done: 1 call(s)" in output
        row = await ended_row(server, side.call_id)
        assert row.end_reason == "completed" and row.quality["samples"] >= 1
