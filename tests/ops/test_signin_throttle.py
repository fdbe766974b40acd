"""Sign-in throttling per account and per address, with back-off and a clear 429, on
a real server; every failure is in the audit log."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from contact_center.signin import ThrottlePolicy
from tests.support.server import ADMIN_PASSWORD, LiveServer, live_server


def _login(server: LiveServer, username: str, password: str) -> httpx.Response:
    return server.api("POST", "/api/auth/login", json={"username": username, "password": password})


def _wait_until_allowed(server: LiveServer, username: str, retry_after: int) -> None:
    """Wait out a Retry-After, then poll (bounded) until the server agrees."""
    time.sleep(retry_after)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = _login(server, username, "wrong-password-probe")
        if response.status_code != 429:
            assert response.status_code == 401
            return
        time.sleep(float(response.headers["Retry-After"]))
    raise AssertionError("still throttled")


def test_policy_doubles_after_the_free_failures() -> None:
    policy = ThrottlePolicy(free_failures=5, base_delay_s=1.0, max_delay_s=60.0)
    assert [policy.delay(n, 5) for n in range(4, 13)] == [0, 1, 2, 4, 8, 16, 32, 60, 60]


def test_an_account_is_throttled_with_back_off_and_a_success_clears_it(server: LiveServer) -> None:
    admin = server.admin_token()
    server.add_agent(admin, "alice")
    for _ in range(5):
        response = _login(server, "alice", "not-her-password")
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_credentials"

    refused = _login(server, "alice", "agent-password")  # even the right password waits now
    assert refused.status_code == 429
    assert refused.json()["error"] == "too_many_attempts"
    assert "account" in refused.json()["message"]
    first_wait = int(refused.headers["Retry-After"])
    assert first_wait >= 1

    # After the wait one more guess is allowed; it fails (the probe), and the next
    # wait is longer: back-off.
    _wait_until_allowed(server, "alice", first_wait)
    again = _login(server, "alice", "agent-password")
    assert again.status_code == 429
    assert int(again.headers["Retry-After"]) > first_wait

    # Another account is not affected; and admins read every failure in the audit log.
    assert _login(server, "admin", ADMIN_PASSWORD).status_code == 200
    entries = server.api("GET", "/api/admin/audit?action=auth.login&target_id=alice", admin).json()["entries"]
    failed = [e for e in entries if e["outcome"] == "failed"]
    assert len(failed) == 6, "five guesses and the probe; the refused attempts are not stored"
    assert {e["address"] for e in failed} == {"127.0.0.1"}
    assert all(e["actor_role"] == "anonymous" for e in failed)

    # Once the wait is over the right password gets in, and that clears the count.
    time.sleep(int(again.headers["Retry-After"]))
    deadline = time.monotonic() + 30
    while (ok := _login(server, "alice", "agent-password")).status_code == 429:
        assert time.monotonic() < deadline
        time.sleep(float(ok.headers["Retry-After"]))
    assert ok.status_code == 200
    assert _login(server, "alice", "a-typo").status_code == 401  # the count starts again


def test_an_address_is_throttled_across_accounts(tmp_path: Path) -> None:
    with live_server(tmp_path, login_address_free_failures=3, login_free_failures=10) as server:
        for name in ("a1", "a2", "a3"):
            assert _login(server, name, "guess-one").status_code == 401
        refused = _login(server, "a4", "guess-one")
        assert refused.status_code == 429
        assert "address" in refused.json()["message"]
        assert int(refused.headers["Retry-After"]) >= 1
        admin_login = _login(server, "admin", ADMIN_PASSWORD)
        assert admin_login.status_code == 429, "the address waits, whoever it claims to be"
