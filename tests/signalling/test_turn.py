"""TURN REST API credentials (coturn use-auth-secret) and the iceServers list."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from signalling.turn import ice_servers, turn_credentials, verify_turn_credentials

SECRET = "north-sea-herring"
NOW = 1_700_000_000.7


def test_credentials_match_an_independent_hmac() -> None:
    username, password = turn_credentials(SECRET, "visitor-42", NOW, ttl_s=3600)
    assert username == "1700003600:visitor-42"
    expected = base64.b64encode(
        hmac.new(b"north-sea-herring", b"1700003600:visitor-42", hashlib.sha1).digest()
    ).decode()
    assert password == expected
    assert len(base64.b64decode(password)) == 20  # an SHA-1 digest


def test_verify_checks_hmac_and_expiry() -> None:
    username, password = turn_credentials(SECRET.encode(), "agent:7", NOW, ttl_s=60)
    assert verify_turn_credentials(username, password, SECRET, NOW)
    assert verify_turn_credentials(username, password, SECRET, NOW + 59)
    assert not verify_turn_credentials(username, password, SECRET, NOW + 61)  # expired
    assert not verify_turn_credentials(username, password, "other-secret", NOW)
    assert not verify_turn_credentials(username, password[:-2] + "A=", SECRET, NOW)
    assert not verify_turn_credentials("agent:7", password, SECRET, NOW)  # no expiry
    assert not verify_turn_credentials("soon:agent", password, SECRET, NOW)


def test_ice_servers_shape() -> None:
    servers = ice_servers(
        ["stun:turn.example.test:3478"],
        ["turn:turn.example.test:3478?transport=udp", "turns:turn.example.test:5349"],
        SECRET,
        "visitor-42",
        NOW,
        ttl_s=600,
    )
    assert servers[0] == {"urls": ["stun:turn.example.test:3478"]}
    turn = servers[1]
    assert turn["urls"] == [
        "turn:turn.example.test:3478?transport=udp",
        "turns:turn.example.test:5349",
    ]
    assert turn["username"] == "1700000600:visitor-42"
    assert verify_turn_credentials(turn["username"], turn["credential"], SECRET, NOW)


def test_ice_servers_without_turn() -> None:
    assert ice_servers([], [], SECRET, "u", NOW) == []  # what loopback tests pass
    assert ice_servers(["stun:s.test"], ["turn:t.test"], None, "u", NOW) == [{"urls": ["stun:s.test"]}]


@pytest.mark.parametrize(
    ("stun", "turn"),
    [(["turn:t.test"], []), ([], ["stun:s.test"]), (["http://x"], [])],
)
def test_ice_servers_refuses_wrong_schemes(stun: list[str], turn: list[str]) -> None:
    with pytest.raises(ValueError):
        ice_servers(stun, turn, SECRET, "u", NOW)


def test_credentials_refuse_nonsense() -> None:
    for args in (("", "u"), (SECRET, "")):
        with pytest.raises(ValueError):
            turn_credentials(args[0], args[1], NOW)
    with pytest.raises(ValueError):
        turn_credentials(SECRET, "u", NOW, ttl_s=0)
