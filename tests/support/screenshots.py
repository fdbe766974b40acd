"""Where the browser tests leave their screenshots, and the command that refreshes the
README's pictures.

A test run never rewrites tracked files: by default the pictures go to
``test-artifacts/screenshots/`` (ignored by git).  The README's pictures in
``docs/screenshots/`` are refreshed on purpose, by running the tests that take them
with ``CC_SCREENSHOT_DIR`` pointing there::

    python -m tests.support.screenshots          # refresh docs/screenshots/*.png
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"

# The tests that take the README's pictures.
TAKERS = (
    "tests/browser/test_chat_browser.py",
    "tests/browser/test_call_browser.py",
    "tests/supervisor/test_supervisor_browser.py",
    "tests/journey/test_browser.py",
    "tests/browser/test_saved_replies_browser.py",
)


def screenshot_path(name: str) -> Path:
    """The file a test writes its picture ``name`` to (the folder is created)."""
    folder = Path(os.environ.get("CC_SCREENSHOT_DIR") or ROOT / "test-artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def main() -> int:
    env = {**os.environ, "CC_SCREENSHOT_DIR": str(DOCS_SCREENSHOTS)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", *TAKERS], cwd=ROOT, env=env, check=False)
    if done.returncode == 0:
        print(f"refreshed {DOCS_SCREENSHOTS}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
