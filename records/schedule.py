"""The retention schedule as a table: the plan's classes with periods, triggers and bases, for people and auditors."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from records.access import AccessScope
from records.model import State
from records.plan import JURISDICTIONS, Plan, RecordClass
from records.ports import Ports
from records.spreadsheet import csv_lines

CSV_HEADER = ("code", "slug", "name_sl", "name_et", "name_en", "confidentiality", "action",
              *(f"{j}_{part}" for j in JURISDICTIONS for part in ("years", "trigger", "basis", "policy")), "records")


def class_document(cls: RecordClass) -> dict[str, Any]:
    """One class as plain values (`plan show --json`, the plan page)."""
    return {"code": cls.code, "slug": cls.slug, "names": dict(cls.names), "confidentiality": str(cls.confidentiality),
            "detail": cls.detail, "action": str(cls.action), "unsorted": cls.unsorted,
            "retention": {j: {"years": "permanent" if p.years is None else p.years, "trigger": str(cls.trigger_in(j)),
                              "basis": p.basis, "policy": p.policy} for j, p in cls.retention}}


def document(plan: Plan, counts: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """Every class in plan order; with `counts`, the number of records in each."""
    out = []
    for cls in plan.classes:
        doc = class_document(cls)
        if counts is not None:
            doc["records"] = counts.get(cls.code, 0)
        out.append(doc)
    return out


def counts(ports: Ports, scope: AccessScope) -> dict[str, int]:
    """Records per class code that `scope` may see (destroyed ones left out)."""
    return dict(Counter(r.record_class for r in ports.catalog.find()
                        if r.state is not State.DISPOSED and scope.can_see(r)))


def csv_rows(plan: Plan, counts: Mapping[str, int]) -> Iterator[tuple[object, ...]]:
    for cls in plan.classes:
        names = dict(cls.names)
        periods: list[object] = []
        for jurisdiction, period in cls.retention:
            periods += ["permanent" if period.years is None else period.years, str(cls.trigger_in(jurisdiction)),
                        period.basis, "policy" if period.policy else "law"]
        yield (cls.code, cls.slug, names.get("sl", ""), names.get("et", ""), names.get("en", ""),
               str(cls.confidentiality), str(cls.action), *periods, counts.get(cls.code, 0))


def csv_bytes(plan: Plan, counts: Mapping[str, int]) -> Iterable[bytes]:
    """The schedule as spreadsheet CSV (UTF-8 with BOM, `;`, CRLF), like the audit export's registers."""
    return csv_lines(CSV_HEADER, csv_rows(plan, counts))
