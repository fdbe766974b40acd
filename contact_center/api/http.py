"""Request/response plumbing shared by the REST handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from contact_center.api.parts import ApiParts
from contact_center.i18n import Text, negotiate
from contact_center.i18n.catalogue import parse_accept_language
from contact_center.i18n.text import render
from contact_center.security import Identity, Role, TokenError

T = TypeVar("T")
_encoder = msgspec.json.Encoder()


class ApiError(Exception):
    """An error response: ``code`` for programs, ``message`` for people (a
    :class:`~contact_center.i18n.Text`, rendered in the request's locale), and any
    ``headers`` it needs (Retry-After on a 429)."""

    def __init__(
        self, status: int, code: str, message: str | Text, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(str(message))
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


class ErrorBody(msgspec.Struct):
    """Every error response."""

    error: str
    message: str


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_encoder.encode(data), status_code=status, media_type="application/json", headers=headers)


def error_response(exc: ApiError, locale: str = "en") -> Response:
    return json_response(
        ErrorBody(error=exc.code, message=render(exc.message, locale)), exc.status, exc.headers
    )


def request_locale(request: Request) -> str:
    """The reader's locale: ``?locale=``, else Accept-Language (the staff pages send
    the language chosen in their header), else the default."""
    wanted = [
        request.query_params.get("locale"),
        *parse_accept_language(request.headers.get("accept-language", "")),
    ]
    return negotiate(wanted)


def parts_of(request: Request) -> ApiParts:
    parts: ApiParts = request.app.state.services
    return parts


def identity_of(request: Request) -> Identity | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        return parts_of(request).signer.verify(token.strip())
    except TokenError:
        return None


def client_address(request: Request) -> str:
    """The client's address (uvicorn puts the proxy's X-Forwarded-For here when the
    proxy is trusted)."""
    return request.client.host if request.client is not None else ""


def require(request: Request, role: Role) -> Identity:
    identity = identity_of(request)
    if identity is None:
        raise ApiError(401, "unauthenticated", Text("error.api.unauthenticated"))
    if not identity.at_least(role) or (role != "visitor" and not identity.is_staff):
        raise ApiError(403, "forbidden", Text("error.api.role_needed", role=role))
    return identity


async def body_of(request: Request, kind: type[T], max_bytes: int = 1_000_000) -> T:
    raw = await request.body()
    if len(raw) > max_bytes:
        raise ApiError(413, "too_large", Text("error.api.too_large"))
    try:
        return msgspec.json.decode(raw or b"{}", type=kind)
    except msgspec.ValidationError as exc:
        raise ApiError(422, "invalid", Text("error.invalid_input", detail=str(exc))) from None
    except msgspec.DecodeError as exc:
        raise ApiError(400, "invalid_json", Text("error.invalid_json", detail=str(exc))) from None


Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class ApiRoute:
    """One REST operation: how it is served and how it is documented."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    role: Role | None = None
    request: type | None = None
    response: Any = None
    status: int = 200
    query: Sequence[tuple[str, str, str]] = field(default_factory=tuple)  # (name, type, description)
    response_media: str = "application/json"
    # Other media types the same operation may answer with (e.g. text/csv when asked).
    alternative_media: tuple[str, ...] = ()
