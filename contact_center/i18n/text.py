"""Server texts in the reader's language.

:func:`translate` looks a key up in the ``server`` catalogue of a locale, picks the
plural form for ``count`` by the locale's CLDR rules (babel) and fills ``{name}``
placeholders, numbers written with the locale's digits.  :class:`Text` is a message not
translated yet (a key and its parameters): errors carry one, and the code that knows
the reader (a socket's or a request's locale) renders it.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from typing import Any

from babel import Locale
from babel.numbers import format_decimal

from contact_center.i18n.catalogue import DEFAULT_LOCALE, available_locales, catalogue, locale_info

_FORMATTER = string.Formatter()


@functools.cache
def _digit_table(code: str) -> dict[int, str]:
    """ASCII digits -> the locale's (the Persian digits for fa), from its Intl numbering."""
    intl = locale_info(code).intl if code in available_locales() else code
    if "-u-nu-latn" in intl:
        return {}
    system = Locale.parse(code).default_numbering_system if code in available_locales() else "latn"
    zero = {"arabext": 0x06F0, "arab": 0x0660}.get(system)
    return {} if zero is None else {ord("0") + i: chr(zero + i) for i in range(10)}


def digits(code: str, text: str) -> str:
    """``text`` with its ASCII digits written in the locale's own."""
    table = _digit_table(code)
    return text.translate(table) if table else text


def format_number(code: str, value: float, decimals: int | None = None) -> str:
    """A number with the locale's separators and digits (Persian digits and separators in fa)."""
    fmt = None if decimals is None else "#,##0" + ("." + "0" * decimals if decimals else "")
    return digits(code, format_decimal(value, format=fmt, locale=code, numbering_system="default"))


def _plural(code: str, count: float) -> str:
    return str(Locale.parse(code).plural_form(abs(count)))


def _message(code: str, key: str) -> str | dict[str, str] | None:
    for locale in (code, DEFAULT_LOCALE):
        value = catalogue(locale, "server").get(key)
        if value is not None:
            return value
    return None


def translate(code: str, key: str, /, **params: Any) -> str:
    """The server message ``key`` in locale ``code`` (the key itself if unknown)."""
    if code not in available_locales():
        code = DEFAULT_LOCALE
    value = _message(code, key)
    if value is None:
        return key
    if isinstance(value, dict):
        count = params.get("count", 0)
        value = value.get(_plural(code, count)) or value.get("other") or next(iter(value.values()))
    shown = {
        name: format_number(code, v) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for name, v in params.items()
    }
    return _FORMATTER.vformat(value, (), _Defaulting(shown))


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Text:
    """A server message to be rendered in the reader's locale: ``Text("error.x", n=3)``.
    ``str()`` gives the default locale's wording (logs, and callers that know no reader)."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params: Mapping[str, Any] = params

    def render(self, code: str) -> str:
        return translate(code, self.key, **self.params)

    def __str__(self) -> str:
        return self.render(DEFAULT_LOCALE)

    def __repr__(self) -> str:
        return f"Text({self.key!r}, **{dict(self.params)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and (self.key, dict(self.params)) == (other.key, dict(other.params))

    def __hash__(self) -> int:
        return hash(self.key)


def render(message: str | Text, code: str) -> str:
    """A message for a reader in ``code``: a :class:`Text` translated, a str as is."""
    return message.render(code) if isinstance(message, Text) else message
