"""Debian's Chromium through Playwright, the same way in every browser test.

Never ``playwright install``: the tests drive /usr/bin/chromium with the flags from
DESIGN.md section 7 (fake media devices, loopback WebRTC, and no background networking,
which a closed test network refuses).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def unavailable(reason: str) -> None:
    """Skip with the reason, or fail when CI requires every service."""
    if os.environ.get("CC_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (CC_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def sync_playwright() -> Any:
    """Playwright's sync entry point, once Chromium is known to be there."""
    if not os.path.exists(CHROMIUM):
        unavailable(f"{CHROMIUM} is not installed (apt install chromium)")
    try:
        from playwright.sync_api import sync_playwright as entry
    except ImportError:  # pragma: no cover - a dev dependency
        unavailable("playwright is not installed")
    return entry()
