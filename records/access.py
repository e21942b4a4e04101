"""Who may see and do what: pure decisions from a user's role, clearance and principals."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from records.errors import AccessDenied, RecordsError
from records.model import Confidentiality, Record, Role, User


class Permission(StrEnum):
    READ = "read"  # see metadata, preview, download
    FILE = "file"  # file new documents, classify the unsorted queue
    EDIT = "edit"  # metadata edits
    HOLD = "hold"  # place / release legal holds
    DISPOSE = "dispose"  # propose and carry out disposition
    APPROVE = "approve"  # second approver for destruction
    AUDIT = "audit"  # read the audit log, make audit exports
    ADMIN = "admin"  # users, passphrases, settings


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.SECRETARY: frozenset({Permission.READ, Permission.FILE, Permission.EDIT, Permission.HOLD,
                               Permission.DISPOSE}),
    Role.MANAGER: frozenset({Permission.READ, Permission.HOLD, Permission.APPROVE}),
    Role.AUDITOR: frozenset({Permission.READ, Permission.AUDIT}),
    Role.VIEWER: frozenset({Permission.READ}),
}


@dataclass(frozen=True, slots=True)
class AccessScope:
    """What one user may see: the filter every query and every record view applies."""

    actor: str
    role: Role
    clearance: Confidentiality
    principals: frozenset[str] | None  # None: every principal
    # How the shell knows who `actor` is ("password", "os-user", "session"; "" unsaid): written into
    # the audit entries of edits, so a CLI edit says whether its person was checked or only named.
    identified_by: str = ""

    @classmethod
    def of(cls, user: User) -> AccessScope:
        principals = None if user.role == Role.ADMIN or not user.principals else frozenset(user.principals)
        clearance = Confidentiality.SECRET if user.role == Role.ADMIN else user.clearance
        return cls(actor=user.name, role=user.role, clearance=clearance, principals=principals)

    @classmethod
    def system(cls, actor: str = "system", identified_by: str = "") -> AccessScope:
        return cls(actor=actor, role=Role.ADMIN, clearance=Confidentiality.SECRET, principals=None,
                   identified_by=identified_by)

    @property
    def visible_levels(self) -> tuple[Confidentiality, ...]:
        return tuple(c for c in Confidentiality if self.clearance.allows(c))

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def can_see(self, record: Record) -> bool:
        if not self.clearance.allows(record.confidentiality):
            return False
        return self.principals is None or record.principal in self.principals


def require_second_person(scope: AccessScope, proposed_by: str, *, approving: str, proposal: str,
                          refused: type[RecordsError]) -> None:
    """The two-person rule: whoever approves `approving` has approval rights and is not the person who
    made the `proposal` (raises AccessDenied, or `refused` with one sentence)."""
    if not scope.may(Permission.APPROVE):
        raise AccessDenied(f"Your role ({scope.role}) may not approve {approving}.")
    if scope.actor == proposed_by:
        raise refused(f"The person who proposed {proposal} cannot approve it: ask a second person with "
                      "approval rights.")
