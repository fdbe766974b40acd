"""CSV cells that a spreadsheet will not run.

A cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return, which some spreadsheets skip before looking) is read by Excel, LibreOffice and
Google Sheets as a formula: a visitor who names themself ``=HYPERLINK(...)`` would
otherwise get a live link into the supervisor's report.  Such text is prefixed with a
single quote, which the spreadsheets show as text (OWASP "CSV injection").  Numbers
are written as numbers (a negative figure is not text and is left alone).
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(text: str) -> str:
    """``text`` as a cell no spreadsheet evaluates."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_cell(value: Any) -> Any:
    """Strings are made inert; numbers, booleans and None pass unchanged."""
    return text_cell(value) if isinstance(value, str) else value
