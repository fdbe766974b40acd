"""``create_app()``: the ASGI application.

Starlette routes for the REST API (declared in ``api.routes``), the two WebSocket
endpoints, the pages (demo site with the widget, agent console, supervisor page), the
OpenAPI document and Prometheus metrics.  The lifespan runs the migrations, creates the
first admin, and starts the services.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
from collections.abc import AsyncIterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from contact_center.api.http import ApiError, ApiRoute, error_response, json_response, request_locale
from contact_center.api.openapi import openapi_document
from contact_center.api.parts import ApiParts
from contact_center.api.registry import API_ROUTES
from contact_center.gateway import endpoint
from contact_center.settings import Settings, load_settings
from contact_center.store.database import upgrade_schema_async
from contact_center.wiring import Services

log = logging.getLogger("contact_center")

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Pages of the demo site and the journey stage each declares on the widget's tag.
DEMO_PAGES = {
    "/": "index.html",
    "/product": "product.html",
    "/pricing": "pricing.html",
    "/checkout": "checkout.html",
    "/after-sales": "after-sales.html",
    # The same shop in Persian (right to left, the widget in Persian): linked from each
    # English page, so a newcomer sees both.
    "/fa": "fa/index.html",
    "/fa/": "fa/index.html",
    "/fa/product": "fa/product.html",
    "/fa/pricing": "fa/pricing.html",
    "/fa/checkout": "fa/checkout.html",
    "/fa/after-sales": "fa/after-sales.html",
}
APP_PAGES = {
    "/agent": "agent/index.html",
    "/supervisor": "supervisor/index.html",
    "/journey": "journey/index.html",
}

# Our pages load nothing from elsewhere and run no inline script, so an injected
# <script> or event-handler attribute would not execute even if escaping failed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; frame-ancestors 'self'; "
    "base-uri 'none'; form-action 'self'"
)


def package_version() -> str:
    try:
        return version("contact-center")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout
        return "0.0.0"


def _api_route(api: ApiRoute) -> Route:
    async def endpoint_fn(request: Request) -> Response:
        try:
            return await api.handler(request)
        except ApiError as exc:
            return error_response(exc, request_locale(request))

    endpoint_fn.__name__ = api.handler.__name__
    return Route(api.path, endpoint_fn, methods=[api.method])


# Shared sources spliced into /widget.js: (file under static/, the part's name).
_WIDGET_PARTS = (("common/i18n-core.js", "i18n"), ("agent/call-engine.js", "call engine"))


def assemble_widget(static_dir: Path = STATIC_DIR) -> str:
    """widget.js with the translator and the call engine spliced in.  Sites embed one
    file; each part's one source is the module the staff pages import (between its
    ``// ---- <name>: begin/end ----`` markers)."""
    widget = (static_dir / "widget" / "widget.js").read_text()
    for file, name in _WIDGET_PARTS:
        source = (static_dir / file).read_text()
        begin = source.index(f"// ---- {name}: begin ----")
        end_marker = f"// ---- {name}: end ----"
        end = source.index(end_marker) + len(end_marker)
        include = f"// ---- {name}: include ----"
        if include not in widget:
            raise RuntimeError(f"widget.js has no {name} include marker")
        widget = widget.replace(include, source[begin:end], 1)
    return widget


async def widget_script(request: Request) -> Response:
    """The widget for every page of the site: cached five minutes, then revalidated by
    its ETag (a 304 of a few bytes instead of the script on a visitor's slow phone)."""
    body, etag = _widget_cache()
    headers = {"Cache-Control": "public, max-age=300", "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript", headers=headers)


@functools.cache
def _widget_cache() -> tuple[str, str]:
    body = assemble_widget()
    return body, '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'


def _page(file: str) -> Any:
    async def page(_request: Request) -> Response:
        path = STATIC_DIR / file
        if not path.exists():
            return Response("not built", status_code=404)
        return FileResponse(path, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    return page


class WidgetCors:
    """CORS for the widget's endpoints, limited to the allowed origins, so the widget
    works when embedded on the business's own site."""

    PREFIXES = ("/api/visitor/", "/api/widget/", "/api/locales/widget", "/static/fonts/")

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = set(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.PREFIXES):
            await self.app(scope, receive, send)
            return
        origin = dict(scope["headers"]).get(b"origin", b"").decode()
        allowed = origin in self.allowed
        if scope["method"] == "OPTIONS" and allowed:
            response = Response(
                status_code=204,
                headers={
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Allow-Methods": "GET, POST",
                    "Access-Control-Allow-Headers": "content-type",
                    "Access-Control-Max-Age": "600",
                    "Vary": "Origin",
                },
            )
            await response(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and allowed:
                headers = list(message.get("headers", []))
                headers.append((b"access-control-allow-origin", origin.encode()))
                headers.append((b"vary", b"Origin"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cors)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await upgrade_schema_async(settings.resolved_database_url)
        services = Services(settings)
        # The REST handlers see the parts as ApiParts (mypy checks the wiring fits).
        api_parts: ApiParts = services
        app.state.services = api_parts
        app.state.loop = asyncio.get_running_loop()
        if settings.role in ("all", "gateway"):
            generated = await services.users.ensure_admin(settings.admin_password)
            if generated:
                # Printed once, on the first start, to the operator's terminal only.
                print(
                    "\n  First start: created the admin account.\n"
                    f"  username: admin\n  password: {generated}\n"
                    "  Change it after logging in (or set CC_ADMIN_PASSWORD before the first start).\n",
                    flush=True,
                )
        await services.start()
        try:
            yield
        finally:
            await services.stop()

    async def openapi(_request: Request) -> Response:
        return json_response(openapi_document(API_ROUTES, package_version()))

    async def metrics(request: Request) -> Response:
        services: Services = request.app.state.services
        return Response(generate_latest(services.registry), media_type=CONTENT_TYPE_LATEST)

    def socket(kind: str) -> Any:
        async def serve(websocket: WebSocket) -> None:
            services: Services = websocket.app.state.services
            await endpoint.serve(websocket, services, services.sockets[kind])

        return serve

    routes: list[BaseRoute] = [_api_route(api) for api in API_ROUTES]
    routes += [
        Route("/openapi.json", openapi),
        Route("/metrics", metrics),
        WebSocketRoute("/ws/visitor", socket("visitor")),
        WebSocketRoute("/ws/agent", socket("agent")),
        WebSocketRoute("/ws/supervisor", socket("supervisor")),
    ]
    routes += [Route(path, _page("site/" + file)) for path, file in DEMO_PAGES.items()]
    routes += [Route(path, _page(file)) for path, file in APP_PAGES.items()]
    # The widget, assembled (before the static mount, which would serve the source).
    routes.append(Route("/widget.js", widget_script))
    routes.append(Route("/static/widget/widget.js", widget_script))
    routes.append(Mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"))

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(WidgetCors, allowed=settings.allowed_origins),
            # The widget's script and styles are 120 kB as text and about a quarter of
            # that compressed: the difference is seconds on a phone's slow connection.
            Middleware(GZipMiddleware, minimum_size=1024),
        ],
    )
    app.state.settings = settings
    return app
