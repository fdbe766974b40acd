"""A private coturn (Debian's ``turnserver``) on loopback for the relay tests, in
coturn's ``use-auth-secret`` mode (the TURN REST API scheme our backend mints
credentials for).  Missing binary: the test is skipped with the reason, unless
``CC_REQUIRE_SERVICES=1`` (CI), where it fails."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.services import unavailable

TURNSERVER = "turnserver"


@dataclass
class TurnServer:
    port: int
    secret: str
    realm: str
    log: Path

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers_stun(port: int) -> bool:
    """A STUN binding request gets a response (the server is listening)."""
    request = struct.pack("!HHI12s", 0x0001, 0, 0x2112A442, os.urandom(12))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(request, ("127.0.0.1", port))
            data, _ = sock.recvfrom(2048)
        except OSError:
            return False
    return len(data) >= 20 and data[4:8] == request[4:8]


@contextlib.contextmanager
def turn_server(
    workdir: Path, secret: str = "turn-test-secret-0123456789", config: Path | None = None
) -> Iterator[TurnServer]:
    """A coturn on a free loopback port.  With ``config``, that file (the deployed
    one) is used and only the addresses, ports and files are overridden."""
    binary = shutil.which(TURNSERVER)
    if binary is None:
        unavailable("coturn's turnserver is not installed (apt-get install coturn)")
        raise AssertionError("unreachable")
    port = _free_udp_port()
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "turnserver.log"
    head = [binary, "-c", str(config)] if config is not None else [binary, "-n"]
    cmd = [
        *head,
        "--listening-ip=127.0.0.1",
        "--relay-ip=127.0.0.1",
        f"--listening-port={port}",
        "--use-auth-secret",
        f"--static-auth-secret={secret}",
        *(["--realm=cc.test", "--allow-loopback-peers"] if config is None else []),  # peers on 127.0.0.1
        "--no-tls",
        "--no-dtls",
        "--no-tcp",
        "--no-cli",
        "--no-software-attribute",
        "--min-port=40000",
        "--max-port=60000",
        f"--userdb={workdir / 'turndb'}",
        f"--pidfile={workdir / 'turnserver.pid'}",
        f"--log-file={log}",
        "--simple-log",
        "--verbose",  # logs each session with its username
    ]
    with open(workdir / "turnserver.out", "wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while not _answers_stun(port):
            if process.poll() is not None or time.monotonic() > deadline:
                unavailable(f"turnserver did not start: {(workdir / 'turnserver.out').read_text()[-500:]}")
            time.sleep(0.1)
        yield TurnServer(port=port, secret=secret, realm="cc.test", log=log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
