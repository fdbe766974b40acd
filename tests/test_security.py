"""Passwords, signed tokens and frame validation, on their own."""

from __future__ import annotations

import contextlib
import json
import time

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contact_center import protocol as p
from contact_center.security import Identity, TokenError, TokenSigner, hash_password, verify_password

SECRET = "unit-test-secret-0123456789abcdefghij"


def test_passwords_are_salted_argon2_and_verify() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, "correct horse")
    assert not verify_password(first, "wrong horse")
    assert not verify_password("not a hash", "correct horse")


def test_tokens_round_trip_and_carry_the_role() -> None:
    signer = TokenSigner(SECRET)
    token = signer.issue(Identity("u1", "supervisor", "Sue"), ttl_s=60)
    identity = signer.verify(token)
    assert identity == Identity("u1", "supervisor", "Sue")
    assert identity.at_least("agent") and not identity.at_least("admin")


def test_expired_forged_and_tampered_tokens_are_refused() -> None:
    signer = TokenSigner(SECRET)
    expired = signer.issue(Identity("u1", "agent"), ttl_s=10, now=time.time() - 60)
    with pytest.raises(TokenError, match="expired"):
        signer.verify(expired)
    with pytest.raises(TokenError):
        TokenSigner("another-secret-0123456789abcdefghijkl").verify(signer.issue(Identity("u1", "agent"), 60))
    # A visitor who edits its token's role or subject breaks the signature.
    token = signer.issue(Identity("v1", "visitor"), 60)
    header, _payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["role"] = "admin"
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    with pytest.raises(TokenError):
        signer.verify(f"{header}.{forged_payload}.{signature}")
    # "alg: none" is not accepted.
    unsigned = jwt.encode({"sub": "v1", "role": "admin", "exp": time.time() + 60}, None, algorithm="none")
    with pytest.raises(TokenError):
        signer.verify(unsigned)
    # A token for an unknown role.
    odd = jwt.encode({"sub": "x", "role": "god", "exp": time.time() + 60}, SECRET, algorithm="HS256")
    with pytest.raises(TokenError):
        signer.verify(odd)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        TokenSigner("short")


def test_frames_decode_into_their_types() -> None:
    frame = p.decode_client_frame('{"type": "chat.message", "id": "m1", "contact_id": "c1", "body": "hi"}')
    assert isinstance(frame, p.ChatMessage) and frame.body == "hi"
    frame = p.decode_client_frame('{"type": "hello", "token": "t"}')
    assert isinstance(frame, p.Hello) and frame.resume == []


@pytest.mark.parametrize(
    ("raw", "code", "ref"),
    [
        ("{", "invalid_json", None),
        # JSON that is not an object is not a frame at all (as the docs' table says).
        ("[]", "invalid_json", None),
        ('"hello"', "invalid_json", None),
        ("null", "invalid_json", None),
        ('{"type": "nope", "id": "a"}', "unknown_type", "a"),
        ('{"type": "chat.message", "id": "b", "contact_id": "c1"}', "invalid_frame", "b"),
        (
            '{"type": "chat.message", "id": "c", "contact_id": "c1", "body": "x", "admin": true}',
            "invalid_frame",
            "c",
        ),
        ('{"type": "chat.message", "id": "d", "contact_id": "../etc", "body": "x"}', "invalid_frame", "d"),
        ('{"type": "chat.rate", "id": "e", "contact_id": "c1", "rating": 0}', "invalid_frame", "e"),
    ],
)
def test_bad_frames_say_what_is_wrong(raw: str, code: str, ref: str | None) -> None:
    with pytest.raises(p.FrameError) as info:
        p.decode_client_frame(raw)
    assert info.value.code == code
    assert info.value.ref == ref
    assert info.value.message


@given(
    st.one_of(
        st.text(max_size=200),
        st.binary(max_size=200),
        st.dictionaries(st.text(max_size=10), st.text(max_size=10)).map(json.dumps),
    )
)
def test_the_decoder_only_ever_raises_frame_errors(raw: str | bytes) -> None:
    with contextlib.suppress(p.FrameError):
        p.decode_client_frame(raw)
