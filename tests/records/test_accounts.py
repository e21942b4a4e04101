"""User accounts as use cases: first admin, disable, role and password changes, each with its checks
and its audit entry; and the `strongroom user disable|set-role` commands on a real home."""

from __future__ import annotations

from pathlib import Path

import pytest

from records import accounts
from records.access import AccessScope
from records.errors import AccessDenied, RecordsError
from records.model import Confidentiality, Role, User
from records.ports import Ports
from tests.conftest import PASSPHRASE
from tests.records.conftest import NOW
from tests.records.test_cli import cli_home, run  # noqa: F401  (`cli_home` is a fixture)
from vault import open_home

SYSTEM = AccessScope.system("system:cli")


def _last(ports: Ports, action: str) -> dict[str, str]:
    entry = [e for e in ports.catalog.audit_entries() if e.event.action == action][-1]
    return {"actor": entry.event.actor, **dict(entry.event.details)}


def test_the_first_admin_is_created_once(ports: Ports) -> None:
    made = accounts.create_first_admin(ports, name="ana", password_hash="$argon2id$x", now=NOW,
                                       actor="system:cli")
    assert (made.role, made.clearance) == (Role.ADMIN, Confidentiality.SECRET)
    assert _last(ports, "user.add") == {"actor": "system:cli", "user": "ana", "role": "admin",
                                        "clearance": "secret"}
    with pytest.raises(AccessDenied, match="already has users"):
        accounts.create_first_admin(ports, name="bor", password_hash="$argon2id$x", now=NOW, actor="system:cli")
    assert ports.catalog.get_user("bor") is None


def test_disabling_a_user(ports: Ports, users: dict[str, User]) -> None:
    ana, tina = AccessScope.of(users["ana"]), AccessScope.of(users["tina"])
    with pytest.raises(AccessDenied):
        accounts.disable_user(ports, tina, "vid", now=NOW)
    with pytest.raises(accounts.UnknownUser):
        accounts.disable_user(ports, ana, "nobody", now=NOW)
    with pytest.raises(accounts.OwnAccount):
        accounts.disable_user(ports, ana, "ana", now=NOW)
    with pytest.raises(accounts.LastAdmin):
        accounts.disable_user(ports, SYSTEM, "ana", now=NOW)
    assert accounts.disable_user(ports, ana, "vid", now=NOW, channel="web").disabled
    stored = ports.catalog.get_user("vid")
    assert stored is not None and stored.disabled
    assert _last(ports, "user.disable") == {"actor": "ana", "user": "vid"}


def test_changing_a_role(ports: Ports, users: dict[str, User]) -> None:
    ana, tina = AccessScope.of(users["ana"]), AccessScope.of(users["tina"])
    with pytest.raises(AccessDenied):
        accounts.change_role(ports, tina, "vid", role=Role.ADMIN, now=NOW)
    with pytest.raises(accounts.OwnAccount):
        accounts.change_role(ports, ana, "ana", role=Role.VIEWER, now=NOW)
    with pytest.raises(accounts.LastAdmin):
        accounts.change_role(ports, SYSTEM, "ana", role=Role.VIEWER, now=NOW)
    kept = accounts.change_role(ports, ana, "vid", role=Role.AUDITOR, now=NOW)
    assert (kept.role, kept.clearance, kept.principals) == (Role.AUDITOR, Confidentiality.INTERNAL, ("cfo",))
    admin = accounts.change_role(ports, ana, "vid", role=Role.ADMIN, clearance=Confidentiality.PUBLIC,
                                 principals=(), now=NOW)
    assert (admin.clearance, admin.principals) == (Confidentiality.SECRET, ())  # an admin sees everything
    details = _last(ports, "user.role")
    assert details == {"actor": "ana", "user": "vid", "role": "admin", "clearance": "secret"}
    # With a second admin, the first may now be demoted (by someone else).
    accounts.change_role(ports, AccessScope.of(admin), "ana", role=Role.SECRETARY, principals=("ceo",), now=NOW)
    assert "cfo" not in _last(ports, "user.role")["principals"]  # principals are HMAC'd, never readable


def test_changing_ones_own_password(ports: Ports, users: dict[str, User]) -> None:
    tina = AccessScope.of(users["tina"])
    with pytest.raises(RecordsError, match="needs a password"):
        accounts.change_password(ports, tina, "", now=NOW)
    changed = accounts.change_password(ports, tina, "$argon2id$new", now=NOW, channel="web")
    stored = ports.catalog.get_user("tina")
    assert stored is not None and stored.password_hash == changed.password_hash == "$argon2id$new"
    assert _last(ports, "user.password") == {"actor": "tina", "user": "tina"}
    accounts.disable_user(ports, AccessScope.of(users["ana"]), "tina", now=NOW)
    with pytest.raises(AccessDenied):
        accounts.change_password(ports, tina, "$argon2id$newer", now=NOW)
    with pytest.raises(AccessDenied):
        accounts.change_password(ports, SYSTEM, "$argon2id$x", now=NOW)  # not a user: nothing to change


def test_user_disable_and_set_role_commands(cli_home: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    with open_home(cli_home, PASSPHRASE) as home:
        with home.catalog.transaction() as tx:
            tx.put_user(User("ana", Role.ADMIN, Confidentiality.SECRET))
            tx.put_user(User("vid", Role.VIEWER, Confidentiality.INTERNAL))
    code, out, err = run(["user", "set-role", "vid", "--role", "secretary", "--clearance", "confidential",
                          "--principal", "cfo"], capsys)
    assert code == 0, err
    assert out == "vid is now secretary (clearance confidential, principals cfo).\n"
    code, out, err = run(["user", "set-role", "ana", "--role", "viewer"], capsys)
    assert code == 1 and "last enabled administrator" in err and "Traceback" not in err
    code, out, err = run(["user", "disable", "vid"], capsys)
    assert (code, out) == (0, "Disabled vid.\n")
    code, _, err = run(["user", "disable", "nobody"], capsys)
    assert code == 1 and err.startswith("strongroom: There is no user nobody")
    with open_home(cli_home, PASSPHRASE) as home:
        vid = home.catalog.get_user("vid")
        assert vid is not None and vid.disabled and vid.role is Role.SECRETARY and vid.principals == ("cfo",)
        actions = [e.event.action for e in home.catalog.audit_entries()]
        assert actions.count("user.role") == 1 and actions.count("user.disable") == 1


def test_an_admin_resets_a_password_and_the_user_must_change_it(ports: Ports, users: dict[str, User]) -> None:
    ana, tina = AccessScope.of(users["ana"]), AccessScope.of(users["tina"])
    with pytest.raises(AccessDenied):
        accounts.reset_password(ports, tina, "marko", "$argon2id$t", now=NOW)
    with pytest.raises(accounts.UnknownUser):
        accounts.reset_password(ports, ana, "nobody", "$argon2id$t", now=NOW)
    reset = accounts.reset_password(ports, ana, "tina", "$argon2id$temporary", now=NOW, channel="web")
    stored = ports.catalog.get_user("tina")
    assert stored is not None and stored.must_change_password and stored.password_hash == "$argon2id$temporary"
    assert reset.must_change_password and _last(ports, "user.password.reset") == {"actor": "ana", "user": "tina"}
    assert [u.must_change_password for u in accounts.list_users(ports, ana) if u.name == "tina"] == [True]
    accounts.change_password(ports, tina, "$argon2id$own", now=NOW)
    stored = ports.catalog.get_user("tina")
    assert stored is not None and not stored.must_change_password


def test_reset_password_command_lets_a_locked_out_admin_back_in(cli_home: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from vault import check_password
    with open_home(cli_home, PASSPHRASE) as home:
        with home.catalog.transaction() as tx:
            tx.put_user(User("ana", Role.ADMIN, Confidentiality.SECRET, password_hash="$argon2id$forgotten"))
    monkeypatch.setenv("STRONGROOM_USER_PASSWORD", "short")
    code, _, err = run(["user", "reset-password", "ana"], capsys)
    assert code == 2 and "too short" in err
    monkeypatch.setenv("STRONGROOM_USER_PASSWORD", "a temporary password")
    code, out, err = run(["user", "reset-password", "ana"], capsys)
    assert code == 0, err
    assert out == "The password of ana was reset; ana must choose a new one at the next sign-in.\n"
    code, _, err = run(["user", "reset-password", "nobody"], capsys)
    assert code == 1 and err.startswith("strongroom: There is no user nobody")
    with open_home(cli_home, PASSPHRASE) as home:
        ana = home.catalog.get_user("ana")
        assert ana is not None and ana.must_change_password
        assert check_password(ana.password_hash, "a temporary password")
        assert [e.event.actor for e in home.catalog.audit_entries()
                if e.event.action == "user.password.reset"] == ["system:cli"]
