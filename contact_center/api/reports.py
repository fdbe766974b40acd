"""Historical reports: ``GET /api/reports`` (JSON, or CSV with ``format=csv``).

Contacts are loaded from SQL (:mod:`contact_center.supervisor.records`) and bucketed
by :func:`dashboard.reports.report`, which computes every KPI with the same code as
the live page.  A contact counts in the interval it was enqueued in.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from msgspec import Struct
from starlette.requests import Request
from starlette.responses import Response

from contact_center.api.audit import audited
from contact_center.api.http import ApiError, ApiRoute, json_response, parts_of, request_locale, require
from contact_center.i18n import Text, tables
from contact_center.supervisor.records import load_records
from dashboard import reports
from dashboard.reports import ContactRecord, Cut, Interval, ReportRow
from dashboard.tally import Tally

INTERVALS: tuple[Interval, ...] = ("15min", "hour", "day")
CUTS: tuple[Cut, ...] = ("queue", "agent", "stage", "channel")
# The longest range per interval (rows stay in the thousands, the query bounded).
MAX_RANGE_DAYS: dict[str, int] = {"15min": 31, "hour": 92, "day": 731}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ReportOut(Struct):
    """KPIs per interval (and per key of ``by``); ``totals`` covers the whole range."""

    start: str
    end: str
    interval: str
    tz: str
    by: str | None
    columns: list[str]
    rows: list[ReportRow]
    totals: ReportRow
    contacts: int


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(422, "invalid", Text("error.unknown_time_zone", name=name)) from None


def _moment(text: str, tz: tzinfo, *, end: bool) -> datetime:
    """A date means local midnight (for ``to``: the midnight after it, so the day is
    included); a datetime without offset is local time in ``tz``."""
    try:
        if _DATE.match(text):
            day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            return datetime(day.year, day.month, day.day, tzinfo=tz)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(422, "invalid", Text("error.range.bad_time", value=text)) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _range(request: Request, tz: tzinfo, interval: str) -> tuple[datetime, datetime]:
    query = request.query_params
    today = datetime.now(tz).date().isoformat()
    start = _moment(query.get("from") or today, tz, end=False)
    end = _moment(query.get("to") or query.get("from") or today, tz, end=True)
    if end <= start:
        raise ApiError(422, "invalid", Text("error.range.to_before_from"))
    if end - start > timedelta(days=MAX_RANGE_DAYS[interval]):
        raise ApiError(
            422,
            "invalid",
            Text("error.range.too_long_for_interval", days=MAX_RANGE_DAYS[interval], interval=interval),
        )
    return start, end


def totals_row(records: list[ContactRecord], start: datetime, end: datetime, by: str | None) -> ReportRow:
    """The whole range in one row (same KPI code as the interval rows)."""
    tally = Tally()
    for record in records:
        if start.timestamp() <= record.enqueued_at < end.timestamp() and (by != "agent" or record.agent):
            reports.add_record(tally, record)
    return reports.row(start, end, by or "all", "total", tally)


async def get_report(request: Request) -> Response:
    identity = require(request, "supervisor")
    query = request.query_params
    interval = query.get("interval") or "hour"
    if interval not in INTERVALS:
        raise ApiError(422, "invalid", Text("error.report.interval", choices=", ".join(INTERVALS)))
    by = query.get("by") or None
    if by is not None and by not in CUTS:
        raise ApiError(422, "invalid", Text("error.report.by", choices=", ".join(CUTS)))
    output = query.get("format") or "json"
    if output not in ("json", "csv"):
        raise ApiError(422, "invalid", Text("error.report.format"))
    tz_name = query.get("tz") or "UTC"
    tz = _zone(tz_name)
    start, end = _range(request, tz, interval)
    records = await load_records(parts_of(request).db, start.timestamp(), end.timestamp())
    rows = reports.report(
        records,
        start=start,
        end=end,
        interval=interval,
        tz=tz,
        by=by,
    )
    if output == "csv":
        name = f"report-{by or 'all'}-{interval}-{start.date().isoformat()}-{end.date().isoformat()}.csv"
        # ?locale= (the supervisor page sends its own): titles and times for people.
        locale = query.get("locale")
        body = (
            reports.to_csv(rows)
            if not locale
            else tables.to_csv(request_locale(request), reports.COLUMNS, rows)
        )
        await audited(
            request,
            identity,
            "export.report",
            target_kind="csv",
            target_id=name,
            rows=len(rows),
            query=str(request.query_params)[:500],
        )
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return json_response(
        ReportOut(
            start=start.isoformat(),
            end=end.isoformat(),
            interval=interval,
            tz=tz_name,
            by=by,
            columns=list(reports.COLUMNS),
            rows=rows,
            totals=totals_row(records, start, end, by),
            contacts=len(records),
        )
    )


ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/api/reports",
        get_report,
        "KPIs for a time range in 15-minute, hourly or daily intervals (JSON or CSV)",
        "reports",
        role="supervisor",
        response=ReportOut,
        alternative_media=("text/csv",),
        query=(
            (
                "from",
                "string",
                "first day (YYYY-MM-DD, local midnight in tz) or ISO 8601 time; default today",
            ),
            (
                "to",
                "string",
                "last day, included (YYYY-MM-DD) or ISO 8601 end time, excluded; default 'from'",
            ),
            ("interval", "string", "15min, hour (default) or day; local wall-clock intervals in tz"),
            ("by", "string", "queue, agent, stage or channel: one row per interval and key"),
            ("tz", "string", "IANA time zone, e.g. Europe/Paris (default UTC)"),
            ("format", "string", "json (default) or csv (text/csv, the columns of 'columns')"),
            ("locale", "string", "csv for people: column titles and times in this locale (fa: Jalali dates)"),
        ),
    ),
]
