"""The vault's half of `verify`: the catalogue's consistency and every sealed object authenticated.

The audit chain and its signed checkpoints are the records core's (`records.checkpoints`); the
verify use case (`records.verification`) combines both. `Home.verify()` runs them together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from records.verification import VerifyReport
from vault.errors import DataKeyDamaged, ObjectDamaged

if TYPE_CHECKING:
    from vault.home import Home


def storage_report(home: Home) -> VerifyReport:
    """Catalogue page and key checks, then every object read back and authenticated."""
    problems = list(home.catalog.integrity_problems())
    damaged: list[tuple[str, str]] = []
    problems.extend(_objects(home, damaged))
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
