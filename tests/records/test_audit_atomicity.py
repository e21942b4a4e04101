"""A change and its audit entry commit together: a failure between the two leaves both or neither.

Each test runs a change against the real SQLCipher catalogue wrapped so that its transaction's
audit append raises (standing for the process dying after the change was written and before its
entry was), then opens the home again from disk and checks that the change and its entry are
both there or both absent.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from records import accounts
from records.access import AccessScope
from records.amendment import edit_metadata
from records.audit import AuditEntry, AuditEvent
from records.disposition import dispose
from records.holds import place_hold, release_hold
from records.model import RecordId, Role, State
from records.plan import Plan
from records.ports import Ports
from tests.conftest import PASSPHRASE
from tests.records.conftest import NOW, one_person
from tests.records.test_disposition import LATER, letter  # noqa: F401  (`letter` is a fixture)
from tests.web.conftest import PASSWORD, Ticker, add_users, csrf_of, login
from vault import Home, check_password, open_home
from web.app import create_app
from web.blueprints import guard
from web.office import Office
from web.settings import Settings

SOURCES = Path(__file__).resolve().parents[2]


class Crash(Exception):
    """Stands for the process dying at this point."""


class _FailingTx:
    def __init__(self, tx: Any, catalog: FailingCatalog) -> None:
        self._tx = tx
        self._catalog = catalog

    def append_audit(self, event: AuditEvent) -> AuditEntry:
        self._catalog.appends += 1
        if self._catalog.appends == self._catalog.fail_at:
            raise Crash(f"died before writing the {event.action} entry")
        return self._tx.append_audit(event)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


class FailingCatalog:
    """The real catalogue, whose `fail_at`-th audit append (0: none) raises Crash inside its transaction."""

    def __init__(self, real: Any, fail_at: int = 1) -> None:
        self._real = real
        self.fail_at = fail_at
        self.appends = 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[_FailingTx]:
        with self._real.transaction() as tx:
            yield _FailingTx(tx, self)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def failing(ports: Ports, fail_at: int = 1) -> Ports:
    return replace(ports, catalog=FailingCatalog(ports.catalog, fail_at))


@contextlib.contextmanager
def reopened(home: Home) -> Iterator[Home]:
    """The same home opened again from disk: a second connection sees only what was committed."""
    again = open_home(home.path, PASSPHRASE)
    try:
        yield again
    finally:
        again.close()


def entries(home: Home, action: str, *, user: str | None = None,
            record_id: str | None = None) -> list[AuditEntry]:
    return [e for e in home.catalog.audit_entries() if e.event.action == action
            and (user is None or dict(e.event.details).get("user") == user)
            and (record_id is None or e.event.record_id == record_id)]


def both_or_neither(changed: bool, audited: bool, crashed: bool) -> None:
    assert changed == audited, f"change committed: {changed}, its audit entry: {audited}"
    assert changed is not crashed, "the test did not exercise the change it means to"


# ---- user accounts -------------------------------------------------------------------------


class ArmedOffice(Office):
    """The composition root whose ports can be swapped for failing ones mid-test."""

    armed: Ports | None = None

    @property
    def ports(self) -> Ports:
        return self.armed if self.armed is not None else super().ports


@pytest.fixture
def web_app(home: Home) -> Flask:
    add_users(home)
    settings = Settings.load({"home": home.path}, environ={})
    return create_app(ArmedOffice(home, settings), secret_key=b"test-only-secret-key-0123456789",
                      monotonic=Ticker())


def _arm(app: Flask, fail_at: int) -> None:
    """From now on the app's catalogue fails at its `fail_at`-th audit append (0: never)."""
    with app.app_context():
        office = guard.state().office
        assert isinstance(office, ArmedOffice)
        office.armed = failing(office.ports, fail_at)


def _post(client: FlaskClient, path: str, form_page: str, data: dict[str, str]) -> None:
    token = csrf_of(client, form_page)
    with contextlib.suppress(Crash):  # the app may answer 500 or let the failure through
        client.post(path, data={**data, "csrf_token": token})


@pytest.mark.parametrize("fail_at", [1, 0], ids=["crash", "no-crash"])
def test_disabling_a_user_commits_with_its_entry(web_app: Flask, home: Home, fail_at: int) -> None:
    client = web_app.test_client()
    assert login(client, "anna") == 302
    _arm(web_app, fail_at)
    _post(client, "/admin/users/vaatleja/disable", "/admin/users", {})
    with reopened(home) as again:
        user = again.catalog.get_user("vaatleja")
        assert user is not None
        both_or_neither(user.disabled, bool(entries(again, "user.disable", user="vaatleja")), bool(fail_at))


@pytest.mark.parametrize("fail_at", [1, 0], ids=["crash", "no-crash"])
def test_changing_a_password_commits_with_its_entry(web_app: Flask, home: Home, fail_at: int) -> None:
    client = web_app.test_client()
    assert login(client, "sekretarka") == 302
    _arm(web_app, fail_at)
    new = "an-even-longer-new-password"
    _post(client, "/account/password", "/account/password", {"current": PASSWORD, "new": new, "confirm": new})
    with reopened(home) as again:
        user = again.catalog.get_user("sekretarka")
        assert user is not None
        both_or_neither(check_password(user.password_hash, new),
                        bool(entries(again, "user.password", user="sekretarka")), bool(fail_at))


@pytest.mark.parametrize("fail_at", [1, 0], ids=["crash", "no-crash"])
def test_changing_a_role_commits_with_its_entry(ports: Ports, users: dict, home: Home,  # type: ignore[type-arg]
                                               fail_at: int) -> None:
    ana = AccessScope.of(users["ana"])
    with contextlib.suppress(Crash):
        accounts.change_role(failing(ports, fail_at), ana, "tina", role=Role.VIEWER, now=NOW)
    with reopened(home) as again:
        user = again.catalog.get_user("tina")
        assert user is not None
        both_or_neither(user.role is Role.VIEWER, bool(entries(again, "user.role", user="tina")), bool(fail_at))


# ---- holds, edits, disposition -----------------------------------------------------------


def _run(change: Callable[[Ports], object], ports: Ports, fail_at: int) -> None:
    with contextlib.suppress(Crash):
        change(failing(ports, fail_at))


@pytest.mark.parametrize("fail_at", [1, 0], ids=["crash", "no-crash"])
def test_placing_a_hold_commits_with_its_entry(ports: Ports, users: dict, home: Home,  # type: ignore[type-arg]
                                              letter: RecordId, fail_at: int) -> None:  # noqa: F811
    tina = AccessScope.of(users["tina"])
    _run(lambda p: place_hold(p, tina, letter, "FURS tax audit", now=NOW), ports, fail_at)
    with reopened(home) as again:
        both_or_neither(again.catalog.get(letter).on_hold, bool(entries(again, "hold.add", record_id=letter)),
                        bool(fail_at))


@pytest.mark.parametrize("fail_at", [1, 0], ids=["crash", "no-crash"])
def test_releasing_a_hold_commits_with_its_entry(ports: Ports, users: dict, home: Home,  # type: ignore[type-arg]
                                                letter: RecordId, fail_at: int) -> None:  # noqa: F811
    tina = AccessScope.of(users["tina"])
    place_hold(ports, tina, letter, "FURS tax audit", now=NOW)
    _run(lambda p: release_hold(p, tina, letter, now=NOW, reason="audit closed"), ports, fail_at)
    with reopened(home) as again:
        released = not again.catalog.get(letter).on_hold
        both_or_neither(released, bool(entries(again, "hold.release", record_id=letter)), bool(fail_at))


@pytest.mark.parametrize("fail_at", [1, 0], ids=["crash", "no-crash"])
def test_an_edit_commits_with_its_entry(ports: Ports, plan: Plan, users: dict, home: Home,  # type: ignore[type-arg]
                                        letter: RecordId, fail_at: int) -> None:  # noqa: F811
    tina = AccessScope.of(users["tina"])
    _run(lambda p: edit_metadata(p, plan, tina, letter, {"title": "Dopis FURS"}, jurisdiction="SI", now=NOW),
         ports, fail_at)
    with reopened(home) as again:
        edited = again.catalog.get(letter).title == "Dopis FURS"
        both_or_neither(edited, bool(entries(again, "record.edit", record_id=letter)), bool(fail_at))


@pytest.mark.parametrize("fail_at", [1, 2, 0], ids=["crash-at-record-entry", "crash-at-run-entry", "no-crash"])
def test_a_disposition_commits_with_its_entries(ports: Ports, plan: Plan, users: dict,  # type: ignore[type-arg]
                                               home: Home, letter: RecordId, fail_at: int) -> None:  # noqa: F811
    tina = AccessScope.of(users["tina"])
    one_person(ports)
    _run(lambda p: dispose(p, plan, tina, [letter], reason="Retention ended", jurisdiction="SI", as_of=LATER,
                           now=NOW), ports, fail_at)
    with reopened(home) as again:
        destroyed = again.catalog.get(letter).state is State.DISPOSED
        assert destroyed == (again.catalog.data_key(letter) is None)
        audited = [bool(entries(again, "record.dispose", record_id=letter)),
                   bool(entries(again, "disposition.run"))]
        assert audited in ([True, True], [False, False])
        both_or_neither(destroyed, audited[0], bool(fail_at))


# ---- one write path ----------------------------------------------------------------------


def test_every_audit_entry_is_written_through_records_checkpoints() -> None:
    """Outside records/checkpoints.py (and the catalogue that implements it) nothing calls
    `append_audit`: every entry goes through `checkpoints.append` or `seal_run`."""
    allowed = {Path("records/checkpoints.py"), Path("records/ports.py"), Path("vault/catalog.py")}
    raw = []
    for package in ("records", "vault", "indexer", "web"):
        for path in sorted((SOURCES / package).rglob("*.py")):
            relative = path.relative_to(SOURCES)
            if relative not in allowed and re.search(r"\.append_audit\(", path.read_text(encoding="utf-8")):
                raw.append(str(relative))
    assert raw == []
