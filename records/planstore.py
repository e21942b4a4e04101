"""The plan in force: kept sealed in the catalogue, versioned, and changed only by an audited import.

A plan file (TOML, `records/plan.py`) is only the import and export format. Each version's text is a
catalogue setting (`plan.v.<N>`, JSON with its SHA-256, author, time, source and reason) and
`plan.version` names the one in force. A home that has none yet stores its plan.toml (or the default
plan) once as version 1 (`migrate`, with a `plan.migrate` entry); after that a hand-edited plan.toml
changes nothing. Every later version comes from `import_plan`: an admin's change, committed with one
`plan.change` audit entry that holds the SHA-256 of the old and new text and the old and new value of
every changed field. A change that would end any record's retention sooner, or cuts a period, needs a
written reason; records keep their stored keep-until as a floor either way (records.retention).
`check` (for verify) compares the stored versions with their audit entries.

The financial year end is no part of a stored plan: it is the sealed setting `financial_year_end`
(records.safeguards). An imported text's `fiscal_year_end` line is dropped when it agrees with that
setting and refused when it does not.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from records import checkpoints, safeguards
from records.access import AccessScope, Permission, require_second_person
from records.errors import AccessDenied, PlanChangeRefused, PlanError
from records.events import event, masked
from records.plan import Plan, parse_plan
from records.plandiff import PlanDiff, RecordEffect, diff, effects
from records.ports import Catalog, CatalogTx, Ports, Signer

VERSION_KEY = "plan.version"
VERSION_PREFIX = "plan.v."
MIGRATE = "plan.migrate"
CHANGE = "plan.change"
_FISCAL_LINE = re.compile(r"^[ \t]*fiscal_year_end[ \t]*=[^\n]*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class PlanVersion:
    version: int
    sha256: str
    text: str
    at: datetime
    by: str
    source: str  # "plan.toml", "the default plan", the imported file's name
    reason: str = ""

    def plan(self, fiscal_year_end: tuple[int, int] = (12, 31)) -> Plan:
        """This version's plan with the home's financial year end."""
        parsed = parse_plan(self.text, source=f"the stored plan (version {self.version})")
        return Plan(classes=parsed.classes, fiscal_year_end=fiscal_year_end, source=parsed.source)


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_fiscal_year_end(text: str) -> tuple[str, str | None]:
    """A legacy plan text without its `fiscal_year_end` line (the sealed setting holds it now), and the
    value that line gave (None when it had none)."""
    found = _FISCAL_LINE.search(text)
    if found is None:
        return text, None
    value = parse_plan(text, source="plan.toml").fiscal_year_end
    note = "# fiscal_year_end moved to the sealed setting financial_year_end (`strongroom settings`)"
    return text[:found.start()] + note + text[found.end():], f"{value[0]:02d}-{value[1]:02d}"


# ---- reading -------------------------------------------------------------------------------


def stored(catalog: Catalog, version: int) -> PlanVersion | None:
    raw = catalog.get_setting(f"{VERSION_PREFIX}{version}")
    if raw is None:
        return None
    doc = json.loads(raw)
    return PlanVersion(version=int(doc["version"]), sha256=str(doc["sha256"]), text=str(doc["text"]),
                       at=datetime.fromisoformat(doc["at"]), by=str(doc["by"]), source=str(doc["source"]),
                       reason=str(doc.get("reason", "")))


def version_in_force(catalog: Catalog) -> int:
    """The number of the version in force; 0 when the home has no stored plan yet."""
    raw = catalog.get_setting(VERSION_KEY)
    return int(raw) if raw else 0


def current(catalog: Catalog) -> PlanVersion | None:
    """The version in force, or None before the home's plan was migrated."""
    number = version_in_force(catalog)
    return stored(catalog, number) if number else None


def history(catalog: Catalog) -> list[PlanVersion]:
    """Every stored version, oldest first."""
    found = (stored(catalog, n) for n in range(1, version_in_force(catalog) + 1))
    return [v for v in found if v is not None]


# ---- writing -------------------------------------------------------------------------------


def _put(tx: CatalogTx, version: PlanVersion) -> None:
    tx.put_setting(f"{VERSION_PREFIX}{version.version}", json.dumps({
        "version": version.version, "sha256": version.sha256, "text": version.text, "at": version.at.isoformat(),
        "by": version.by, "source": version.source, "reason": version.reason}, ensure_ascii=False))
    tx.put_setting(VERSION_KEY, str(version.version))


def migrate(catalog: Catalog, signer: Signer, text: str, *, source: str, actor: str, now: datetime
            ) -> PlanVersion | None:
    """Store `text` as version 1 when the home has no stored plan (once: a home opened by two processes
    at once migrates in one of them), with one `plan.migrate` audit entry; None when one is stored."""
    if version_in_force(catalog):
        return None
    classes = len(parse_plan(text, source=source).classes)  # a broken plan.toml stops the open with its sentence
    first = PlanVersion(version=1, sha256=sha256_of(text), text=text, at=now, by=actor, source=source)
    with catalog.transaction() as tx:
        if version_in_force(catalog):  # read under the write lock
            return None
        _put(tx, first)
        checkpoints.append(tx, signer, event(MIGRATE, actor=actor, now=now, details=(
            ("version", "1"), ("sha256.new", first.sha256), ("source", source), ("classes", str(classes)))))
    return first


@dataclass(frozen=True, slots=True)
class PlanChange:
    """A previewed import: the version it replaces, the new text and plan, the diff, the records whose
    retention it changes, and what it shortens (which needs a reason)."""

    base: PlanVersion
    text: str
    plan: Plan
    diff: PlanDiff
    records: tuple[RecordEffect, ...]

    @property
    def shortened(self) -> tuple[RecordEffect, ...]:
        return tuple(r for r in self.records if r.shortened)

    @property
    def needs_reason(self) -> bool:
        return bool(self.diff.shorter or self.shortened)

    @property
    def same_text(self) -> bool:
        return self.text == self.base.text


def preview(ports: Ports, text: str, *, source: str, jurisdiction: str, today: date,
            fiscal_year_end: tuple[int, int] = (12, 31)) -> PlanChange:
    """What importing `text` would change (nothing is written): the diff and the affected records.
    Refuses a text that is not a valid plan, sets fiscal_year_end, or drops a class that has records."""
    base = current(ports.catalog)
    if base is None:
        raise PlanChangeRefused("The home has no stored plan yet: open it once (any command) and import again.")
    parsed = parse_plan(text, source=source)
    text, year_end = split_fiscal_year_end(text)
    if year_end is not None and parsed.fiscal_year_end != fiscal_year_end:
        raise PlanError(f"{source} sets fiscal_year_end to {year_end}, but the financial year end is the sealed "
                        "setting financial_year_end: remove the line, or change the setting with "
                        f"`strongroom settings set financial-year-end {year_end}`.")
    new = Plan(classes=parsed.classes, fiscal_year_end=fiscal_year_end, source=source)
    old = base.plan(fiscal_year_end)
    records = ports.catalog.find()
    in_use = sorted({r.record_class for r in records} - set(new.by_code()))
    if in_use:
        raise PlanChangeRefused(f"{source} drops class(es) {', '.join(in_use)}, which still hold records: keep "
                                "them in the plan (a class in use cannot be removed).")
    change = effects(records, old, new, jurisdiction=jurisdiction, today=today)
    return PlanChange(base=base, text=text, plan=new, diff=diff(old, new), records=tuple(change))


def import_plan(ports: Ports, scope: AccessScope, change: PlanChange, *, reason: str = "", now: datetime,
                channel: str = "cli", approver: AccessScope | None = None) -> PlanVersion | None:
    """Make a previewed change the plan in force (admins only): the new version and its `plan.change`
    entry commit together. Returns None when the text is the one in force already. A change that cuts a
    period or would end a record's retention sooner is refused without `reason` and, while the sealed
    two-person rule is on, without an `approver` (approval rights, not the importer) who co-signs it."""
    if not scope.may(Permission.ADMIN):
        raise AccessDenied(f"Your role ({scope.role}) may not change the classification plan.")
    if change.same_text:
        return None
    reason = reason.strip()
    if change.needs_reason and not reason:
        what = change.diff.shorter[0] if change.diff.shorter else \
            f"{len(change.shortened)} record(s) would be kept for less time, e.g. {change.shortened[0].registry_number}"
        raise PlanChangeRefused(f"This plan shortens retention ({what}), which needs a written justification: "
                                "give it with --reason.")
    if change.needs_reason and safeguards.current(ports.catalog).require_second_approver:
        if approver is None:
            raise PlanChangeRefused("This plan shortens retention, so a second person with approval rights must "
                                    "approve it: give --approved-by USER (their password is asked).")
        require_second_person(approver, scope.actor, approving="a plan that shortens retention",
                              proposal="this plan change", refused=PlanChangeRefused)
    new = PlanVersion(version=change.base.version + 1, sha256=sha256_of(change.text), text=change.text, at=now,
                      by=scope.actor, source=change.plan.source, reason=reason)
    with ports.catalog.transaction() as tx:
        if version_in_force(ports.catalog) != change.base.version:
            raise PlanChangeRefused("The plan changed while this import was prepared: run the import again.")
        _put(tx, new)
        checkpoints.append(tx, ports.signer, event(CHANGE, actor=scope.actor, now=now, channel=channel,
                                                   details=(*_details(ports, change, new, reason),
                                                            ("approver", approver.actor if approver else ""))))
    return new


def _details(ports: Ports, change: PlanChange, new: PlanVersion, reason: str) -> tuple[tuple[str, str], ...]:
    fields = tuple(item for c in change.diff.changes
                   for item in ((f"{c.code}.{c.field}.old", c.old), (f"{c.code}.{c.field}.new", c.new)))
    return (("version", str(new.version)), ("version.old", str(change.base.version)),
            ("sha256.old", change.base.sha256), ("sha256.new", new.sha256), ("source", new.source),
            ("classes", ",".join(change.diff.classes)), ("added", ",".join(change.diff.added)),
            ("removed", ",".join(change.diff.removed)), ("shorter", "; ".join(change.diff.shorter)),
            ("records.changed", str(len(change.records))), ("records.shortened", str(len(change.shortened))),
            ("reason", masked(ports, reason)), *fields)


# ---- checking ------------------------------------------------------------------------------


def check(catalog: Catalog) -> list[str]:
    """For verify: one sentence per stored plan version whose text, hash or number its audit trail does
    not confirm (a plan written into the catalogue without `strongroom plan import`)."""
    audited: dict[int, str] = {}
    for entry in catalog.audit_page(action="plan.", limit=1_000_000):
        if entry.event.action in (MIGRATE, CHANGE):
            details = dict(entry.event.details)
            audited.setdefault(int(details.get("version", "0")), details.get("sha256.new", ""))
    problems = []
    in_force = version_in_force(catalog)
    fix = "restore the catalogue from a backup, or import the plan again with `strongroom plan import`"
    for number in range(1, in_force + 1):
        version = stored(catalog, number)
        if version is None:
            problems.append(f"Plan version {number} is missing from the catalogue: {fix}.")
        elif sha256_of(version.text) != version.sha256 or audited.get(number) != version.sha256:
            problems.append(f"The stored plan version {number} does not match its audit trail (its text was "
                            f"changed outside `strongroom plan import`): {fix}.")
    newest = max(audited, default=0)
    if newest != in_force:
        problems.append(f"The plan in force is version {in_force}, but the audit trail's newest plan version is "
                        f"{newest}: {fix}.")
    return problems


def file_note(version: PlanVersion, text: str | None, name: str) -> str:
    """For verify: one sentence when a plan file (the home's plan.toml) differs from the stored plan, which
    is the one in force; "" when it agrees or is absent."""
    if text is None:
        return ""
    try:
        differs = parse_plan(split_fiscal_year_end(text)[0]).classes != version.plan().classes
    except PlanError:
        differs = True
    if not differs:
        return ""
    return (f"{name} differs from the plan in force (version {version.version}) and changes nothing: to make it "
            f"the plan, run `strongroom plan import {name}`; to refresh it, `strongroom plan export -o {name}`.")


def version_document(version: PlanVersion, *, with_reason: bool) -> dict[str, Any]:
    """A version for `plan history --json` and the plan page (the text left out)."""
    doc: dict[str, Any] = {"version": version.version, "sha256": version.sha256, "at": version.at.isoformat(),
                           "by": version.by, "source": version.source}
    if with_reason:
        doc["reason"] = version.reason
    return doc
