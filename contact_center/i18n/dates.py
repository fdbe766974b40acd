"""Dates and times for people, in the server's texts (CSV labels, report labels).

The Jalali calendar (fa) through jdatetime, month and weekday names included; other
locales through babel's CLDR patterns.  Machine formats (ISO 8601 in JSON) never go
through here.
"""

from __future__ import annotations

from datetime import datetime

import jdatetime
from babel.dates import format_datetime as babel_datetime

from contact_center.i18n.catalogue import locale_info
from contact_center.i18n.text import digits

# Locales whose people count days in the Solar Hijri (Jalali) calendar.
JALALI = frozenset({"fa"})


def uses_jalali(code: str) -> bool:
    return code in JALALI or "ca-persian" in locale_info(code).intl


def format_date(code: str, when: datetime) -> str:
    """A calendar day as people write it: 1403/10/12 in fa, 2025-01-01 elsewhere."""
    if uses_jalali(code):
        return digits(code, jdatetime.date.fromgregorian(date=when.date()).strftime("%Y/%m/%d"))
    return when.date().isoformat()


def format_datetime(code: str, when: datetime) -> str:
    """Day and time of day (24-hour clock, in ``when``'s own zone)."""
    if uses_jalali(code):
        local = jdatetime.datetime.fromgregorian(datetime=when)
        return digits(code, local.strftime("%Y/%m/%d %H:%M"))
    return babel_datetime(when, "yyyy-MM-dd HH:mm", locale=code)


def format_long_date(code: str, when: datetime) -> str:
    """A day with its weekday and month names (Persian: weekday, day, month name, Jalali year)."""
    if uses_jalali(code):
        local = jdatetime.date.fromgregorian(date=when.date(), locale="fa_IR")
        return digits(code, f"{local.strftime('%A')} {local.day} {local.strftime('%B')} {local.year}")
    return babel_datetime(when, "EEEE d MMMM y", locale=code)
