"""Verified visitor identity over REST: the check behind ``POST /api/visitor/token``
when the widget brings ``identity`` + ``hmac`` (see :mod:`contact_center.journey.identity`),
the customer beside a contact for the console, and the admin routes that issue a
site's identity secret."""

from __future__ import annotations

import logging
import time

from starlette.requests import Request
from starlette.responses import Response

from contact_center.api import schemas as s
from contact_center.api.audit import audited
from contact_center.api.http import ApiError, ApiRoute, json_response, parts_of, require
from contact_center.api.parts import ApiParts
from contact_center.i18n import Text
from contact_center.journey.identity import (
    InvalidIdentity,
    check_identity,
    hmac_matches,
    remove_secret,
    rotate_secret,
)
from contact_center.journey.sites import SiteStore
from contact_center.store.customers import CustomerStore

log = logging.getLogger(__name__)

_BAD_FIELD = {
    "id": Text("error.identity.bad_id"),
    "name": Text("error.identity.bad_name"),
    "email": Text("error.identity.bad_email"),
}


async def verified_visitor(parts: ApiParts, body: s.VisitorTokenRequest) -> str | None:
    """The visitor id of the customer ``body`` names, when its site's HMAC is right;
    None when it names nobody.  Anything else is refused (4xx) before anything is
    stored, so a forged identity leaves no trace but a log line."""
    if body.identity is None:
        if body.hmac:
            raise ApiError(422, "invalid", Text("error.identity.hmac_without_identity"))
        return None
    try:
        claimed = check_identity(body.identity.id, body.identity.name, body.identity.email)
    except InvalidIdentity as exc:
        raise ApiError(422, "invalid", _BAD_FIELD[exc.field]) from None
    if not body.site:
        raise ApiError(422, "invalid", Text("error.identity.site_needed"))
    site = await SiteStore(parts.db).get(body.site)
    if site is None or site.disabled or not site.identity_salt:
        log.warning("identity refused: site %r has no identity secret", body.site)
        raise ApiError(403, "identity_refused", Text("error.identity.not_enabled"))
    if not hmac_matches(parts.settings.resolved_secret_key(), site, claimed.external_id, body.hmac):
        log.warning("identity refused: a wrong or missing hmac for a customer of site %s", site.id)
        raise ApiError(403, "identity_refused", Text("error.identity.bad_hmac"))
    customer = await CustomerStore(parts.db).verified(
        site.id, claimed.external_id, claimed.name, claimed.email, time.time()
    )
    return customer.visitor_id


async def customer_of(parts: ApiParts, visitor_id: str) -> s.CustomerOut | None:
    """The verified customer behind this visitor, for the console's badge."""
    customer = await CustomerStore(parts.db).of_visitor(visitor_id)
    if customer is None:
        return None
    site = await SiteStore(parts.db).get(customer.site_id)
    return s.CustomerOut(
        site_id=customer.site_id,
        site_name=site.name if site is not None else "",
        external_id=customer.external_id,
        name=customer.name,
        email=customer.email,
        created_at=customer.created_at,
        verified_at=customer.verified_at,
    )


# --------------------------------------------------------------------------- admin


async def rotate_identity_secret(request: Request) -> Response:
    """A new identity secret for the site, shown once; the old one stops verifying."""
    identity = require(request, "admin")
    parts = parts_of(request)
    site_id = request.path_params["site_id"]
    issued = await rotate_secret(parts.db, parts.settings.resolved_secret_key(), site_id)
    if issued is None:
        raise ApiError(404, "not_found", Text("error.no_site"))
    await audited(
        request, identity, "site.identity_secret", target_kind="site", target_id=site_id, prefix=issued.prefix
    )
    out = s.IdentitySecretOut(
        site_id=issued.site_id, secret=issued.secret, prefix=issued.prefix, rotated_at=issued.rotated_at
    )
    return json_response(out, 201)


async def remove_identity_secret(request: Request) -> Response:
    """Turn verified identity off for the site: every HMAC is refused."""
    identity = require(request, "admin")
    site_id = request.path_params["site_id"]
    if not await remove_secret(parts_of(request).db, site_id):
        raise ApiError(404, "not_found", Text("error.no_site"))
    await audited(request, identity, "site.identity_secret_remove", target_kind="site", target_id=site_id)
    return Response(status_code=204)


ROUTES: list[ApiRoute] = [
    ApiRoute(
        "POST",
        "/api/admin/sites/{site_id}/identity-secret",
        rotate_identity_secret,
        "Issue (or rotate) the site's identity secret for verified visitors; shown once",
        "admin",
        role="admin",
        response=s.IdentitySecretOut,
        status=201,
    ),
    ApiRoute(
        "DELETE",
        "/api/admin/sites/{site_id}/identity-secret",
        remove_identity_secret,
        "Turn verified identity off for the site (every HMAC is refused)",
        "admin",
        role="admin",
        status=204,
    ),
]
