"""Sidecars: the optional NAME.EXT.json that carries a dropped file's metadata, strictly validated."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import stat
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from records.filing import FilingRequest
from records.model import DETAIL_KINDS, Confidentiality, Details, Direction
from vault.inbox.entries import read_at_most
from vault.inbox.errors import SidecarInvalid

MAX_SIDECAR_BYTES = 64 * 1024
MAX_TEXT = 1000  # characters in one value; a title is a line, not a document
MAX_ITEMS = 100  # tags, parties, extra entries, list fields

_TOP_LEVEL = ("title", "principal", "confidentiality", "document_date", "tags", "parties", "details", "extra")


@dataclass(frozen=True, slots=True)
class Sidecar:
    """What a sidecar may set; None/empty means "not given" (the class or the document decides)."""

    title: str | None = None
    principal: str | None = None
    confidentiality: Confidentiality | None = None
    document_date: date | None = None
    tags: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()
    details: Details | None = None
    extra: tuple[tuple[str, str], ...] = ()


def read_sidecar(fd: int, name: str = "the sidecar") -> bytes:
    """A sidecar's bytes from an open descriptor, never more than the limit + 1: a FIFO or a huge
    (sparse) file is refused on its fstat, before any read."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise SidecarInvalid(f"{name} is not a regular file: replace it with a real JSON file.")
    if st.st_size > MAX_SIDECAR_BYTES:
        raise SidecarInvalid(f"{name} is larger than {MAX_SIDECAR_BYTES // 1024} KiB: keep only metadata in it.")
    return read_at_most(fd, MAX_SIDECAR_BYTES)


def parse_sidecar(data: bytes, *, detail_kind: str | None, name: str = "the sidecar") -> Sidecar:
    """Validate a sidecar's bytes; `detail_kind` is the class's kind of fields (None: it takes none).

    Raises SidecarInvalid with one sentence naming the first problem.
    """
    if len(data) > MAX_SIDECAR_BYTES:
        raise SidecarInvalid(f"{name} is larger than {MAX_SIDECAR_BYTES // 1024} KiB: keep only metadata in it.")
    try:
        doc = json.loads(data.decode("utf-8-sig"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SidecarInvalid(f"{name} is not valid UTF-8 JSON ({_short(exc)}): fix it or remove it.") from None
    if not isinstance(doc, dict):
        raise SidecarInvalid(f"{name} must hold one JSON object with fields such as \"title\".")
    unknown = sorted(set(doc) - set(_TOP_LEVEL))
    if unknown:
        raise SidecarInvalid(f"{name} has the unknown field {unknown[0]!r}: allowed are "
                             f"{', '.join(_TOP_LEVEL)} (class-specific fields go under \"details\").")
    return Sidecar(
        title=_opt_text(doc, "title", name),
        principal=_opt_text(doc, "principal", name),
        confidentiality=_confidentiality(doc.get("confidentiality"), name),
        document_date=_date(doc.get("document_date"), "document_date", name),
        tags=_texts(doc.get("tags"), "tags", name),
        parties=_texts(doc.get("parties"), "parties", name),
        details=_details(doc.get("details"), detail_kind, name),
        extra=_extra(doc.get("extra"), name),
    )


def apply_sidecar(request: FilingRequest, sidecar: Sidecar) -> FilingRequest:
    """The request with every field the sidecar gives; fields it leaves out stay as they were."""
    changes: dict[str, Any] = {name: getattr(sidecar, name) for name in (
        "title", "principal", "confidentiality", "document_date", "details") if getattr(sidecar, name)}
    changes.update({name: getattr(sidecar, name) for name in ("tags", "parties", "extra") if getattr(sidecar, name)})
    return dataclasses.replace(request, **changes) if changes else request


def sidecar_to_json(sidecar: Sidecar) -> dict[str, Any]:
    """The JSON form `parse_sidecar` reads back to an equal value (used by tests and the web form)."""
    out: dict[str, Any] = {}
    for key in ("title", "principal"):
        if getattr(sidecar, key) is not None:
            out[key] = getattr(sidecar, key)
    if sidecar.confidentiality is not None:
        out["confidentiality"] = sidecar.confidentiality.value
    if sidecar.document_date is not None:
        out["document_date"] = sidecar.document_date.isoformat()
    if sidecar.tags:
        out["tags"] = list(sidecar.tags)
    if sidecar.parties:
        out["parties"] = list(sidecar.parties)
    if sidecar.details is not None:
        out["details"] = {f.name: _field_json(getattr(sidecar.details, f.name))
                          for f in dataclasses.fields(sidecar.details)
                          if getattr(sidecar.details, f.name) not in (None, "", ())}
    if sidecar.extra:
        out["extra"] = dict(sidecar.extra)
    return out


def _field_json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Direction):
        return value.value
    return value


def _no_constant(token: str) -> Any:
    raise ValueError(f"{token} is not a number")


def _short(exc: BaseException) -> str:
    return str(exc).split("\n")[0][:120]


def _shown(value: Any, *, quoted: bool = False) -> str:
    """A value from the sidecar, cut short (and quoted unless a short plain text): one line, whatever was sent."""
    if not quoted and isinstance(value, str) and len(value) <= 40 and value.isprintable():
        return value
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text(value: Any, field: str, name: str) -> str:
    if not isinstance(value, str):
        raise SidecarInvalid(f"{name}: {field} must be text.")
    if len(value) > MAX_TEXT or any(ord(c) < 32 and c not in "\t" for c in value):
        raise SidecarInvalid(f"{name}: {field} must be one line of at most {MAX_TEXT} characters.")
    return value.strip()


def _opt_text(doc: dict[str, Any], field: str, name: str) -> str | None:
    value = doc.get(field)
    return None if value is None else _text(value, field, name)


def _texts(value: Any, field: str, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise SidecarInvalid(f"{name}: {field} must be a list of at most {MAX_ITEMS} texts, like [\"a\", \"b\"].")
    return tuple(t for t in (_text(v, field, name) for v in value) if t)


def _confidentiality(value: Any, name: str) -> Confidentiality | None:
    if value is None:
        return None
    choices = ", ".join(c.value for c in Confidentiality)
    if not isinstance(value, str) or value.strip().lower() not in {c.value for c in Confidentiality}:
        raise SidecarInvalid(f"{name}: confidentiality must be one of {choices}.")
    return Confidentiality(value.strip().lower())


def _date(value: Any, field: str, name: str) -> date | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return date.fromisoformat(value.strip())
    except ValueError:
        raise SidecarInvalid(f"{name}: {field} must be a date written like 2026-03-01.") from None


def _extra(value: Any, name: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict) or len(value) > MAX_ITEMS:
        raise SidecarInvalid(f"{name}: extra must be an object of at most {MAX_ITEMS} text values.")
    return tuple(sorted((_text(k, "an extra key", name), _text(v, f"extra.{k}", name)) for k, v in value.items()))


def _details(value: Any, kind: str | None, name: str) -> Details | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SidecarInvalid(f"{name}: details must be an object of class-specific fields.")
    given = value.get("kind", kind)
    if kind is None:
        raise SidecarInvalid(f"{name}: this folder's class takes no class-specific details; remove \"details\".")
    if given != kind:
        raise SidecarInvalid(f"{name}: this folder's class takes {kind} details, not {_shown(given)}.")
    cls = DETAIL_KINDS[kind]
    types = {f.name: str(f.type) for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, raw in value.items():
        if key == "kind":
            continue
        if key not in types:
            raise SidecarInvalid(f"{name}: {kind} details have no field {_shown(key, quoted=True)}; "
                                 f"allowed are {', '.join(types)}.")
        if raw is not None:
            kwargs[key] = _detail_value(types[key], raw, f"details.{key}", name)
    return cls(**kwargs)  # type: ignore[no-any-return]


def _detail_value(type_name: str, raw: Any, field: str, name: str) -> Any:
    if "tuple" in type_name:
        return _texts(raw, field, name)
    if "Decimal" in type_name:
        return _decimal(raw, field, name)
    if "date" in type_name:
        return _date(raw, field, name)
    if "Direction" in type_name:
        choices = [d.value for d in Direction]
        if raw not in choices:
            raise SidecarInvalid(f"{name}: {field} must be one of {', '.join(choices)}.")
        return Direction(raw)
    if "bool" in type_name:  # e.g. a contract's auto_renewal
        if not isinstance(raw, bool):
            raise SidecarInvalid(f"{name}: {field} must be true or false.")
        return raw
    if "int" in type_name:
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 100_000:
            raise SidecarInvalid(f"{name}: {field} must be a whole number of days, like 90.")
        return raw
    return _text(raw, field, name)


def _decimal(raw: Any, field: str, name: str) -> Decimal:
    problem = SidecarInvalid(f"{name}: {field} must be an amount written like \"1250.00\".")
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise problem
    if isinstance(raw, float) and not math.isfinite(raw):
        raise problem
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise problem from None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 15:
        raise problem
    return value
