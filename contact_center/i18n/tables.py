"""CSV for people: column titles and dates in the reader's language.

An export asked for with ``?locale=fa`` (the pages do) gets its header row from the
server catalogue (``csv.<column>``) and its interval times written for people (the
Jalali calendar in fa, through :mod:`contact_center.i18n.dates`).  Without ``locale``
the CSV keeps its machine column names and ISO times, for programs.  Numbers keep
ASCII digits either way: spreadsheets read them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from contact_center.i18n.catalogue import catalogue
from contact_center.i18n.dates import format_datetime
from contact_center.i18n.text import translate
from dashboard.csv_cells import text_cell

# Columns holding ISO 8601 times (reports' intervals).
TIME_COLUMNS = frozenset({"interval_start", "interval_end"})


def column_title(locale: str, column: str) -> str:
    key = f"csv.{column}"
    return translate(locale, key) if key in catalogue("en", "server") else column


def header(locale: str | None, columns: Sequence[str]) -> list[str]:
    return list(columns) if locale is None else [column_title(locale, c) for c in columns]


def cell(locale: str | None, column: str, value: Any) -> str:
    if value is None:
        return ""
    if locale is not None and column in TIME_COLUMNS and isinstance(value, str):
        try:
            return format_datetime(locale, datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, str):
        # Names people typed (queues, agents, visitors) must never run as formulas.
        return text_cell(value)
    return str(value)


def to_csv(locale: str | None, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """RFC 4180 (CRLF): the header row, then each row's cells in ``columns`` order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header(locale, columns))
    for row in rows:
        writer.writerow([cell(locale, column, row.get(column)) for column in columns])
    return out.getvalue()
