"""The catalogues: every key in every locale, the plural forms each locale's CLDR rules
need, the same placeholders in every translation, and every key the code asks for
defined.  Then the server's side: negotiation, plural rules, Persian digits, Jalali
dates, and the REST and socket texts in the reader's language."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel import Locale

from contact_center.i18n import LOCALES_DIR, available_locales, bundle, negotiate, translate
from contact_center.i18n.catalogue import PARTS, parse_accept_language
from contact_center.i18n.dates import format_date, format_datetime, format_long_date
from contact_center.i18n.text import Text, format_number

STATIC = Path(__file__).resolve().parents[2] / "contact_center" / "static"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def load(code: str, part: str) -> dict[str, object]:
    return json.loads((LOCALES_DIR / code / f"{part}.json").read_text(encoding="utf-8"))


def test_fa_and_en_are_shipped_and_fa_is_right_to_left() -> None:
    assert set(available_locales()) >= {"en", "fa"}
    assert json.loads(bundle("fa", "widget"))["dir"] == "rtl"
    assert json.loads(bundle("en", "staff"))["dir"] == "ltr"
    assert "ca-persian" in json.loads(bundle("fa", "staff"))["intl"]


@pytest.mark.parametrize("part", PARTS)
def test_every_key_in_en_exists_in_fa_and_the_other_way(part: str) -> None:
    keys = {code: set(load(code, part)) for code in available_locales()}
    for code, found in keys.items():
        assert found == keys["en"], (
            f"{part}.json: missing in {code}: {sorted(keys['en'] - found)}; "
            f"only in {code}: {sorted(found - keys['en'])}"
        )


def _placeholders(value: object) -> set[str]:
    texts = value.values() if isinstance(value, dict) else [value]
    return {name for text in texts for name in PLACEHOLDER.findall(str(text))}


@pytest.mark.parametrize("part", PARTS)
def test_translations_keep_placeholders_and_plural_forms(part: str) -> None:
    english = load("en", part)
    for code in available_locales():
        tags = {*Locale.parse(code).plural_form.tags, "other"}
        for key, value in load(code, part).items():
            assert value, f"{code} {key} is empty"
            assert _placeholders(value) == _placeholders(english[key]), f"{code} {key}"
            if isinstance(value, dict):
                assert set(value) >= tags, f"{code} {key} lacks plural forms {tags - set(value)}"
                assert set(value) <= {"zero", "one", "two", "few", "many", "other"}


def _used_keys() -> dict[str, set[str]]:
    """Keys the pages ask for literally: t("key"), data-i18n="key" and friends."""
    found: dict[str, set[str]] = {"widget": set(), "staff": set()}
    literal = re.compile(r"""\bt\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']""")
    attribute = re.compile(r'data-i18n(?:-[a-z-]+)?="([^"]+)"')
    for path in STATIC.rglob("*.js"):
        bundle_name = "widget" if path.parent.name == "widget" else "staff"
        keys = set(literal.findall(path.read_text(encoding="utf-8")))
        if path.name == "call-engine.js":
            found["widget"] |= keys
        found[bundle_name] |= keys
    for path in STATIC.glob("*/index.html"):
        found["staff"] |= set(attribute.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_key_the_pages_use_is_in_their_bundle() -> None:
    for name, keys in _used_keys().items():
        messages = json.loads(bundle("en", name))["messages"]
        assert keys, name
        assert not sorted(keys - set(messages)), f"{name}: {sorted(keys - set(messages))}"


def test_every_dashboard_figure_has_its_definition_in_every_locale() -> None:
    """The hover text of each KPI (supervisor page) comes from ``kpi.formula.<name>``;
    the English one says exactly what :mod:`dashboard.formulas` computes."""
    from dashboard.formulas import LEGEND

    for code in available_locales():
        staff = load(code, "staff")
        missing = sorted(name for name in LEGEND if f"kpi.formula.{name}" not in staff)
        assert not missing, (code, missing)
    english = load("en", "staff")
    assert all(english[f"kpi.formula.{name}"] == entry["formula"] for name, entry in LEGEND.items())


def test_every_key_the_server_uses_is_in_the_server_catalogue() -> None:
    source = Path(__file__).resolve().parents[2] / "contact_center"
    keys = set()
    for path in source.rglob("*.py"):
        keys |= set(re.findall(r'Text\(\s*"([a-z0-9_.]+)"', path.read_text(encoding="utf-8")))
    keys.discard("error.x")  # the docstring's example
    assert keys
    assert not sorted(keys - set(load("en", "server")))


def test_negotiation_follows_the_wishes_within_the_allowed() -> None:
    assert negotiate(["fa-IR", "en-US"]) == "fa"
    assert negotiate(["de-DE", "en-GB"]) == "en"
    assert negotiate(["de"]) == "en"
    assert negotiate(["fa"], allowed=["en"]) == "en"
    assert negotiate(["de"], allowed=["en", "fa"], default="fa") == "fa"
    assert negotiate([None, "", "x" * 50, "fa_IR"]) == "fa"
    assert parse_accept_language("en;q=0.5, fa-IR, de;q=0") == ["fa-IR", "en"]


def test_server_texts_plural_digits_and_fallback() -> None:
    assert translate("fa", "error.watch.too_many", count=20) == "هم‌اکنون ۲۰ گفتگو را می‌بینید"
    assert translate("en", "error.watch.too_many", count=20) == "watching 20 conversations already"
    assert translate("xx", "error.no_such_call") == "no such call"  # unknown locale: English
    assert translate("en", "no.such.key") == "no.such.key"
    assert format_number("fa", 1234567) == "۱٬۲۳۴٬۵۶۷"
    assert format_number("en", 1234567) == "1,234,567"
    message = Text("error.no_queue", queue="sales")
    assert str(message) == "no queue 'sales'" and message.render("fa") == "صفی به نام «sales» نیست"


def test_dates_for_people_are_jalali_in_persian() -> None:
    nowruz = datetime(2025, 3, 21, 9, 30, tzinfo=UTC)  # 1 Farvardin 1404
    assert format_date("fa", nowruz) == "۱۴۰۴/۰۱/۰۱"
    assert format_datetime("fa", nowruz) == "۱۴۰۴/۰۱/۰۱ ۰۹:۳۰"
    assert "فروردین" in format_long_date("fa", nowruz) and "جمعه" in format_long_date("fa", nowruz)
    assert format_date("en", nowruz) == "2025-03-21"
    assert format_long_date("en", nowruz) == "Friday 21 March 2025"
