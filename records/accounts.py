"""Local user accounts: adding and listing users (password hashing is the vault's, passed in as a hash)."""

from __future__ import annotations

import re
from datetime import datetime

from records import checkpoints
from records.access import AccessScope, Permission
from records.errors import AccessDenied, RecordsError
from records.events import event
from records.model import Confidentiality, Role, User
from records.ports import Ports

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def add_user(ports: Ports, scope: AccessScope, *, name: str, role: Role, password_hash: str,
             clearance: Confidentiality | None = None, principals: tuple[str, ...] = (), now: datetime,
             channel: str = "cli") -> User:
    """Create a user; the name must be new. Clearance defaults to internal (secret for admins)."""
    if not scope.may(Permission.ADMIN):
        raise AccessDenied(f"Your role ({scope.role}) may not manage users.")
    if not _NAME.match(name):
        raise RecordsError(f"The user name {name!r} is not allowed: use letters, digits, '.', '_', '@' "
                           "or '-' (up to 64).")
    if ports.catalog.get_user(name) is not None:
        raise RecordsError(f"There is already a user {name}: choose another name.")
    if not password_hash:
        raise RecordsError("A user needs a password.")
    level = clearance or (Confidentiality.SECRET if role is Role.ADMIN else Confidentiality.INTERNAL)
    user = User(name=name, role=role, clearance=level, principals=tuple(principals),
                password_hash=password_hash, created_at=now)
    with ports.catalog.transaction() as tx:
        tx.put_user(user)
        checkpoints.append(tx, ports, event("user.add", actor=scope.actor, now=now, channel=channel,
                                            details=(("user", name), ("role", str(role)),
                                                     ("clearance", str(level)))))
    return user


def list_users(ports: Ports, scope: AccessScope) -> list[User]:
    """Every user (admins and auditors only); password hashes are left out of the values returned."""
    if not (scope.may(Permission.ADMIN) or scope.may(Permission.AUDIT)):
        raise AccessDenied(f"Your role ({scope.role}) may not list users.")
    return [User(name=u.name, role=u.role, clearance=u.clearance, principals=u.principals,
                 disabled=u.disabled, created_at=u.created_at) for u in ports.catalog.users()]
