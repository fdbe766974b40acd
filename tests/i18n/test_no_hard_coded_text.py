"""No text a person reads is written into the code: it comes from the catalogues.

What counts, precisely (a scanner that flags code, CSS classes or protocol names would
be switched off within a week):

* JavaScript of the widget and the staff pages: a string literal with words assigned
  to ``textContent`` / ``innerText`` / ``title`` / ``placeholder``, given to
  ``setAttribute`` for ``title`` / ``aria-label`` / ``placeholder`` / ``alt``, passed
  as the ``text`` / ``title`` / ``label`` / ``placeholder`` / ``aria-label`` /
  ``emptyText`` prop of the DOM builder or as a text child of ``h(...)``, or to
  ``alert`` / ``confirm`` / ``prompt``; and dates or numbers through
  ``toLocale*String`` (they go through the translator's Intl formats).
* The staff pages' HTML: a text node with words outside an element carrying
  ``data-i18n`` (or inside ``data-i18n-template``, or marked ``translate="no"``: a
  name or an example of code), and a ``placeholder`` / ``title``
  / ``aria-label`` / ``alt`` with words but no ``data-i18n-<attribute>`` key.
* Python: an error a person reads (``FrameError``, ``ApiError``,
  ``SupervisorActionError``) whose message is a str literal or an f-string instead of
  a catalogue ``Text``.

Not covered, on purpose: the demo shop's pages (a customer's own content, shipped in
both languages under / and /fa/).
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "contact_center" / "static"
# Scripts whose words are not in the catalogue yet (none: kept to make a gap visible).
UNTRANSLATED: set[str] = set()
SCRIPTS = sorted(
    p
    for p in STATIC.rglob("*.js")
    if p.parent.name != "site" and p.relative_to(STATIC).as_posix() not in UNTRANSLATED
)
WORDS = r"[^\"`'\n]*[A-Za-z]{2,}[^\"`'\n]*"
LITERAL = rf"(?:\"{WORDS}\"|`(?:(?!\$\{{)[^`])*[A-Za-z]{{2,}}(?:(?!\$\{{)[^`])*`)"
JS_RULES = {
    "assigned text": re.compile(rf"\.(?:textContent|innerText|title|placeholder)\s*=\s*{LITERAL}"),
    "attribute": re.compile(rf"setAttribute\(\s*\"(?:title|aria-label|placeholder|alt)\"\s*,\s*{LITERAL}"),
    "builder prop": re.compile(
        rf"(?:\btext|\btitle|\blabel|\bplaceholder|\"aria-label\"|\bemptyText)\s*:\s*{LITERAL}"
    ),
    "text child": re.compile(rf"\bh\(\s*\"[a-z0-9]+\"\s*,\s*(?:null|\{{[^{{}}]*\}})\s*,\s*{LITERAL}"),
    "dialog": re.compile(rf"\b(?:alert|confirm|prompt)\(\s*{LITERAL}"),
    "locale formatting": re.compile(r"\.toLocale(?:Date|Time)?String\("),
}


def _code(text: str) -> str:
    """The script without its comments (block, line) so docs may show examples."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"(^|[^:\"'`\\])//[^\n]*", r"\1", text)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.relative_to(STATIC).as_posix())
def test_scripts_take_their_words_from_the_catalogue(path: Path) -> None:
    found = []
    for number, line in enumerate(_code(path.read_text(encoding="utf-8")).splitlines(), 1):
        for rule, pattern in JS_RULES.items():
            if pattern.search(line):
                found.append(f"{path.name}:{number} {rule}: {line.strip()[:120]}")
    assert not found, "\n".join(found)


class _PageText(HTMLParser):
    ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
    VOID = {"meta", "link", "img", "input", "br", "hr", "source", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        # translate="no" (HTML's own mark): a name or an example of code, not words.
        untranslated = names.get("translate") == "no"
        for attribute in self.ATTRIBUTES if not untranslated else ():
            value = names.get(attribute) or ""
            if re.search(r"[A-Za-z]{2}", value) and f"data-i18n-{attribute}" not in names:
                self.found.append(f"<{tag} {attribute}={value!r}>")
        keyed = (
            untranslated
            or "data-i18n" in names
            or "data-i18n-template" in names
            or tag in ("code", "script", "style")
        )
        if tag not in self.VOID:
            self.stack.append((tag, keyed))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if re.search(r"[A-Za-z]{2}", data) and not any(keyed for _, keyed in self.stack):
            self.found.append(data.strip()[:80])


@pytest.mark.parametrize("page", ["agent", "supervisor", "journey"])
def test_staff_pages_mark_every_text_with_its_key(page: str) -> None:
    parser = _PageText()
    parser.feed((STATIC / page / "index.html").read_text(encoding="utf-8"))
    assert not parser.found, parser.found


PEOPLE_ERRORS = {"FrameError": 1, "ApiError": 2, "SupervisorActionError": 2}


def test_errors_people_read_are_catalogue_texts() -> None:
    found = []
    for path in sorted((ROOT / "contact_center").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            position = PEOPLE_ERRORS.get(name)
            if position is None or len(node.args) <= position:
                continue
            message = node.args[position]
            if isinstance(message, ast.JoinedStr) or (
                isinstance(message, ast.Constant) and isinstance(message.value, str)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert not found, found


def test_the_scanner_sees_what_it_is_meant_to() -> None:
    """The rules catch the mistakes they are for (and leave code alone)."""
    caught = [
        'el.textContent = "Hello there";',
        'btn.setAttribute("aria-label", "Close chat");',
        'h("button", { class: "btn", text: "Send" });',
        'h("p", null, "Nobody is waiting.");',
        "if (!confirm(`Disable it?`)) return;",
        "const d = new Date().toLocaleTimeString();",
    ]
    for line in caught:
        assert any(p.search(line) for p in JS_RULES.values()), line
    left_alone = [
        'el.textContent = t("widget.done");',
        'h("span", { class: "muted small", "data-x": "a b" });',
        'h("th", { text: t(`supervisor.col.${c}`) });',
        'el.textContent = "";',
        'document.querySelector("button[type=submit]")',
    ]
    for line in left_alone:
        assert not any(p.search(line) for p in JS_RULES.values()), line
