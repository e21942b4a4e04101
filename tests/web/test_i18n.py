"""The catalogs: every UI string extracted from web/ is translated in sl and et, and the committed
.mo files match their .po sources (no build step)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask

from web.i18n import day

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "web" / "translations"


def ui_strings() -> set[str]:
    method_map = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map,
                                                                       keywords={"_": None, "gettext": None}):
        if isinstance(message, str) and message:
            found.add(message)
    return found


@pytest.mark.parametrize("lang", ["sl", "et"])
def test_every_ui_string_is_translated(lang: str) -> None:
    with (CATALOGS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id: m.string for m in catalog if m.id}
    untranslated = sorted(s for s in ui_strings() if not translated.get(s))
    assert untranslated == []
    for msgid, text in translated.items():  # placeholders survive translation
        for token in ("%(n)d", "%(n)s", "%(label)s", "%(who)s", "%(seq)s", "%(p)s"):
            assert (token in msgid) == (token in str(text)), (lang, msgid)


@pytest.mark.parametrize("lang", ["sl", "et", "en"])
def test_compiled_catalog_matches_source(lang: str) -> None:
    folder = CATALOGS / lang / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as po, (folder / "messages.mo").open("rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    assert _messages(source) == _messages(compiled)


def _messages(catalog: object) -> dict[object, object]:
    """msgid -> msgstr; a plural message's ids and forms as tuples (read_po and read_mo differ in list/tuple)."""
    def plain(value: object) -> object:
        return tuple(value) if isinstance(value, (list, tuple)) else value
    return {plain(m.id): plain(m.string) for m in catalog if m.id}  # type: ignore[attr-defined]


@pytest.mark.parametrize(("lang", "expected"), [("sl", "2. 3. 2026"), ("et", "02.03.2026"),
                                                ("en", "Mar 2, 2026")])
def test_dates_in_the_locale_format(app: Flask, lang: str, expected: str) -> None:
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        assert day(date(2026, 3, 2)) == expected
