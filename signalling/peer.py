"""A headless WebRTC endpoint (aiortc) for tests, load runs and a call bot.

This is the only module that imports aiortc.  It knows nothing about our WebSocket
protocol: it produces and consumes the W3C shapes the protocol carries
(``RTCSessionDescriptionInit`` ``{"type", "sdp"}`` and ``RTCIceCandidateInit``
``{"candidate", "sdpMid", "sdpMLineIndex"}``), so whoever drives it (a test, the
gateway's call bot) moves those dicts around.

Things worth knowing about aiortc that shape this class:

- aiortc gathers *all* its candidates inside ``setLocalDescription`` and writes them
  into the SDP; there are no ``icecandidate`` events.  To trickle like a browser we
  read the ``a=candidate`` lines back out of the local description
  (:meth:`HeadlessPeer.local_candidates`) and, by default, hand out the SDP without
  them, so the candidates really do travel through ``call.candidates``.
- ``RTCConfiguration()`` with no ``iceServers`` means Google's public STUN server;
  we always pass a list (``[]`` in tests) so nothing leaves the machine.
- aioice binds each host candidate to an interface address and skips 127.0.0.1, so
  merely *rewriting* a candidate's address to 127.0.0.1 cannot work: a packet sent to
  127.0.0.1 never reaches a socket bound to, say, 192.0.2.2.  ``loopback=True``
  instead makes this peer gather its host candidate *on* 127.0.0.1 (a context-scoped
  hook around aioice's interface listing; other peers in the process are unaffected),
  so every packet stays on ``lo``.
- ``relay_only=True`` is the W3C ``iceTransportPolicy: "relay"``: aioice then gathers
  only TURN relay candidates (no host or server-reflexive ones), so every packet goes
  through the TURN server; a check that a call really works through TURN.
- aiortc's rollback does nothing, so in W3C perfect negotiation it must always be the
  **impolite** side: on an offer collision it ignores the incoming offer and waits for
  the other side to roll back (:meth:`HeadlessPeer.handle_remote_description`).
- aiortc's ``inbound-rtp`` stats carry no ``bytesReceived``; :meth:`get_stats` reports
  per-kind packets and the sender's byte count from its RTCP sender reports, plus
  the transport's real ``bytesReceived``.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import contextvars
import fractions
import json
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, cast

import aioice.ice
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack, VideoStreamTrack
from aiortc.sdp import candidate_from_sdp
from av import AudioFrame, VideoFrame

from signalling.validation import (
    RTCIceCandidateInit,
    RTCSessionDescriptionInit,
    SdpType,
    strip_sdp_candidates,
)

__all__ = [
    "HeadlessPeer",
    "TestPatternTrack",
    "ToneTrack",
    "connect_pair",
    "loopback_candidates",
    "parse_sdp_candidates",
]

AUDIO_RATE = 48_000
AUDIO_PTIME = 0.020
# How long closing a peer connection may take before it is abandoned.
CLOSE_TIMEOUT_S = 10.0


# ---------------------------------------------------------------------- loopback


_LOOPBACK_ONLY: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "signalling_peer_loopback_only", default=False
)


def _install_loopback_hook() -> None:
    """Wrap ``aioice.ice.get_host_addresses`` once.  The wrapper answers 127.0.0.1
    only inside :func:`loopback_candidates`; everywhere else it is the original."""
    current = aioice.ice.get_host_addresses
    if getattr(current, "_signalling_loopback_hook", False):
        return
    original: Callable[..., list[str]] = current

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        if _LOOPBACK_ONLY.get():
            return ["127.0.0.1"] if use_ipv4 else ["::1"]
        return original(use_ipv4=use_ipv4, use_ipv6=use_ipv6)

    get_host_addresses._signalling_loopback_hook = True  # type: ignore[attr-defined]
    aioice.ice.get_host_addresses = get_host_addresses


@contextlib.contextmanager
def loopback_candidates(enabled: bool = True) -> Iterator[None]:
    """Within this block (and tasks it starts) aioice gathers host candidates on
    127.0.0.1 only."""
    _install_loopback_hook()
    token = _LOOPBACK_ONLY.set(enabled)
    try:
        yield
    finally:
        _LOOPBACK_ONLY.reset(token)


# ------------------------------------------------------------------------ tracks


class ToneTrack(MediaStreamTrack):
    """A sine tone (440 Hz by default), 48 kHz mono s16 in 20 ms frames, paced in
    real time.  Muted, it sends silence (like a browser's disabled track)."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0, amplitude: float = 0.25) -> None:
        super().__init__()
        # One second of samples: a whole number of cycles for integer frequencies,
        # so the loop is seamless.
        peak = int(32767 * amplitude)
        samples = array.array(
            "h",
            (int(peak * math.sin(2 * math.pi * frequency * n / AUDIO_RATE)) for n in range(AUDIO_RATE)),
        )
        self._second = samples.tobytes()
        self._frame_samples = int(AUDIO_RATE * AUDIO_PTIME)
        self._silence = bytes(self._frame_samples * 2)
        self._pts = 0
        self._start: float | None = None
        self.muted = False

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += self._frame_samples
            await asyncio.sleep(self._start + self._pts / AUDIO_RATE - time.monotonic())
        offset = (self._pts % AUDIO_RATE) * 2
        chunk = self._second[offset : offset + self._frame_samples * 2]
        frame = AudioFrame(format="s16", layout="mono", samples=self._frame_samples)
        frame.planes[0].update(self._silence if self.muted else chunk)
        frame.pts = self._pts
        frame.sample_rate = AUDIO_RATE
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        return frame


# Colour bars as (Y, U, V), roughly SMPTE: white, yellow, cyan, green, magenta, red,
# blue, black.
_BARS = (
    (235, 128, 128),
    (210, 16, 146),
    (170, 166, 16),
    (145, 54, 34),
    (106, 202, 222),
    (81, 90, 240),
    (41, 240, 110),
    (16, 128, 128),
)


class TestPatternTrack(VideoStreamTrack):
    """Colour bars that scroll sideways (so every frame differs and the encoder has
    real work), 320x240 yuv420p at aiortc's 30 fps."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, width: int = 320, height: int = 240, speed_px: int = 4) -> None:
        super().__init__()
        if width % 2 or height % 2:
            raise ValueError("width and height must be even (yuv420p)")
        self.width, self.height, self.speed_px = width, height, speed_px
        self._rows = [self._row(width, i) for i in range(3)]
        self._frame_no = 0

    @staticmethod
    def _row(width: int, component: int) -> bytes:
        bar = max(1, width // len(_BARS))
        one = b"".join(bytes([colour[component]]) * bar for colour in _BARS)
        one = (one * (width // len(one) + 1))[:width]
        return one + one  # twice as wide, so any offset slices a full row

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(self.width, self.height, "yuv420p")
        shift = (self._frame_no * self.speed_px) % self.width
        self._frame_no += 1
        for index, plane in enumerate(frame.planes):
            sub = 1 if index == 0 else 2
            width, height = self.width // sub, self.height // sub
            start = shift // sub
            row = self._rows[index][::sub][start : start + width]
            row += bytes(plane.line_size - width)
            plane.update(row * height)
        frame.pts = pts
        frame.time_base = time_base
        return frame


# -------------------------------------------------------------------------- peer


def _ice_server(entry: Mapping[str, Any]) -> Any:
    return RTCIceServer(
        urls=entry["urls"],
        username=entry.get("username"),
        credential=entry.get("credential"),
    )


def parse_sdp_candidates(sdp: str) -> list[RTCIceCandidateInit]:
    """The ``a=candidate`` lines of an SDP as ``RTCIceCandidateInit`` dicts, each with
    its m-section's ``sdpMid`` and ``sdpMLineIndex``."""
    found: list[RTCIceCandidateInit] = []
    index = -1
    mid: str | None = None
    for line in sdp.splitlines():
        if line.startswith("m="):
            index += 1
            mid = None
        elif line.startswith("a=mid:"):
            mid = line[len("a=mid:") :]
        elif line.startswith("a=candidate:") and index >= 0:
            found.append({"candidate": line[2:], "sdpMid": mid, "sdpMLineIndex": index})
    return found


def _sections(sdp: str) -> list[tuple[str | None, int]]:
    sections: list[tuple[str | None, int]] = []
    for line in sdp.splitlines():
        if line.startswith("m="):
            sections.append((None, len(sections)))
        elif line.startswith("a=mid:") and sections:
            sections[-1] = (line[len("a=mid:") :], sections[-1][1])
    return sections


class HeadlessPeer:
    """One RTCPeerConnection with a test tone and (optionally) a test pattern.

    Typical use, caller side::

        peer = HeadlessPeer([], loopback=True)
        offer = await peer.create_offer()          # send as call.offer
        for c in peer.local_candidates(): ...      # send as call.candidates
        await peer.set_remote_answer(answer["sdp"])
        await peer.add_remote_candidate(candidate)  # for each one received
        await peer.wait_connected(10)
    """

    def __init__(
        self,
        ice_servers: Sequence[Mapping[str, Any]] | None = None,
        *,
        audio: bool = True,
        video: bool = True,
        loopback: bool = False,
        trickle: bool = True,
        relay_only: bool = False,
        on_connection_state: Callable[[str], None] | None = None,
    ) -> None:
        servers = [_ice_server(entry) for entry in (ice_servers or [])]
        policy = RTCIceTransportPolicy.RELAY if relay_only else RTCIceTransportPolicy.ALL
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers, iceTransportPolicy=policy))
        self.loopback = loopback
        self.relay_only = relay_only
        self.trickle = trickle
        self.audio_track: ToneTrack | None = ToneTrack() if audio else None
        self.video_track: TestPatternTrack | None = TestPatternTrack() if video else None
        self.frames_received: dict[str, int] = {"audio": 0, "video": 0}
        self._tracks_added = False
        self._consumers: list[asyncio.Task[None]] = []
        self._pending_remote: list[RTCIceCandidateInit] = []
        self._connected = asyncio.Event()
        self._done = asyncio.Event()
        self._on_state = on_connection_state
        self._last_loss: dict[str, tuple[int, int]] = {}
        # time.monotonic() when the connection first became "connected".
        self.connected_at: float | None = None
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_connection_state)

    # ---------------------------------------------------------------- events

    def _on_track(self, track: Any) -> None:
        self._consumers.append(asyncio.ensure_future(self._consume(track)))

    async def _consume(self, track: Any) -> None:
        kind = cast(str, track.kind)
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                await track.recv()
                self.frames_received[kind] = self.frames_received.get(kind, 0) + 1

    def _on_connection_state(self) -> None:
        state = self.connection_state
        if state == "connected":
            if self.connected_at is None:
                self.connected_at = time.monotonic()
            self._connected.set()
        elif state in ("failed", "closed"):
            self._done.set()
        if self._on_state is not None:
            self._on_state(state)

    @property
    def connection_state(self) -> str:
        return self.pc.connectionState

    # ----------------------------------------------------------- negotiation

    def _add_tracks(self) -> None:
        if self._tracks_added:
            return
        self._tracks_added = True
        for track in (self.audio_track, self.video_track):
            if track is not None:
                self.pc.addTrack(track)

    async def _set_local(self, description: Any) -> RTCSessionDescriptionInit:
        with loopback_candidates(self.loopback):
            await self.pc.setLocalDescription(description)
        local = self.pc.localDescription
        sdp: str = local.sdp
        if self.trickle:
            sdp = strip_sdp_candidates(sdp)
        kind: SdpType = "offer" if local.type == "offer" else "answer"
        return {"type": kind, "sdp": sdp}

    async def _set_remote(self, description: RTCSessionDescriptionInit) -> None:
        await self.pc.setRemoteDescription(
            RTCSessionDescription(sdp=description["sdp"], type=description["type"])
        )
        pending, self._pending_remote = self._pending_remote, []
        for candidate in pending:
            await self.add_remote_candidate(candidate)

    async def create_offer(self) -> RTCSessionDescriptionInit:
        """Create and apply an offer (gathering candidates); return it."""
        self._add_tracks()
        return await self._set_local(await self.pc.createOffer())

    async def create_answer(self, offer_sdp: str) -> RTCSessionDescriptionInit:
        """Apply the remote offer, add our tracks, answer; return the answer."""
        await self._set_remote({"type": "offer", "sdp": offer_sdp})
        self._add_tracks()
        return await self._set_local(await self.pc.createAnswer())

    async def set_remote_answer(self, answer_sdp: str) -> None:
        await self._set_remote({"type": "answer", "sdp": answer_sdp})

    async def handle_remote_description(
        self, description: RTCSessionDescriptionInit
    ) -> RTCSessionDescriptionInit | None:
        """``call.negotiate`` handling as the *impolite* peer.

        An offer that collides with our own pending offer is ignored (the polite side
        rolls back and answers ours); any other offer is answered and the answer
        returned; an answer is applied and None returned.
        """
        if description["type"] == "offer":
            if self.pc.signalingState != "stable":
                return None
            return await self.create_answer(description["sdp"])
        await self._set_remote(description)
        return None

    def local_candidates(self, include_end: bool = True) -> list[RTCIceCandidateInit]:
        """Our gathered candidates, ready for ``call.candidates``; with
        ``include_end`` one empty candidate per m-section (end of candidates)."""
        local = self.pc.localDescription
        if local is None:
            return []
        sdp: str = local.sdp
        found = parse_sdp_candidates(sdp)
        if include_end:
            found += [
                {"candidate": "", "sdpMid": mid, "sdpMLineIndex": index} for mid, index in _sections(sdp)
            ]
        return found

    async def add_remote_candidate(self, candidate: Mapping[str, Any]) -> None:
        """Apply one trickled ``RTCIceCandidateInit``; an empty ``candidate`` is end
        of candidates.  Candidates that arrive before the remote description are
        kept and applied with it (aiortc would drop them)."""
        init: RTCIceCandidateInit = {
            "candidate": candidate.get("candidate") or "",
            "sdpMid": candidate.get("sdpMid"),
            "sdpMLineIndex": candidate.get("sdpMLineIndex"),
        }
        if self.pc.remoteDescription is None:
            self._pending_remote.append(init)
            return
        text = init["candidate"]
        if not text:
            await self.pc.addIceCandidate(None)
            return
        if text.startswith("a="):
            text = text[2:]
        parsed = candidate_from_sdp(text.removeprefix("candidate:"))
        parsed.sdpMid = init["sdpMid"]
        parsed.sdpMLineIndex = init["sdpMLineIndex"]
        await self.pc.addIceCandidate(parsed)

    # ------------------------------------------------------------ connection

    async def wait_connected(self, timeout: float) -> None:
        """Wait for connectionState "connected"; ConnectionError if it fails."""
        waiters = [
            asyncio.ensure_future(self._connected.wait()),
            asyncio.ensure_future(self._done.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if self._connected.is_set():
            return
        if self._done.is_set():
            raise ConnectionError(f"peer connection {self.connection_state}")
        raise TimeoutError(f"not connected after {timeout} s ({self.connection_state})")

    def selected_candidate_types(self) -> list[tuple[str, str]]:
        """(local type, remote type) of each nominated ICE pair, e.g. ("relay",
        "relay") for a call that goes through TURN both ways.  Read from aioice,
        since aiortc's stats carry no candidate-pair entries."""
        pairs: list[tuple[str, str]] = []
        seen: set[int] = set()
        for transceiver in self.pc.getTransceivers():
            dtls = transceiver.sender.transport
            if dtls is None or id(dtls) in seen:
                continue
            seen.add(id(dtls))
            connection = getattr(dtls.transport, "_connection", None)
            for pair in getattr(connection, "_nominated", {}).values():
                pairs.append((pair.local_candidate.type, pair.remote_candidate.type))
        return pairs

    @property
    def relayed(self) -> bool | None:
        """True when media goes through a TURN relay, None before ICE picked a path."""
        pairs = self.selected_candidate_types()
        if not pairs:
            return None
        return any("relay" in pair for pair in pairs)

    def set_audio_muted(self, muted: bool) -> None:
        if self.audio_track is not None:
            self.audio_track.muted = muted

    async def get_stats(self) -> dict[str, Any]:
        """Per kind: frames decoded here, RTP packets received and lost, jitter (in
        RTP clock units, as aiortc reports it), the bytes the other side says it sent
        (RTCP sender reports; 0 until the first one); plus the transport's
        ``bytes_received`` and the round-trip time (s) when known."""
        report = await self.pc.getStats()
        kinds: dict[str, dict[str, Any]] = {
            kind: {
                "frames_received": self.frames_received.get(kind, 0),
                "packets_received": 0,
                "packets_lost": 0,
                "jitter": 0,
                "bytes_sent_by_peer": 0,
                "round_trip_time_s": None,
            }
            for kind in ("audio", "video")
        }
        transport_bytes = 0
        transport_ids: set[str] = set()
        for stats in report.values():
            kind = getattr(stats, "kind", None)
            if stats.type == "inbound-rtp" and kind in kinds:
                kinds[kind]["packets_received"] += stats.packetsReceived
                kinds[kind]["packets_lost"] += stats.packetsLost
                kinds[kind]["jitter"] = stats.jitter
            elif stats.type == "remote-outbound-rtp" and kind in kinds:
                kinds[kind]["bytes_sent_by_peer"] += stats.bytesSent
            elif stats.type == "remote-inbound-rtp" and kind in kinds:
                kinds[kind]["round_trip_time_s"] = stats.roundTripTime
            elif stats.type == "transport" and stats.id not in transport_ids:
                transport_ids.add(stats.id)
                transport_bytes += stats.bytesReceived
        return {**kinds, "transport": {"bytes_received": transport_bytes}}

    async def stats_sample(self) -> dict[str, Any]:
        """A ``call.stats`` sample for the audio stream, as a browser client would send
        it once a second: loss over the interval since the previous sample."""
        stats = await self.get_stats()
        audio = stats["audio"]
        received, lost = audio["packets_received"], audio["packets_lost"]
        prev_received, prev_lost = self._last_loss.get("audio", (0, 0))
        self._last_loss["audio"] = (received, lost)
        d_received, d_lost = received - prev_received, max(0, lost - prev_lost)
        expected = d_received + d_lost
        rtt = audio["round_trip_time_s"]
        sample: dict[str, Any] = {
            "rtt_ms": round((rtt or 0.0) * 1000, 3),
            "jitter_ms": round(audio["jitter"] / (AUDIO_RATE / 1000), 3),
            "loss_pct": round(100.0 * d_lost / expected, 3) if expected else 0.0,
            "codec": "audio/opus",
        }
        relayed = self.relayed
        if relayed is not None:
            sample["relayed"] = relayed
        return sample

    async def close(self) -> None:
        for task in self._consumers:
            task.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)
        self._consumers.clear()
        # aiortc's close can wait forever on a transport that never finishes its
        # shutdown (seen under load on a 2-core machine); the peer is gone either way.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.pc.close(), CLOSE_TIMEOUT_S)
        for track in (self.audio_track, self.video_track):
            if track is not None:
                track.stop()


# ----------------------------------------------------------------- self-call CLI


async def connect_pair(
    caller: HeadlessPeer,
    callee: HeadlessPeer,
    timeout: float = 15.0,
) -> None:
    """Offer/answer and trickled candidates (with end of candidates) between two
    peers in this process, directly, without a server."""
    offer = await caller.create_offer()
    answer = await callee.create_answer(offer["sdp"])
    await caller.set_remote_answer(answer["sdp"])
    for candidate in caller.local_candidates():
        await callee.add_remote_candidate(candidate)
    for candidate in callee.local_candidates():
        await caller.add_remote_candidate(candidate)
    await asyncio.gather(caller.wait_connected(timeout), callee.wait_connected(timeout))


async def _self_call(seconds: float, video: bool) -> dict[str, Any]:
    caller = HeadlessPeer([], loopback=True, video=video)
    callee = HeadlessPeer([], loopback=True, video=video)
    try:
        await connect_pair(caller, callee)
        await asyncio.sleep(seconds)
        return {
            "caller": await caller.get_stats(),
            "callee": await callee.get_stats(),
            "sample": await callee.stats_sample(),
        }
    finally:
        await caller.close()
        await callee.close()


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m signalling.peer``: call ourselves over loopback and print stats."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--audio-only", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(_self_call(args.seconds, not args.audio_only))
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
