"""Languages of the UI: Slovene, Estonian and English, from ?lang=, the session, or Accept-Language."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_babel import Babel, format_date, format_datetime

LANGUAGES = ("sl", "et", "en")
LANGUAGE_NAMES = {"sl": "Slovenščina", "et": "Eesti", "en": "English"}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    chosen = request.args.get("lang", "")
    if chosen in LANGUAGES:
        session["lang"] = chosen  # remembered for the rest of the session
        return chosen
    remembered = session.get("lang")
    if remembered in LANGUAGES:
        return str(remembered)
    return request.accept_languages.best_match(LANGUAGES) or default_language()


def default_language() -> str:
    from flask import current_app
    return str(current_app.config.get("STRONGROOM_LANGUAGE", "en"))


def language() -> str:
    from flask_babel import get_locale
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "en"


def day(value: date | datetime | None) -> str:
    """A date in the locale's medium format ('23. nov. 2026', '23. nov 2026', 'Nov 23, 2026')."""
    if value is None:
        return "—"
    text: str = format_datetime(value, "medium") if isinstance(value, datetime) else format_date(value, "medium")
    return text


def typed_day(value: date | None) -> str:
    """A date the way a person types it into a form (31.12.2031), which parse_day reads back in every
    language; the medium format ('6. dec. 2026') is for reading only."""
    return "" if value is None else f"{value.day}.{value.month}.{value.year}"


def language_url(code: str) -> str:
    """The current page in another language (its query kept, e.g. the search words)."""
    from flask import url_for
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "lang"}
    if request.endpoint is None or request.method != "GET":
        return f"?lang={code}"
    return url_for(request.endpoint, **(request.view_args or {}), **args, lang=code)


def label(value: object) -> str:
    """The UI word for a confidentiality level, record state or role (stored values stay English)."""
    from flask_babel import gettext as _
    words: dict[str, str] = {"public": _("public"), "internal": _("internal"), "confidential": _("confidential"),
             "secret": _("secret"), "active": _("active"), "disposed": _("disposed"),
             "closed": _("closed"), "due": _("due"), "admin": _("administrator"), "secretary": _("secretary"),
             "manager": _("manager"), "auditor": _("auditor"), "viewer": _("viewer")}
    return words.get(str(value), str(value))


def install(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Europe/Ljubljana"
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["typed_day"] = typed_day
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, LANGUAGE_NAMES=LANGUAGE_NAMES, ui_language=language, language_url=language_url)
