"""Write one benchmark's results into its own section of docs/benchmarks.md.

Each bench script owns a section between ``<!-- bench:NAME -->`` and
``<!-- /bench:NAME -->`` markers, so scripts can be re-run in any order without
clobbering each other's results.
"""

from __future__ import annotations

import platform
import re
import time
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

HEADER = """# Benchmarks

Every figure here was measured by a script in `bench/` on the machine named in its
section.  These machines are shared and noisy, so each benchmark measures a baseline in
the same run and reports ratios against it; absolute numbers are for orientation only.
Re-run a script to refresh its own section.
"""


def machine_line() -> str:
    import os

    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}, measured {time.strftime('%Y-%m-%d')}"
    )


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the section called ``name`` with ``markdown``."""
    BENCHMARKS_MD.parent.mkdir(parents=True, exist_ok=True)
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else HEADER
    block = f"<!-- bench:{name} -->\n{markdown.strip()}\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    text = (
        pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    )
    BENCHMARKS_MD.write_text(text)
