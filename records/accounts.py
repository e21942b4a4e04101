"""Local user accounts: add, list, disable, change role or password, reset a password; each change
audited with it.

Password hashing is the vault's: callers pass the hash in. Each change and its audit entry
commit in one catalogue transaction, with the checks that guard it read inside that transaction.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from records import checkpoints
from records.access import AccessScope, Permission
from records.errors import AccessDenied, RecordsError
from records.events import event, masked
from records.model import Confidentiality, Role, User
from records.ports import CatalogTx, Ports

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class UnknownUser(RecordsError):
    """No user has that name."""


class OwnAccount(AccessDenied):
    """An administrator may not disable or change the role of their own account."""


class LastAdmin(RecordsError):
    """The change would leave no enabled administrator."""


def add_user(ports: Ports, scope: AccessScope, *, name: str, role: Role, password_hash: str,
             clearance: Confidentiality | None = None, principals: tuple[str, ...] = (), now: datetime,
             channel: str = "cli") -> User:
    """Create a user; the name must be new. Clearance defaults to internal (secret for admins)."""
    _require_admin(scope)
    user = _new_user(name, role, password_hash, clearance, principals, now)
    with ports.catalog.transaction() as tx:
        if ports.catalog.get_user(name) is not None:
            raise RecordsError(f"There is already a user {name}: choose another name.")
        _put(tx, ports, user, "user.add", scope.actor, now, channel,
             ("role", str(role)), ("clearance", str(user.clearance)))
    return user


def create_first_admin(ports: Ports, *, name: str, password_hash: str, now: datetime, actor: str,
                       channel: str = "cli") -> User:
    """The home's first user, an administrator; refused once any user exists (then an admin adds users)."""
    user = _new_user(name, Role.ADMIN, password_hash, None, (), now)
    with ports.catalog.transaction() as tx:
        if ports.catalog.users():
            raise AccessDenied("This home already has users: an administrator adds more with `strongroom user add`.")
        _put(tx, ports, user, "user.add", actor, now, channel,
             ("role", str(user.role)), ("clearance", str(user.clearance)))
    return user


def list_users(ports: Ports, scope: AccessScope) -> list[User]:
    """Every user (admins and auditors only); password hashes are left out of the values returned."""
    if not (scope.may(Permission.ADMIN) or scope.may(Permission.AUDIT)):
        raise AccessDenied(f"Your role ({scope.role}) may not list users.")
    return [User(name=u.name, role=u.role, clearance=u.clearance, principals=u.principals,
                 disabled=u.disabled, created_at=u.created_at, must_change_password=u.must_change_password)
            for u in ports.catalog.users()]


def disable_user(ports: Ports, scope: AccessScope, name: str, *, now: datetime, channel: str = "cli") -> User:
    """Disable an account (it can no longer sign in; its history stays). Never one's own, never the
    last enabled administrator."""
    _require_admin(scope)
    with ports.catalog.transaction() as tx:
        user = _existing(ports, name)
        if user.name == scope.actor:
            raise OwnAccount("You cannot disable your own account: ask another administrator.")
        disabled = replace(user, disabled=True)
        _keep_an_admin(ports, disabled)
        _put(tx, ports, disabled, "user.disable", scope.actor, now, channel)
    return disabled


def change_role(ports: Ports, scope: AccessScope, name: str, *, role: Role, now: datetime,
                clearance: Confidentiality | None = None, principals: tuple[str, ...] | None = None,
                channel: str = "cli") -> User:
    """Give a user another role, and optionally clearance and principals (None keeps them; an admin's
    clearance is always secret). Never one's own role; never the last enabled administrator's."""
    _require_admin(scope)
    with ports.catalog.transaction() as tx:
        user = _existing(ports, name)
        if user.name == scope.actor:
            raise OwnAccount("You cannot change your own role: ask another administrator.")
        level = Confidentiality.SECRET if role is Role.ADMIN else (clearance or user.clearance)
        changed = replace(user, role=role, clearance=level,
                          principals=user.principals if principals is None else tuple(principals))
        _keep_an_admin(ports, changed)
        _put(tx, ports, changed, "user.role", scope.actor, now, channel, ("role", str(changed.role)),
             ("clearance", str(changed.clearance)), ("principals", masked(ports, ",".join(changed.principals))))
    return changed


def change_password(ports: Ports, scope: AccessScope, password_hash: str, *, now: datetime,
                    channel: str = "cli") -> User:
    """Set the signed-in user's own password (the caller checked the current one and hashed the new)."""
    if not password_hash:
        raise RecordsError("A user needs a password.")
    with ports.catalog.transaction() as tx:
        user = ports.catalog.get_user(scope.actor)
        if user is None or user.disabled:
            raise AccessDenied("Only a signed-in, enabled user may change their own password.")
        changed = replace(user, password_hash=password_hash, must_change_password=False)
        _put(tx, ports, changed, "user.password", scope.actor, now, channel)
    return changed


def reset_password(ports: Ports, scope: AccessScope, name: str, password_hash: str, *, now: datetime,
                   channel: str = "cli") -> User:
    """An administrator sets a temporary password for `name` (a forgotten password; from the CLI, a
    locked-out administrator); the user must change it at the next sign-in. A disabled account stays
    disabled."""
    _require_admin(scope)
    if not password_hash:
        raise RecordsError("A user needs a password.")
    with ports.catalog.transaction() as tx:
        user = _existing(ports, name)
        changed = replace(user, password_hash=password_hash, must_change_password=True)
        _put(tx, ports, changed, "user.password.reset", scope.actor, now, channel)
    return changed


def _put(tx: CatalogTx, ports: Ports, user: User, action: str, actor: str, now: datetime, channel: str,
         *details: tuple[str, str]) -> None:
    """The one write of a user: the row and its audit entry, in the caller's transaction."""
    tx.put_user(user)
    checkpoints.append(tx, ports.signer, event(action, actor=actor, now=now, channel=channel,
                                               details=(("user", user.name), *details)))


def _require_admin(scope: AccessScope) -> None:
    if not scope.may(Permission.ADMIN):
        raise AccessDenied(f"Your role ({scope.role}) may not manage users.")


def _new_user(name: str, role: Role, password_hash: str, clearance: Confidentiality | None,
              principals: tuple[str, ...], now: datetime) -> User:
    if not _NAME.match(name):
        raise RecordsError(f"The user name {name!r} is not allowed: use letters, digits, '.', '_', '@' "
                           "or '-' (up to 64).")
    if not password_hash:
        raise RecordsError("A user needs a password.")
    level = clearance or (Confidentiality.SECRET if role is Role.ADMIN else Confidentiality.INTERNAL)
    return User(name=name, role=role, clearance=level, principals=tuple(principals),
                password_hash=password_hash, created_at=now)


def _existing(ports: Ports, name: str) -> User:
    user = ports.catalog.get_user(name)
    if user is None:
        raise UnknownUser(f"There is no user {name}: check the name (`strongroom user list`).")
    return user


def _keep_an_admin(ports: Ports, changed: User) -> None:
    """Refuse a change after which no enabled administrator would be left to manage the home."""
    admins = [u for u in ports.catalog.users() if u.name != changed.name and u.role is Role.ADMIN and not u.disabled]
    if not admins and (changed.role is not Role.ADMIN or changed.disabled):
        raise LastAdmin(f"{changed.name} is the last enabled administrator: make another user an "
                        "administrator first.")
