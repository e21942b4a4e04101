"""The vault's half of `verify`: the catalogue's consistency and every sealed object authenticated.

The audit chain and its signed checkpoints are the records core's (`records.checkpoints`); the
verify use case (`records.verification`) combines both. `Home.verify()` runs them together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from records.export import LAST_EXPORT_SETTING, ChainPoint
from records.verification import VerifyReport
from vault.anchor import ANCHOR_FILE, rollback_problem
from vault.errors import AnchorDamaged, DataKeyDamaged, ObjectDamaged

if TYPE_CHECKING:
    from vault.home import Home


def storage_report(home: Home) -> VerifyReport:
    """Catalogue page and key checks, every object read back and authenticated, and the trail held
    against what was recorded outside it (the sealed anchor, the last export's head)."""
    problems = list(home.catalog.integrity_problems())
    damaged: list[tuple[str, str]] = []
    problems.extend(_objects(home, damaged))
    problems.extend(_truncation(home))
    return VerifyReport(problems=tuple(problems), damaged=tuple(damaged))


def _objects(home: Home, damaged: list[tuple[str, str]]) -> list[str]:
    problems: list[str] = []
    referenced: set[str] = set()
    for record in home.catalog.find():
        key = home.catalog.data_key(record.id)
        if key is None:
            continue  # crypto-shredded: its objects must be gone, so any left are orphans
        for ref in record.blobs:
            referenced.add(ref.object_id)
            try:
                for _ in home.blobs.open_stored(record.id, key, ref):  # around a read cache
                    pass
            except (ObjectDamaged, DataKeyDamaged) as exc:
                problems.append(f"Record {record.registry_number} ({record.id}), {ref.role}: {exc}")
                damaged.append((record.id, str(ref.role)))
    for object_id in sorted(home.blobs.object_ids() - referenced):
        problems.append(f"Object {object_id} is not referenced by any record (an orphan, e.g. from an "
                        "interrupted filing or an incomplete disposal): check, then delete it.")
    for path in home.blobs.leftovers():
        problems.append(f"{path.relative_to(home.path)} is a temporary file left by an interrupted "
                        "write: it holds no finished object and is safe to delete.")
    return problems


def _truncation(home: Home) -> list[str]:
    """The trail must reach what was recorded outside it: the sealed anchor (open already refused a
    catalogue behind it; this sees a cut made while the home is open) and the last export's head."""
    problems: list[str] = []
    try:
        anchor = home.anchor.read()
    except AnchorDamaged as exc:
        problems.append(str(exc))
    else:
        found = rollback_problem(anchor, home.catalog) if anchor is not None else (
            f"the anchor file {ANCHOR_FILE} is missing")
        if found:
            problems.append(f"The audit trail was cut short or rolled back: {found}.")
    stored = home.catalog.get_setting(LAST_EXPORT_SETTING)
    if stored:
        exported = ChainPoint.parse(stored)
        entry = home.catalog.audit_entry(exported.seq)
        if entry is None:
            head = home.catalog.audit_head()
            problems.append(f"The audit trail ends at entry {head.seq if head else 0}, but an audit export "
                            f"already covered entry {exported.seq}: the newest entries were removed.")
        elif entry.hash != exported.hash:
            problems.append(f"Audit entry {exported.seq} is not the one the last audit export covered: "
                            "the trail was rewritten.")
    return problems
