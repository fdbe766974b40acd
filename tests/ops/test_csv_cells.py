"""CSV exports never hand a spreadsheet a formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

from dashboard.csv_cells import safe_cell, text_cell
from dashboard.reports import COLUMNS, to_csv

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\r=1"]


def test_text_that_starts_a_formula_is_quoted() -> None:
    for text in HOSTILE:
        assert text_cell(text) == "'" + text
    assert text_cell("Sales") == "Sales" and text_cell("a=b") == "a=b" and text_cell("") == ""
    assert safe_cell(-3) == -3 and safe_cell(-0.5) == -0.5 and safe_cell(None) is None


def test_report_csv_quotes_hostile_keys_and_keeps_negative_numbers() -> None:
    rows = [{column: None for column in COLUMNS} for _ in HOSTILE]
    for row, key in zip(rows, HOSTILE, strict=True):
        row.update(key=key, interval_start="2026-01-01T00:00:00+00:00", queued=3, asa_s=-1.5)
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))  # type: ignore[arg-type]
    assert [r["key"] for r in parsed] == ["'" + k for k in HOSTILE]
    assert {r["asa_s"] for r in parsed} == {"-1.5"} and {r["queued"] for r in parsed} == {"3"}
