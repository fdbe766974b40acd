"""``contact-center call-bot``: an agent that answers every call with a test tone and
a test pattern, so a site owner can check a set-up (and its TURN server) without a
second person: open the widget, press "Call", and talk to the bot.

It logs in as an agent account made for it (``contact-center agents add callbot``),
goes available, declines chats, answers calls, prints each call's states and quality
(round-trip time, jitter, loss, MOS, relayed or direct), and hangs up after
``--hangup-after`` seconds if asked to.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer


@dataclass(frozen=True)
class BotOptions:
    url: str
    username: str
    password: str
    video: bool = True
    relay_only: bool = False
    loopback: bool = False
    hangup_after_s: float = 0.0
    calls: int = 0
    stats_every_s: float = 2.0


def _ws_url(base: str) -> str:
    base = base.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base[len("https://") :] + "/ws/agent"
    if base.startswith("http://"):
        return "ws://" + base[len("http://") :] + "/ws/agent"
    return base + "/ws/agent"


def _describe(sample: dict[str, Any]) -> str:
    from contact_center.calls.bot import sample_mos

    relayed = sample.get("relayed")
    path = "relayed (TURN)" if relayed else "direct" if relayed is False else "path unknown"
    return (
        f"rtt {sample['rtt_ms']:.0f} ms, jitter {sample['jitter_ms']:.1f} ms, "
        f"loss {sample['loss_pct']:.1f} %, MOS {sample_mos(sample):.2f}, {path}"
    )


async def run_bot(options: BotOptions, out: Callable[[str], None] = print) -> int:
    """Answer calls until ``options.calls`` have ended (0: forever); return how many
    calls were answered."""
    import httpx

    from contact_center.calls.bot import CallDevice

    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            options.url.rstrip("/") + "/api/auth/login",
            json={"username": options.username, "password": options.password},
        )
    if response.status_code != 200:
        raise RuntimeError(f"login failed ({response.status_code}): {response.text[:200]}")
    token = str(response.json()["token"])
    done = asyncio.Event()
    ended: list[str] = []
    pending: set[asyncio.Task[Any]] = set()
    device: CallDevice | None = None

    def later(coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        pending.add(task)
        task.add_done_callback(pending.discard)

    def on_event(event: dict[str, Any]) -> None:
        assert device is not None
        kind = event.get("type")
        if kind == "offer" and event["contact"].get("channel") == "chat":
            later(
                device.send(
                    {"type": "offer.decline", "id": "bot-decline", "contact_id": event["contact"]["id"]}
                )
            )
        elif kind == "call.invite":
            name = event.get("caller_name") or event.get("caller_kind")
            out(f"ringing: {event['media']} call {event['call_id']} from {name}; answering")
        elif kind == "call.state":
            call_id = str(event["call_id"])
            state = event["state"]
            reason = f" ({event['reason']})" if event.get("reason") else ""
            out(f"call {call_id}: {state}{reason}")
            if state == "active" and options.hangup_after_s > 0:
                later(_hang_up_later(device, call_id, options.hangup_after_s))
            if state == "ended" and event.get("reason") != "answered_elsewhere":
                later(_summary(device, call_id, out))
                ended.append(call_id)
                if options.calls and len(ended) >= options.calls:
                    done.set()
        elif kind == "call.quality":
            warning = event.get("warning") or "none"
            out(f"call {event['call_id']}: server-side MOS {event['mos']:.2f}, warning: {warning}")

    device = CallDevice(
        _ws_url(options.url),
        token,
        loopback=options.loopback,
        relay_only=options.relay_only,
        video=options.video,
        auto_answer=True,
        stats_every_s=options.stats_every_s,
        on_event=on_event,
    )
    await device.connect()
    await device.request({"type": "agent.status", "status": "available"})
    out(f"call bot {options.username!r} is available on {options.url}; waiting for calls")
    try:
        watcher = asyncio.create_task(_report_samples(device, out, options.stats_every_s))
        try:
            await done.wait()
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await asyncio.gather(*pending, return_exceptions=True)
    finally:
        await device.close()
    return len(ended)


async def _hang_up_later(device: Any, call_id: str, seconds: float) -> None:
    await asyncio.sleep(seconds)
    side = device.calls.get(call_id)
    if side is not None and side.state != "ended":
        await device.send({"type": "call.hangup", "call_id": call_id})


async def _summary(device: Any, call_id: str, out: Callable[[str], None]) -> None:
    side = device.calls.get(call_id)
    if side is None or not side.samples:
        return
    from contact_center.calls.bot import sample_mos

    scores = [sample_mos(sample) for sample in side.samples]
    relayed = any(sample.get("relayed") for sample in side.samples)
    out(
        f"call {call_id}: {len(scores)} samples, MOS mean {sum(scores) / len(scores):.2f}, "
        f"min {min(scores):.2f}, {'relayed through TURN' if relayed else 'direct'}"
    )


async def _report_samples(device: Any, out: Callable[[str], None], every_s: float) -> None:
    seen: dict[str, int] = {}
    while True:
        await asyncio.sleep(every_s)
        for call_id, side in list(device.calls.items()):
            count = len(side.samples)
            if count > seen.get(call_id, 0):
                seen[call_id] = count
                out(f"call {call_id}: {_describe(side.samples[-1])}")


def call_bot(
    username: Annotated[str, typer.Option(help="The bot's agent account.")],
    password: Annotated[str, typer.Option(envvar="CC_BOT_PASSWORD", help="Its password.")] = "",
    url: Annotated[str, typer.Option(help="The server's base URL.")] = "http://127.0.0.1:8000",
    audio_only: Annotated[bool, typer.Option(help="Answer with the tone only, no video.")] = False,
    relay_only: Annotated[
        bool, typer.Option(help="Use TURN relay candidates only: proves TURN works.")
    ] = False,
    loopback: Annotated[
        bool, typer.Option(help="Gather host candidates on 127.0.0.1 only (caller on this machine).")
    ] = False,
    hangup_after: Annotated[
        float, typer.Option(help="Hang up this many seconds into each call (0: the caller hangs up).")
    ] = 0.0,
    calls: Annotated[int, typer.Option(help="Exit after this many calls (0: run until Ctrl-C).")] = 0,
) -> None:
    """Answer calls as an agent with a test tone and pattern; print their quality."""
    if not password:
        password = typer.prompt("password", hide_input=True)
    options = BotOptions(
        url=url,
        username=username,
        password=password,
        video=not audio_only,
        relay_only=relay_only,
        loopback=loopback,
        hangup_after_s=hangup_after,
        calls=calls,
    )
    try:
        answered = asyncio.run(run_bot(options, typer.echo))
    except KeyboardInterrupt:
        return
    except RuntimeError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"done: {answered} call(s)")
