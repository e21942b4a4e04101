"""Typed dates and amounts: ISO (2031-12-31) and the Slovene/Estonian form (31.12.2031, 31. 12. 2031)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from records.errors import RecordsError

_LOCAL = re.compile(r"^(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{4})\.?$")


def parse_day(text: str, name: str = "The date") -> date:
    """A day typed as 2031-12-31, 31.12.2031 or 31. 12. 2031; one sentence when it is none of them."""
    value = text.strip()
    local = _LOCAL.match(value)
    try:
        if local:
            return date(int(local.group(3)), int(local.group(2)), int(local.group(1)))
        return date.fromisoformat(value)
    except ValueError:
        raise RecordsError(f"{name} must be a date such as 31.12.2031 or 2031-12-31, not {value!r}.") from None


def parse_amount(text: str, name: str = "The amount") -> Decimal:
    """An amount typed with a decimal comma or point (1.234,56 / 1234,56 / 1234.56), never negative."""
    value = text.strip().replace(" ", "").replace("\u00a0", "")
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise RecordsError(f"{name} must be a number such as 1234,56, not {text.strip()!r}.") from None
    if not amount.is_finite() or amount < 0:
        raise RecordsError(f"{name} must be a number of zero or more, not {text.strip()!r}.")
    return amount


def parse_flag(text: str, name: str = "The field") -> bool:
    """Yes or no, as typed in a form or on the command line (yes/no, true/false, 1/0, da/ne, jah/ei, on/off)."""
    value = text.strip().lower()
    if value in ("yes", "true", "1", "on", "da", "jah", "y"):
        return True
    if value in ("no", "false", "0", "off", "ne", "ei", "n", ""):
        return False
    raise RecordsError(f"{name} takes yes or no, not {text.strip()!r}.")
