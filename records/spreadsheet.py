"""Spreadsheet-safe CSV: what Excel and LibreOffice open correctly in sl/et locales."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal

BOM = "\ufeff"
DELIMITER = ";"  # the list separator of Slovene and Estonian locales, where "," is the decimal mark
LINE_END = "\r\n"

# A cell starting with one of these is read as a formula (or DDE call) by spreadsheet
# programs; OWASP's advice is to make it text with a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object, *, decimal_comma: bool = False) -> str:
    """One value as spreadsheet text: ISO dates, UTC times, formula-neutralised strings; amounts with a
    decimal comma when the sheet is for a Slovene or Estonian Excel (which reads "1234.50" as text)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, datetime):
        # "YYYY-MM-DD HH:MM:SS" is what Excel and LibreOffice recognise as a date-time.
        text = value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, (list, tuple)):
        text = ", ".join(str(v) for v in value)
    else:
        text = str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]], *,
              decimal_comma: bool = False) -> Iterator[bytes]:
    """Encoded CSV, a chunk per row: UTF-8 with BOM, `;`, CRLF, every cell through `cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator=LINE_END,
                        quoting=csv.QUOTE_MINIMAL)
    writer.writerow([cell(h) for h in header])
    yield (BOM + buffer.getvalue()).encode("utf-8")
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([cell(v, decimal_comma=decimal_comma) for v in row])
        yield buffer.getvalue().encode("utf-8")
