"""The catalogues on disk, the bundles the pages load, and choosing a locale.

``locales/<code>/meta.json`` says how the locale formats (its Intl locale, e.g.
``fa-IR-u-ca-persian`` for the Jalali calendar with Persian digits); every other file
there is a catalogue part: ``widget.json`` (what a visitor reads), ``calls.json`` (the
call engine, shared by the widget and the console), ``staff.json`` (the staff pages)
and ``server.json`` (what the server writes for people).  A locale is available when
its folder has a ``meta.json``: adding a locale is adding a folder.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DEFAULT_LOCALE = "en"

# What each page loads: the parts of the catalogue it needs, no more (the widget's
# bundle stays small on a visitor's phone).
BUNDLES: Mapping[str, tuple[str, ...]] = {
    "widget": ("widget", "calls"),
    "staff": ("staff", "calls"),
    "server": ("server",),
}
PARTS: tuple[str, ...] = ("widget", "calls", "staff", "server")

Message = str | dict[str, str]


@dataclass(frozen=True)
class LocaleInfo:
    code: str
    # The locale's own name for itself ("فارسی"), for language pickers.
    name: str
    dir: str
    # The locale the pages hand to Intl (calendar and digits included).
    intl: str


@functools.cache
def available_locales() -> tuple[str, ...]:
    """The shipped locales, default first."""
    found = sorted(p.parent.name for p in LOCALES_DIR.glob("*/meta.json"))
    return tuple(sorted(found, key=lambda code: code != DEFAULT_LOCALE))


@functools.cache
def locale_info(code: str) -> LocaleInfo:
    meta = json.loads((LOCALES_DIR / code / "meta.json").read_text(encoding="utf-8"))
    babel_locale = Locale.parse(code)
    return LocaleInfo(
        code=code,
        name=str(meta.get("name") or babel_locale.get_display_name(code) or code),
        dir=babel_locale.text_direction,
        intl=str(meta.get("intl") or code),
    )


@functools.cache
def catalogue(code: str, part: str) -> Mapping[str, Message]:
    """One part of a locale's catalogue (empty when the file is missing)."""
    path = LOCALES_DIR / code / f"{part}.json"
    if not path.exists():
        return {}
    data: dict[str, Message] = json.loads(path.read_text(encoding="utf-8"))
    return data


@functools.cache
def _bundle(code: str, name: str) -> str:
    messages: dict[str, Message] = {}
    for part in BUNDLES[name]:
        # Keys missing in this locale fall back to the default's (the completeness test
        # keeps that from happening in the shipped ones).
        messages.update(catalogue(DEFAULT_LOCALE, part))
        messages.update(catalogue(code, part))
    info = locale_info(code)
    body = {
        "locale": code,
        "dir": info.dir,
        "intl": info.intl,
        "name": info.name,
        "available": [
            {"code": c, "name": locale_info(c).name, "dir": locale_info(c).dir} for c in available_locales()
        ],
        "messages": messages,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def bundle(code: str, name: str) -> str:
    """The JSON a page loads: the locale, its direction and Intl locale, the locales
    to choose from, and the messages of bundle ``name``."""
    if name not in BUNDLES:
        raise KeyError(name)
    return _bundle(code, name)


def _language(tag: str) -> str:
    return tag.strip().replace("_", "-").split("-")[0].lower()


def negotiate(
    wanted: Iterable[str | None],
    allowed: Sequence[str] | None = None,
    default: str | None = None,
) -> str:
    """The first of ``wanted`` (BCP 47 tags, best first, e.g. ``fa-IR``) whose language
    is shipped and ``allowed``; else ``default`` when it is allowed, else the first
    allowed, else the product's default.  Unknown or malformed tags are skipped."""
    shipped = available_locales()
    usable = [c for c in (allowed or shipped) if c in shipped] or list(shipped)
    for tag in wanted:
        if not tag or len(tag) > 35:
            continue
        code = _language(tag)
        if code in usable:
            return code
    if default in usable:
        return default  # type: ignore[return-value]
    return usable[0] if usable else DEFAULT_LOCALE


def parse_accept_language(header: str) -> list[str]:
    """``Accept-Language`` as tags, best first (q=0 dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(header.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


def valid_locale(code: str) -> bool:
    return code in available_locales()


def check_locale(code: Any) -> str:
    """``code`` when it is a shipped locale, else ValueError (for settings and input)."""
    if not isinstance(code, str) or code not in available_locales():
        raise ValueError(f"unknown locale {code!r}: choose from {', '.join(available_locales())}")
    try:
        Locale.parse(code)
    except (UnknownLocaleError, ValueError):  # pragma: no cover - a folder babel does not know
        raise ValueError(f"unknown locale {code!r}") from None
    return code
