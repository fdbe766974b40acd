"""REST routes of the customer journey: analytics for supervisors (funnel, journey
map with bottlenecks, stage of origin, attribution, sources, CSV exports), a visitor's
timeline for the agent console, conversions reported by sites, and the admin side
(sites and their keys, stage rules)."""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from contact_center.api.audit import audited
from contact_center.api.http import (
    ApiError,
    ApiRoute,
    body_of,
    json_response,
    parts_of,
    request_locale,
    require,
)
from contact_center.api.parts import ApiParts
from contact_center.i18n import Text, tables, translate
from contact_center.journey import schemas as js
from contact_center.journey.analytics import CONVERSION_WINDOW_S, LOOKBACK_S, Filters, JourneyAnalytics
from contact_center.journey.conversions import ConversionRecorder, InvalidEvent
from contact_center.journey.rules import InvalidRule, StageRuleStore
from contact_center.journey.sites import SiteStore, locales_out
from contact_center.journey.stages import resolve_stage
from contact_center.security import Identity, TokenError
from contact_center.store.models import Site
from dashboard.csv_cells import safe_cell

DEFAULT_DAYS = 30
MAX_RANGE_DAYS = 3660

# --------------------------------------------------------------------------- query parsing


def _number(request: Request, name: str, default: float, low: float, high: float) -> float:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(422, "invalid", Text("error.param.not_number", name=name)) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ApiError(422, "invalid", Text("error.param.out_of_range", name=name, low=low, high=high))
    return value


def parse_time(raw: str, name: str, *, end: bool = False) -> float:
    """Unix seconds, an ISO date (UTC midnight; as ``to``, the end of that day) or an
    ISO date-time (UTC unless it has an offset)."""
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return (moment + timedelta(days=1 if end else 0)).timestamp()
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "invalid", Text("error.param.bad_time", name=name)) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def filters_of(request: Request) -> Filters:
    query = request.query_params
    end = parse_time(query["to"], "to", end=True) if query.get("to") else time.time()
    start = parse_time(query["from"], "from") if query.get("from") else end - DEFAULT_DAYS * 86400
    if not start < end:
        raise ApiError(422, "invalid", Text("error.range.from_after_to"))
    if end - start > MAX_RANGE_DAYS * 86400:
        raise ApiError(422, "invalid", Text("error.range.too_long", days=MAX_RANGE_DAYS))
    source = (query.get("source") or "").strip()[:256] or None
    queue = (query.get("queue") or "").strip()[:64] or None
    return Filters(start=start, end=end, source=source, queue=queue)


def _rules_of(request: Request) -> js.BottleneckRules:
    defaults = js.BottleneckRules()
    return js.BottleneckRules(
        min_volume=int(_number(request, "min_volume", defaults.min_volume, 1, 1e9)),
        max_abandonment=_number(request, "max_abandonment", defaults.max_abandonment, 0, 1),
        max_avg_wait_s=_number(request, "max_wait_s", defaults.max_avg_wait_s, 0, 86400),
        min_csat=_number(request, "min_csat", defaults.min_csat, 0, 1),
        min_rated=defaults.min_rated,
        conversion_margin=defaults.conversion_margin,
        min_conversion_gap=defaults.min_conversion_gap,
    )


FILTER_QUERY: tuple[tuple[str, str, str], ...] = (
    (
        "from",
        "string",
        "start (inclusive): Unix seconds, YYYY-MM-DD (UTC) or ISO date-time; default 30 days back",
    ),
    ("to", "string", "end (exclusive; a YYYY-MM-DD date includes that day); default now"),
    ("source", "string", "only visitors with this first-touch source (utm_source, else referring domain)"),
    ("queue", "string", "only contacts of this queue (contact figures only)"),
)
RULE_QUERY: tuple[tuple[str, str, str], ...] = (
    ("min_volume", "integer", "contacts a cell needs before it can be a bottleneck (default 20)"),
    ("max_abandonment", "number", "abandonment rate above this is a bottleneck (default 0.15)"),
    ("max_wait_s", "number", "average wait above this is a bottleneck (default 60)"),
    ("min_csat", "number", "CSAT below this is a bottleneck (default 0.7)"),
    ("conversion_window_days", "number", "conversion after contact counts within this many days (default 7)"),
)

ATTRIBUTION_QUERY: tuple[tuple[str, str, str], ...] = (
    *FILTER_QUERY[:3],
    ("lookback_days", "number", "credit touchpoints up to this many days before a conversion (default 30)"),
)


def _analytics(request: Request) -> JourneyAnalytics:
    return JourneyAnalytics(parts_of(request).db)


async def _csv(
    request: Request,
    identity: Identity,
    name: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    locale: str | None = None,
) -> Response:
    """A CSV download (text a spreadsheet would run is quoted), left in the audit log;
    with ``?locale=`` (the journey page sends its own) the titles are for people, in
    that language."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(tables.header(locale, header))
    count = 0
    for row in rows:
        count += 1
        writer.writerow(
            ["" if v is None else (f"{v:.6g}" if isinstance(v, float) else safe_cell(v)) for v in row]
        )
    await audited(
        request,
        identity,
        "export.journey",
        target_kind="csv",
        target_id=name,
        rows=count,
        query=str(request.query_params)[:500],
    )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _csv_locale(request: Request) -> str | None:
    return request_locale(request) if request.query_params.get("locale") else None


# --------------------------------------------------------------------------- analytics


async def journey_funnel(request: Request) -> Response:
    require(request, "supervisor")
    return json_response(await _analytics(request).funnel(filters_of(request)))


async def journey_funnel_csv(request: Request) -> Response:
    identity = require(request, "supervisor")
    funnel = await _analytics(request).funnel(filters_of(request))
    fields = [f for f in js.FunnelStep.__struct_fields__]
    return await _csv(
        request,
        identity,
        "journey-funnel.csv",
        fields,
        ([getattr(s, f) for f in fields] for s in funnel.steps),
        _csv_locale(request),
    )


async def _map(request: Request) -> js.JourneyMap:
    window = _number(request, "conversion_window_days", CONVERSION_WINDOW_S / 86400, 0, 365) * 86400
    return await _analytics(request).journey_map(filters_of(request), _rules_of(request), window)


async def journey_grid(request: Request) -> Response:
    require(request, "supervisor")
    return json_response(await _map(request))


async def journey_grid_csv(request: Request) -> Response:
    identity = require(request, "supervisor")
    grid = await _map(request)
    flagged = {(b.stage, b.channel): b for b in grid.bottlenecks}
    fields = list(js.GridCell.__struct_fields__)
    locale = _csv_locale(request)
    return await _csv(
        request,
        identity,
        "journey-map.csv",
        [*fields, "bottleneck", "reasons"],
        (
            [
                *(getattr(c, f) for f in fields),
                translate(locale or "en", "csv.yes") if (c.stage, c.channel) in flagged else "",
                "; ".join(flagged[(c.stage, c.channel)].reasons) if (c.stage, c.channel) in flagged else "",
            ]
            for c in [*grid.cells, *grid.stage_totals]
        ),
        locale,
    )


async def journey_bottlenecks(request: Request) -> Response:
    require(request, "supervisor")
    grid = await _map(request)
    return json_response(js.Bottlenecks(window=grid.window, bottlenecks=grid.bottlenecks, rules=grid.rules))


async def journey_origins(request: Request) -> Response:
    require(request, "supervisor")
    return json_response(await _analytics(request).origins(filters_of(request)))


async def journey_origins_csv(request: Request) -> Response:
    identity = require(request, "supervisor")
    origins = await _analytics(request).origins(filters_of(request))
    fields = list(js.OriginRow.__struct_fields__)
    return await _csv(
        request,
        identity,
        "journey-origins.csv",
        fields,
        ([getattr(r, f) for f in fields] for r in origins.rows),
        _csv_locale(request),
    )


def _lookback(request: Request) -> float:
    return _number(request, "lookback_days", LOOKBACK_S / 86400, 0, 365) * 86400


async def journey_attribution(request: Request) -> Response:
    require(request, "supervisor")
    return json_response(await _analytics(request).attribution(filters_of(request), _lookback(request)))


async def journey_attribution_csv(request: Request) -> Response:
    identity = require(request, "supervisor")
    result = await _analytics(request).attribution(filters_of(request), _lookback(request))
    fields = list(js.AttributionRow.__struct_fields__)
    return await _csv(
        request,
        identity,
        "journey-attribution.csv",
        fields,
        ([getattr(r, f) for f in fields] for r in result.rows),
        _csv_locale(request),
    )


async def journey_sources(request: Request) -> Response:
    require(request, "supervisor")
    return json_response(await _analytics(request).sources(filters_of(request)))


async def visitor_journey(request: Request) -> Response:
    """Agents see the journey of a visitor they talk or talked to, or who waits in a
    queue; supervisors and admins see every visitor's."""
    identity = require(request, "agent")
    parts = parts_of(request)
    visitor_id = request.path_params["visitor_id"]
    if not await _may_see_visitor(parts, identity, visitor_id):
        raise ApiError(404, "not_found", Text("error.no_such_visitor"))
    limit = int(_number(request, "limit", 200, 1, 1000))
    journey = await _analytics(request).timeline(visitor_id, limit)
    for item in journey.items:
        if item.agent_id:
            item.agent_name = await parts.agent_name(item.agent_id)
    return json_response(journey)


async def _may_see_visitor(parts: ApiParts, identity: Identity, visitor_id: str) -> bool:
    if identity.at_least("supervisor"):
        return True
    contacts = await parts.contacts.search(visitor_id=visitor_id, limit=100)
    return any(c.agent_id == identity.subject or c.status in ("queued", "offline") for c in contacts)


# --------------------------------------------------------------------------- conversions


async def journey_event(request: Request) -> Response:
    """A site reports a conversion with its key in ``X-Site-Key``."""
    parts = parts_of(request)
    key = request.headers.get("x-site-key", "").strip()
    if not key:
        raise ApiError(401, "unauthenticated", Text("error.site_key.missing"))
    site = await SiteStore(parts.db).authenticate(key)
    if site is None:
        raise ApiError(403, "forbidden", Text("error.site_key.unknown"))
    event = await body_of(request, js.JourneyEventIn, max_bytes=16_000)
    visitor_id = event.visitor_id
    if event.visitor_token:
        try:
            identity = parts.signer.verify(event.visitor_token)
        except TokenError:
            raise ApiError(422, "invalid", Text("error.visitor.token_invalid")) from None
        if identity.role != "visitor" or (visitor_id and visitor_id != identity.subject):
            raise ApiError(422, "invalid", Text("error.visitor.token_not_theirs"))
        visitor_id = identity.subject
    if not visitor_id:
        raise ApiError(422, "invalid", Text("error.visitor.id_or_token"))
    try:
        touchpoint_id, duplicate = await ConversionRecorder(parts.db).record(
            site, event, visitor_id, time.time()
        )
    except InvalidEvent as exc:
        raise ApiError(422, "invalid", Text("error.invalid_input", detail=str(exc))) from None
    out = js.JourneyEventOut(id=touchpoint_id, visitor_id=visitor_id, duplicate=duplicate)
    return json_response(out, 201)


# --------------------------------------------------------------------------- admin: sites


def _site_out(site: Site) -> js.SiteOut:
    return js.SiteOut(
        id=site.id,
        name=site.name,
        key_prefix=site.key_prefix,
        disabled=site.disabled,
        created_at=site.created_at,
        **locales_out(site),
        identity_prefix=site.identity_prefix,
    )


async def list_sites(request: Request) -> Response:
    require(request, "admin")
    return json_response([_site_out(s) for s in await SiteStore(parts_of(request).db).all()])


async def create_site(request: Request) -> Response:
    identity = require(request, "admin")
    body = await body_of(request, js.SiteCreate)
    try:
        site, key = await SiteStore(parts_of(request).db).create(
            body.name.strip() or body.name,
            default_locale=body.default_locale,
            allowed_locales=body.allowed_locales,
        )
    except ValueError as exc:
        raise ApiError(422, "invalid", Text("error.invalid_input", detail=str(exc))) from None
    await audited(request, identity, "site.create", target_kind="site", target_id=site.id, name=site.name)
    return json_response(js.SiteCreated(site=_site_out(site), key=key), 201)


async def update_site(request: Request) -> Response:
    require(request, "admin")
    body = await body_of(request, js.SiteUpdate)
    try:
        site = await SiteStore(parts_of(request).db).set_locales(
            request.path_params["site_id"], body.default_locale, body.allowed_locales
        )
    except ValueError as exc:
        raise ApiError(422, "invalid", Text("error.invalid_input", detail=str(exc))) from None
    if site is None:
        raise ApiError(404, "not_found", Text("error.no_site"))
    return json_response(_site_out(site))


async def disable_site(request: Request) -> Response:
    identity = require(request, "admin")
    site_id = request.path_params["site_id"]
    if not await SiteStore(parts_of(request).db).set_disabled(site_id):
        raise ApiError(404, "not_found", Text("error.no_site"))
    await audited(request, identity, "site.disable", target_kind="site", target_id=site_id)
    return Response(status_code=204)


# --------------------------------------------------------------------------- admin: stage rules


async def _rule_list(request: Request) -> js.StageRuleList:
    parts = parts_of(request)
    admin = await StageRuleStore(parts.db).all()
    out = [
        js.StageRuleOut(id=r.id, pattern=r.pattern, stage=r.stage, position=i, origin="admin")
        for i, r in enumerate(admin)
    ]
    out += [
        js.StageRuleOut(id=None, pattern=r.pattern, stage=r.stage, position=len(out) + i, origin="settings")
        for i, r in enumerate(parts.journey.settings_rules)
    ]
    return js.StageRuleList(rules=out)


async def list_stage_rules(request: Request) -> Response:
    require(request, "supervisor")
    return json_response(await _rule_list(request))


async def add_stage_rule(request: Request) -> Response:
    identity = require(request, "admin")
    body = await body_of(request, js.StageRuleIn)
    parts = parts_of(request)
    try:
        await StageRuleStore(parts.db).add(body.pattern, body.stage, body.position)
    except InvalidRule as exc:
        raise ApiError(422, "invalid", Text("error.invalid_input", detail=str(exc))) from None
    await parts.journey.reload_rules()
    await audited(
        request, identity, "stage_rule.add", target_kind="stage_rule", pattern=body.pattern, stage=body.stage
    )
    return json_response(await _rule_list(request), 201)


async def replace_stage_rules(request: Request) -> Response:
    identity = require(request, "admin")
    body = await body_of(request, js.StageRulesReplace)
    parts = parts_of(request)
    ordered = sorted(
        enumerate(body.rules), key=lambda p: p[1].position if p[1].position is not None else p[0]
    )
    try:
        await StageRuleStore(parts.db).replace([(r.pattern, r.stage) for _, r in ordered])
    except InvalidRule as exc:
        raise ApiError(422, "invalid", Text("error.invalid_input", detail=str(exc))) from None
    await parts.journey.reload_rules()
    await audited(
        request,
        identity,
        "stage_rule.replace",
        target_kind="stage_rule",
        rules=[f"{r.pattern}={r.stage}" for _, r in ordered][:100],
    )
    return json_response(await _rule_list(request))


async def delete_stage_rule(request: Request) -> Response:
    identity = require(request, "admin")
    parts = parts_of(request)
    try:
        rule_id = int(request.path_params["rule_id"])
    except ValueError:
        raise ApiError(404, "not_found", Text("error.no_such_rule")) from None
    if not 0 < rule_id < 2**63:
        # Beyond a 64-bit key no rule can exist; the database would refuse to compare.
        raise ApiError(404, "not_found", Text("error.no_such_rule"))
    if not await StageRuleStore(parts.db).remove(rule_id):
        raise ApiError(404, "not_found", Text("error.no_such_rule"))
    await parts.journey.reload_rules()
    await audited(request, identity, "stage_rule.remove", target_kind="stage_rule", target_id=str(rule_id))
    return Response(status_code=204)


async def match_stage(request: Request) -> Response:
    """Which stage a page gets: its declared stage, else the first matching rule."""
    require(request, "supervisor")
    parts = parts_of(request)
    url = request.query_params.get("url", "")[:2048]
    declared = request.query_params.get("stage", "")
    stage, how = resolve_stage(declared, url, parts.journey.rules)
    pattern = None
    if how == "rule":
        pattern = next(r.pattern for r in parts.journey.rules if r.matches(url))
    return json_response(js.StageMatch(stage=stage, stage_source=how, pattern=pattern))


_ = msgspec  # msgspec types are in the schemas

ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/api/journey/funnel",
        journey_funnel,
        "Stage funnel: visitors per stage, step conversion, drop-off, time to convert, contact rate",
        "journey",
        role="supervisor",
        response=js.Funnel,
        query=FILTER_QUERY,
    ),
    ApiRoute(
        "GET",
        "/api/journey/funnel.csv",
        journey_funnel_csv,
        "The stage funnel as CSV",
        "journey",
        role="supervisor",
        response=str,
        response_media="text/csv",
        query=FILTER_QUERY,
    ),
    ApiRoute(
        "GET",
        "/api/journey/grid",
        journey_grid,
        "Journey map: stage of origin x channel with volume, wait, abandonment, CSAT, "
        "conversion after contact, and the bottlenecks",
        "journey",
        role="supervisor",
        response=js.JourneyMap,
        query=FILTER_QUERY + RULE_QUERY,
    ),
    ApiRoute(
        "GET",
        "/api/journey/grid.csv",
        journey_grid_csv,
        "The journey map as CSV (cells, then stage totals, bottlenecks flagged)",
        "journey",
        role="supervisor",
        response=str,
        response_media="text/csv",
        query=FILTER_QUERY + RULE_QUERY,
    ),
    ApiRoute(
        "GET",
        "/api/journey/bottlenecks",
        journey_bottlenecks,
        "The journey map's bottlenecks, worst first, each with its reasons",
        "journey",
        role="supervisor",
        response=js.Bottlenecks,
        query=FILTER_QUERY + RULE_QUERY,
    ),
    ApiRoute(
        "GET",
        "/api/journey/origins",
        journey_origins,
        "Contacts by stage of origin x channel, and how the stage was set",
        "journey",
        role="supervisor",
        response=js.Origins,
        query=FILTER_QUERY,
    ),
    ApiRoute(
        "GET",
        "/api/journey/origins.csv",
        journey_origins_csv,
        "Contacts by stage of origin x channel as CSV",
        "journey",
        role="supervisor",
        response=str,
        response_media="text/csv",
        query=FILTER_QUERY,
    ),
    ApiRoute(
        "GET",
        "/api/journey/attribution",
        journey_attribution,
        "Conversions credited to touchpoints (first touch, last touch, linear) by channel x stage",
        "journey",
        role="supervisor",
        response=js.Attribution,
        query=ATTRIBUTION_QUERY,
    ),
    ApiRoute(
        "GET",
        "/api/journey/attribution.csv",
        journey_attribution_csv,
        "Attribution as CSV",
        "journey",
        role="supervisor",
        response=str,
        response_media="text/csv",
        query=ATTRIBUTION_QUERY,
    ),
    ApiRoute(
        "GET",
        "/api/journey/sources",
        journey_sources,
        "First-touch sources of the visitors first seen in the range",
        "journey",
        role="supervisor",
        response=js.Sources,
        query=FILTER_QUERY[:2],
    ),
    ApiRoute(
        "GET",
        "/api/visitors/{visitor_id}/journey",
        visitor_journey,
        "A visitor's journey: first touch, pages, contacts with their outcome, conversions",
        "journey",
        role="agent",
        response=js.VisitorJourney,
        query=(("limit", "integer", "the latest this many touchpoints (1-1000, default 200)"),),
    ),
    ApiRoute(
        "POST",
        "/api/journey/events",
        journey_event,
        "Report a conversion (send the site's key in the X-Site-Key header; 401 without, 403 if unknown)",
        "journey",
        request=js.JourneyEventIn,
        response=js.JourneyEventOut,
        status=201,
    ),
    ApiRoute(
        "GET",
        "/api/admin/sites",
        list_sites,
        "Sites that report conversions",
        "admin",
        role="admin",
        response=list[js.SiteOut],
    ),
    ApiRoute(
        "POST",
        "/api/admin/sites",
        create_site,
        "Add a site; its key is in the response, once",
        "admin",
        role="admin",
        request=js.SiteCreate,
        response=js.SiteCreated,
        status=201,
    ),
    ApiRoute(
        "PATCH",
        "/api/admin/sites/{site_id}",
        update_site,
        "Change a site's languages (default_locale, allowed_locales)",
        "admin",
        role="admin",
        request=js.SiteUpdate,
        response=js.SiteOut,
    ),
    ApiRoute(
        "DELETE",
        "/api/admin/sites/{site_id}",
        disable_site,
        "Disable a site (its key stops working)",
        "admin",
        role="admin",
        status=204,
    ),
    ApiRoute(
        "GET",
        "/api/admin/stage-rules",
        list_stage_rules,
        "Stage rules in evaluation order (admin rules, then settings rules)",
        "admin",
        role="supervisor",
        response=js.StageRuleList,
    ),
    ApiRoute(
        "POST",
        "/api/admin/stage-rules",
        add_stage_rule,
        "Add a stage rule (at position, default last)",
        "admin",
        role="admin",
        request=js.StageRuleIn,
        response=js.StageRuleList,
        status=201,
    ),
    ApiRoute(
        "PUT",
        "/api/admin/stage-rules",
        replace_stage_rules,
        "Replace the admin stage rules",
        "admin",
        role="admin",
        request=js.StageRulesReplace,
        response=js.StageRuleList,
    ),
    ApiRoute(
        "DELETE",
        "/api/admin/stage-rules/{rule_id}",
        delete_stage_rule,
        "Remove a stage rule",
        "admin",
        role="admin",
        status=204,
    ),
    ApiRoute(
        "GET",
        "/api/admin/stage-rules/match",
        match_stage,
        "Which stage a URL gets under the current rules",
        "admin",
        role="supervisor",
        response=js.StageMatch,
        query=(
            ("url", "string", "the page URL"),
            ("stage", "string", "the stage the page declares (data-stage), if any"),
        ),
    ),
]
