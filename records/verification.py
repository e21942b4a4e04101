"""The verify use case: sealed objects, catalogue and audit chain checked, and the run audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from records import checkpoints
from records.access import AccessScope, Permission
from records.checkpoints import SignatureCheck
from records.errors import AccessDenied
from records.events import event
from records.ports import Catalog, Ports


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Every problem found (one sentence each) and the (record id, blob role) of each object that
    failed to authenticate. The vault's storage check returns one; `verify` adds the chain's."""

    problems: tuple[str, ...] = ()
    damaged: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()  # worth knowing, no damage: e.g. a plan.toml that differs from the plan in force

    @property
    def sound(self) -> bool:
        return not self.problems


StorageCheck = Callable[[], VerifyReport]  # the vault's: catalogue consistency and every sealed object


def inspect(catalog: Catalog, public_key: bytes, *, storage: StorageCheck,
            signature_valid: SignatureCheck | None) -> VerifyReport:
    """Storage, then the audit chain and its signed checkpoints; writes nothing.

    Raises VerificationUnavailable (before any object is read) when `signature_valid` is missing."""
    checkpoints.ChainVerifier(signature_valid)  # refuses at once, not after an hour of reading objects
    found = storage()
    chain = checkpoints.verify_chain(catalog, public_key, signature_valid)
    return VerifyReport(problems=(*found.problems, *chain), damaged=found.damaged, notes=found.notes)


def verify(ports: Ports, scope: AccessScope, *, storage: StorageCheck, signature_valid: SignatureCheck | None,
           now: datetime, channel: str = "cli") -> VerifyReport:
    """Verify the home and audit it: one `vault.verify` entry for the run and one `record.damaged`
    entry in the history of each record whose object failed (records are immutable: the entry is
    the mark it carries), all in one transaction."""
    if not (scope.may(Permission.ADMIN) or scope.may(Permission.AUDIT)):
        raise AccessDenied(f"Your role ({scope.role}) may not verify the home; ask an administrator or auditor.")
    report = inspect(ports.catalog, ports.signer.public_key(), storage=storage, signature_valid=signature_valid)
    with ports.catalog.transaction() as tx:
        checkpoints.append(tx, ports.signer, event("vault.verify", actor=scope.actor, now=now, channel=channel,
                                                   outcome="ok" if report.sound else "failed",
                                                   details=(("problems", str(len(report.problems))),)))
        for record_id, role in report.damaged:
            checkpoints.append(tx, ports.signer, event("record.damaged", actor=scope.actor, now=now,
                                                       record_id=record_id, outcome="failed", channel=channel,
                                                       details=(("blob", role),)))
    return report
