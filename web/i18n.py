"""Languages of the UI: Slovene, Estonian and English, from ?lang=, the session, or Accept-Language."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_babel import Babel, format_date, format_datetime, format_decimal, to_user_timezone

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


# The forms secretaries write by hand: 31. 12. 2031 in Slovene, 31.12.2031 in Estonian (both read back by
# records.dates.parse_day); English keeps Babel's medium form.
DAY_PATTERNS = {"sl": "d. M. yyyy", "et": "dd.MM.yyyy"}
FIELD_PATTERNS = {"sl": "d. M. yyyy", "et": "dd.MM.yyyy", "en": "yyyy-MM-dd"}


def day(value: date | datetime | None) -> str:
    """A date in the user's form: '2. 3. 2026' (sl), '02.03.2026' (et), 'Mar 2, 2026' (en); a datetime is
    shown as its local day."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = to_user_timezone(value).date() if value.tzinfo else value.date()
    return str(format_date(value, DAY_PATTERNS.get(language(), "medium")))


def moment(value: datetime | None) -> str:
    """A point in time, local: '2. 3. 2026 14:05' (sl), '02.03.2026 14:05' (et), 'Mar 2, 2026, 2:05 PM' (en)."""
    if value is None:
        return "—"
    lang = language()
    if lang in DAY_PATTERNS:
        return str(format_datetime(value, DAY_PATTERNS[lang] + " HH:mm"))
    return str(format_datetime(value, "medium"))


def day_field(value: date | None) -> str:
    """A date as a form field shows it, in a form records.dates.parse_day reads back."""
    if value is None:
        return ""
    return str(format_date(value, FIELD_PATTERNS.get(language(), "yyyy-MM-dd")))


def number(value: int | float | Decimal | None) -> str:
    """A count with the locale's thousands separator (12.345 in sl, 12 345 in et, 12,345 in en)."""
    if value is None:
        return "—"
    return str(format_decimal(value, format="#,##0"))


def amount(value: Decimal | None) -> str:
    """An amount in the user's locale (1.234,50 in sl, 1 234,50 in et, 1,234.50 in en); "—" when empty."""
    if value is None:
        return "—"
    return str(format_decimal(value, format="#,##0.00"))


def amount_text(text: str) -> str:
    """A stored amount ("1234.56") in the user's locale; text that is no number as it is."""
    try:
        return amount(Decimal(text))
    except ArithmeticError:
        return text


def size(value: int) -> str:
    """A file size people read: '834 B', '12,3 kB', '4,5 MB' (decimal comma in sl and et)."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if value >= factor:
            return f"{format_decimal(value / factor, format='#,##0.0')} {unit}"
    return f"{format_decimal(value, format='#,##0')} B"


def day_iso(text: str | None) -> str:
    """A date written as ISO text (a certificate's, a stored field's) in the user's form."""
    try:
        return day(date.fromisoformat(str(text)))
    except ValueError:
        return str(text or "—")


def moment_iso(text: str | None) -> str:
    """A point in time written as ISO text (2026-12-06T22:41:34Z) in the user's form."""
    try:
        return moment(datetime.fromisoformat(str(text).replace("Z", "+00:00")))
    except ValueError:
        return str(text or "—")


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
    app.jinja_env.filters.update(day=day, moment=moment, day_field=day_field, number=number, amount=amount,
                                 size=size, amount_text=amount_text, label=label, day_iso=day_iso,
                                 moment_iso=moment_iso)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, LANGUAGE_NAMES=LANGUAGE_NAMES, ui_language=language, language_url=language_url)
