"""The catalogues the pages load, and the language a visitor or a staff member gets.

``GET /api/locales/{bundle}`` (``widget`` or ``staff``) answers with the messages of the
locale negotiated from ``want`` (the page's candidates, best first) and the browser's
Accept-Language, limited to a site's languages when ``site`` names one.  It is the same
for every visitor of a page, so it is cached like ``/widget.js``: five minutes, then
revalidated by its ETag.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

from contact_center.api.http import ApiError, ApiRoute, parts_of
from contact_center.i18n import Text, bundle, negotiate
from contact_center.i18n.catalogue import parse_accept_language
from contact_center.journey.sites import SiteStore, site_locales

PAGE_BUNDLES = ("widget", "staff")


def wanted_locales(request: Request) -> list[str]:
    """The page's candidates (``want=fa-IR,en``: host page lang, data-locale, the
    browser's), then Accept-Language."""
    want = [tag.strip() for tag in request.query_params.get("want", "").split(",")[:10] if tag.strip()]
    return [*want, *parse_accept_language(request.headers.get("accept-language", ""))]


async def visitor_locale(request: Request) -> tuple[str, list[str], str]:
    """The negotiated locale, the site's allowed locales and its default (``site``
    names the site by id; none, an unknown or a disabled one: every shipped locale)."""
    site_id = request.query_params.get("site", "").strip()
    site = await SiteStore(parts_of(request).db).get(site_id[:32]) if site_id else None
    allowed, default = site_locales(site)
    return negotiate(wanted_locales(request), allowed, default), allowed, default


async def locale_bundle(request: Request) -> Response:
    name = request.path_params["bundle"]
    if name not in PAGE_BUNDLES:
        raise ApiError(404, "not_found", Text("error.no_bundle", bundle=name))
    code, _allowed, _default = await visitor_locale(request)
    body = bundle(code, name)
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'
    headers = {"Cache-Control": "public, max-age=300", "ETag": etag, "Vary": "Accept-Language"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/api/locales/{bundle}",
        locale_bundle,
        "The messages a page shows (bundle widget or staff) in the negotiated locale",
        "locales",
        query=(
            (
                "want",
                "string",
                "locale tags the page would like, best first, comma-separated (e.g. fa-IR,en)",
            ),
            ("site", "string", "the site's id (data-site on the widget's tag): only its allowed locales"),
        ),
    ),
]
