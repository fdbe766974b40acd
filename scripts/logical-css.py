#!/usr/bin/env python3
"""Rewrite physical CSS properties as logical ones, so a page mirrors under dir="rtl".

    scripts/logical-css.py FILE.css ...     # rewrites in place, lists what it left

margin/padding/border-left|right -> -inline-start|end, left/right -> inset-inline-*,
text-align and float left|right -> start|end, the corner radii -> start/end corners.
Four-value margin/padding shorthands whose left and right differ are listed, not
rewritten (they need a person's eye); so are translateX() and gradients "to right".
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SIMPLE = [
    (r"\bmargin-left(?=\s*:)", "margin-inline-start"),
    (r"\bmargin-right(?=\s*:)", "margin-inline-end"),
    (r"\bpadding-left(?=\s*:)", "padding-inline-start"),
    (r"\bpadding-right(?=\s*:)", "padding-inline-end"),
    (r"\bborder-left(?=[-\w]*\s*:)", "border-inline-start"),
    (r"\bborder-right(?=[-\w]*\s*:)", "border-inline-end"),
    (r"\bborder-top-left-radius(?=\s*:)", "border-start-start-radius"),
    (r"\bborder-top-right-radius(?=\s*:)", "border-start-end-radius"),
    (r"\bborder-bottom-left-radius(?=\s*:)", "border-end-start-radius"),
    (r"\bborder-bottom-right-radius(?=\s*:)", "border-end-end-radius"),
    (r"(?<![-\w])left(?=\s*:)", "inset-inline-start"),
    (r"(?<![-\w])right(?=\s*:)", "inset-inline-end"),
    (r"\btext-align\s*:\s*left\b", "text-align: start"),
    (r"\btext-align\s*:\s*right\b", "text-align: end"),
    (r"\bfloat\s*:\s*left\b", "float: inline-start"),
    (r"\bfloat\s*:\s*right\b", "float: inline-end"),
]
SHORTHAND = re.compile(r"\b(margin|padding)\s*:\s*([^;{}]+);")
SUSPECT = re.compile(r"translateX\(|to right|to left|\bleft\b|\bright\b")


def convert(text: str) -> tuple[str, list[str]]:
    notes: list[str] = []
    for pattern, replacement in SIMPLE:
        text = re.sub(pattern, replacement, text)
    for match in SHORTHAND.finditer(text):
        values = match.group(2).split()
        if len(values) == 4 and values[1] != values[3]:
            notes.append(f"four-value {match.group(1)}: {match.group(0)}")
    for number, line in enumerate(text.splitlines(), 1):
        if SUSPECT.search(line) and not line.strip().startswith(("/*", "*")):
            notes.append(f"line {number}: {line.strip()}")
    return text, notes


def main(paths: list[str]) -> int:
    for name in paths:
        path = Path(name)
        text, notes = convert(path.read_text())
        path.write_text(text)
        for note in notes:
            print(f"{name}: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
