"""What every view starts with: the signed-in user, their scope, and a permission check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import abort, current_app, request, session

from records import checkpoints
from records.access import AccessScope, Permission
from records.events import event
from records.model import User
from records.plan import Plan
from records.ports import Ports, SearchRequest, SearchResult
from records.search import search_records
from vault import Home
from vault.inbox import Intake
from web.office import Office
from web.security import SessionStore, Throttle
from web.settings import Settings


_USER_KEY = "strongroom.user"
_UNSET = object()


@dataclass(slots=True)
class WebState:
    """The Office behind one app (its home, plan, ports and settings) and the web's own state."""

    office: Office
    sessions: SessionStore
    user_throttle: Throttle
    client_throttle: Throttle
    intake: Intake  # the unsorted queue files through the same pipeline as the watcher
    clock: Callable[[], datetime]

    @property
    def ports(self) -> Ports:
        return self.office.ports

    @property
    def plan(self) -> Plan:
        return self.office.plan

    @property
    def settings(self) -> Settings:
        return self.office.settings

    @property
    def home(self) -> Home:
        return self.office.home

    @property
    def home_path(self) -> Path:
        return self.office.path


def state() -> WebState:
    return current_app.extensions["strongroom"]  # type: ignore[no-any-return]


def ports() -> Ports:
    return state().ports


def plan() -> Plan:
    return state().plan


def now() -> datetime:
    return state().clock()


def current_user() -> User | None:
    """The signed-in user, re-read from the catalogue each request (a disabled account ends at once)."""
    cached = request.environ.get(_USER_KEY, _UNSET)  # per request, never shared through the app context
    if cached is not _UNSET:
        return cached  # type: ignore[no-any-return]
    name = session.get("user")
    user = ports().catalog.get_user(name) if isinstance(name, str) else None
    if user is not None and user.disabled:
        user = None
    request.environ[_USER_KEY] = user
    return user


def scope() -> AccessScope:
    user = current_user()
    if user is None:
        abort(401)
    return AccessScope.of(user)


def require(permission: Permission) -> AccessScope:
    """The first line of every view: the user's scope, or 403 when the role lacks `permission`."""
    s = scope()
    if not s.may(permission):
        abort(403)
    return s


def audit(action: str, actor: str, *, outcome: str = "ok", details: tuple[tuple[str, str], ...] = ()) -> None:
    """An audit entry for something the web itself decides (login, logout, refused login)."""
    p = ports()
    with p.catalog.transaction() as tx:
        checkpoints.append(tx, p.signer, event(action, actor=actor, now=now(), channel="web", outcome=outcome,
                                               details=details))


def search(request: SearchRequest, s: AccessScope) -> SearchResult:
    """The one call the search page makes (the scoped, audited use case); the searches run in
    parallel in the office's search workers (Office.search_ports)."""
    return search_records(state().office.search_ports(), request, s, now=now(), channel="web", plan=plan())
