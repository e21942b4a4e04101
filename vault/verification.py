"""`verify`: authenticate every object and check the catalogue, the audit chain and checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from records.audit import GENESIS, first_break
from records.export import LAST_EXPORT_SETTING, ChainPoint
from records.ports import Checkpoint
from vault.anchor import ANCHOR_FILE, rollback_problem
from vault.errors import AnchorDamaged, DataKeyDamaged, ObjectDamaged
from vault.signing import signature_valid

if TYPE_CHECKING:
    from vault.home import Home


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Every problem (one sentence each) and the records whose objects or data key failed."""

    problems: list[str] = field(default_factory=list)
    damaged: list[tuple[str, str]] = field(default_factory=list)  # (record id, blob role)


def verify_home(home: Home) -> list[str]:
    return verify_report(home).problems


def verify_report(home: Home) -> VerifyReport:
    report = VerifyReport(problems=list(home.catalog.integrity_problems()))
    report.problems.extend(_objects(home, report.damaged))
    report.problems.extend(_audit_chain(home))
    report.problems.extend(_checkpoints(home))
    report.problems.extend(_truncation(home))
    return report


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
                for _ in home.blobs.open(record.id, key, ref):
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


def _audit_chain(home: Home) -> list[str]:
    docs = list(home.catalog.audit_documents())
    if docs and docs[0].get("seq") != 1:
        return [f"The audit trail does not start at entry 1 (it starts at {docs[0].get('seq')}): "
                "entries were removed."]
    broken = first_break(docs, start_prev=GENESIS)
    return [f"The audit trail is broken: {broken}."] if broken else []


def _checkpoints(home: Home) -> list[str]:
    text_of = _checkpoint_text()
    problems: list[str] = []
    public = home.signer.public_key()
    for cp in home.catalog.checkpoints():
        entry = next(iter(home.catalog.audit_entries(cp.size - 1)), None)
        if entry is None or entry.seq != cp.size or entry.hash != cp.head:
            problems.append(f"Checkpoint at audit entry {cp.size} does not match the audit trail: "
                            "entries up to it were altered or removed.")
        elif text_of is not None and not signature_valid(public, text_of(replace(cp, signature=b"")),
                                                          cp.signature):
            problems.append(f"Checkpoint at audit entry {cp.size} has an invalid signature: "
                            "it was forged or altered.")
    return problems


def _checkpoint_text() -> Callable[[Checkpoint], bytes] | None:
    """The signed text of a checkpoint is the records core's format (records/checkpoints.py)."""
    try:
        from records import checkpoints
    except ImportError:
        return None
    fn = getattr(checkpoints, "checkpoint_text", None)
    return fn if callable(fn) else None


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
