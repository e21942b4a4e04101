"""Spreadsheets (.xlsx, .xls, .ods): sheet names and cell values read with python-calamine, bounded."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

import python_calamine
from python_calamine import CalamineError, CalamineWorkbook

from records.errors import ExtractionFailed
from records.ports import Extraction

from .archive import check_honest_sizes, open_zip
from .kinds import LABELS, MEDIA_TYPES, Kind

MAX_SHEETS = 500
MAX_CELLS = 2_000_000  # non-empty cells read in all; a sheet past it is cut with a note

Cell = int | float | str | bool | date | datetime | time | timedelta


def _cell(value: Cell) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).strip()


def _open(data: bytes, kind: Kind) -> CalamineWorkbook:
    label = LABELS[kind]
    if kind in (Kind.XLSX, Kind.ODS):
        # The bomb checks first: calamine inflates the parts itself, so their declared sizes must be true.
        with open_zip(data, label) as archive:
            check_honest_sizes(archive, data, label)
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise ExtractionFailed(f"the {label} is password-protected; file it without a password.") from None


def read_spreadsheet(data: bytes, kind: Kind, max_chars: int) -> Extraction:
    """Each sheet as its name, then one line per non-empty row with its cells separated by tabs."""
    label = LABELS[kind]
    lines: list[str] = []
    size = cells = 0
    notes: list[str] = []
    try:
        with _open(data, kind) as book:
            names = book.sheet_names
            if len(names) > MAX_SHEETS:
                notes.append(f"text read from the first {MAX_SHEETS} of {len(names)} sheets")
            for name in names[:MAX_SHEETS]:
                lines.append(name)
                size += len(name) + 1
                for row in book.get_sheet_by_name(name).iter_rows():
                    values = [_cell(v) for v in row if v != ""]
                    if not values:
                        continue
                    cells += len(values)
                    line = "\t".join(v for v in values if v)
                    lines.append(line)
                    size += len(line) + 1
                    if cells > MAX_CELLS or size > max_chars:
                        break
                lines.append("")
                if cells > MAX_CELLS or size > max_chars:
                    break
    except ExtractionFailed:
        raise
    except (CalamineError, ValueError, TypeError, OSError, IndexError, KeyError, OverflowError):
        raise ExtractionFailed(f"the {label} is damaged and cannot be read.") from None
    except BaseException as exc:  # calamine's Rust panics arrive as pyo3's PanicException (a BaseException)
        if type(exc).__name__ != "PanicException":
            raise
        raise ExtractionFailed(f"the {label} is damaged and cannot be read.") from None
    if cells > MAX_CELLS:
        notes.append(f"text cut after {MAX_CELLS:,} cells".replace(",", " "))
    text = "\n".join(lines).strip()
    return Extraction(text=text, media_type=MEDIA_TYPES[kind], note="; ".join(notes))
