"""Issue 17 items 2 and 6 and issue 19 item 2 as red-team probes: retention cut short by editing plan.toml or
strongroom.toml without the passphrase, and backdating through `edit`. Each runs the attack and checks the defence."""

from __future__ import annotations

import getpass
import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from records import safeguards
from records.access import AccessScope
from records.disposition import dispose
from records.errors import AccessDenied, SettingRefused
from records.filing import FilingRequest, file_document
from records.model import Confidentiality, Role, User
from records.plan import Period, Plan
from records.ports import Ports
from tests.records.conftest import NOW, one_person
from tests.records.test_cli import cli_home, run  # noqa: F401 - the fixture is used by name

TODAY = date.today()


def _shortened(text: str, code: str, *, years: int = 1, trigger: str | None = None) -> str:
    """plan.toml text with class `code` cut to `years` (and a clock, for a permanent class): the attack."""
    start = text.index(f'code = "{code}"')
    end = text.find("[[class]]", start)
    block = re.sub(r'years = ("permanent"|\d+)', f"years = {years}", text[start:end])
    if trigger:
        block = re.sub(r'trigger = "[^"]*"', f'trigger = "{trigger}"', block)
        block = block.replace('action = "permanent"', 'action = "destroy"')
    return text[:start] + block + text[end:]


def _import(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, cls: str, doc_date: str) -> str:
    path = tmp_path / name
    path.write_text(f"{name}\n", encoding="utf-8")
    code, out, err = run(["import", str(path), "--class", cls, "--document-date", doc_date, "--json"], capsys)
    assert code == 0, err
    return str(json.loads(out)[0]["id"])


def _audit(capsys: pytest.CaptureFixture[str], action: str) -> list[dict]:  # type: ignore[type-arg]
    code, out, _ = run(["audit", "log", "--json"], capsys)
    return [d for d in map(json.loads, out.splitlines()) if d["action"] == action]


def test_a_hand_edited_plan_changes_nothing_and_an_import_cannot_shorten_silently(
        cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19: cutting plan.toml by hand made board minutes destroyable and left no trace. The plan in
    force is now the catalogue's: the edit changes nothing (verify notes it); the same cut imported is
    shown, refused without a reason, audited with old and new values, and records keep their floor."""
    invoice = _import(tmp_path, capsys, "racun.txt", "invoices", f"{TODAY.year - 2}-05-05")  # 10 years
    founding = _import(tmp_path, capsys, "statut.txt", "founding", f"{TODAY.year - 2}-05-05")  # permanent
    plan = cli_home / "plan.toml"
    text = _shortened(plan.read_text(encoding="utf-8"), "01.1")
    plan.write_text(_shortened(text, "00.1", trigger="document_date"), encoding="utf-8")  # the attack

    code, out, err = run(["retention", "due", "--json"], capsys)
    assert code == 0 and [d for d in json.loads(out) if d["status"] == "due"] == [] and "Not due:" not in err  # the plan in force is unchanged
    code, out, _ = run(["plan", "show", "--json"], capsys)
    shown = {c["code"]: c for c in json.loads(out)["classes"]}
    assert json.loads(out)["version"] == 1 and shown["00.1"]["retention"]["SI"]["years"] == "permanent"
    code, out, _ = run(["verify"], capsys)
    assert code == 0 and "Note: plan.toml differs from the plan in force (version 1) and changes nothing" in out

    code, out, err = run(["plan", "import", str(plan), "--yes"], capsys)  # the same cut, through the front door
    assert code == 1 and "01.1 SI: 10 years -> 1 years" in out and "--reason" in err and "Traceback" not in err, err
    kept = f"kept until {TODAY.year + 8}-12-31"
    assert f"[01.1]: {kept} -> {kept} (shorter; the stored keep-until applies)" in out
    assert "[00.1]: permanent -> permanent (shorter; the stored keep-until applies)" in out
    assert json.loads(run(["plan", "show", "--json"], capsys)[1])["version"] == 1
    code, out, err = run(["plan", "import", str(plan), "--yes", "--reason", "Board decision 2026/4"], capsys)
    assert code == 1 and "second person" in err and "--approved-by" in err, err  # the two-person rule is on
    assert json.loads(run(["plan", "show", "--json"], capsys)[1])["version"] == 1
    monkeypatch.setenv("STRONGROOM_USER_PASSWORD", "a second person's password")
    assert run(["user", "add", "marko", "--role", "manager"], capsys)[0] == 0
    code, out, err = run(["plan", "import", str(plan), "--yes", "--reason", "Board decision 2026/4",
                          "--approved-by", "marko"], capsys)
    assert code == 0 and "The plan is now version 2 (was 1)." in out, err
    change = _audit(capsys, "plan.change")[-1]["details"]
    assert (change["01.1.retention.SI.years.old"], change["01.1.retention.SI.years.new"]) == ("10", "1")
    assert change["00.1.retention.SI.trigger.new"] == "document_date" and change["version"] == "2"
    assert change["sha256.old"] != change["sha256.new"] and change["reason"].startswith("hmac:")
    assert change["records.shortened"] == "2" and change["approver"] == "marko"

    code, out, err = run(["retention", "due", "--json"], capsys)
    assert code == 0 and [d for d in json.loads(out) if d["status"] == "due"] == []  # the stored schedule: not yet
    assert err.count("Not due:") == 2 and "stored schedule has no end date" in err
    for rid in (invoice, founding):
        code, _, err = run(["dispose", rid, "--reason", "Plan says so", "--yes"], capsys)
        assert code == 1 and "Nothing was destroyed" in err
    code, out, _ = run(["verify"], capsys)
    assert code == 0 and "class 01.1 earlier than their stored schedule" in out and "class 00.1" in out
    code, out, _ = run(["show", invoice, "--json"], capsys)
    assert json.loads(out)["retention_until"] == f"{TODAY.year + 8}-12-31"


def _with_period(plan: Plan, code: str, years: int) -> Plan:
    return replace(plan, classes=tuple(
        replace(c, retention=tuple((j, Period(years, "edited by hand")) for j, _ in c.retention))
        if c.code == code else c for c in plan.classes))


def test_the_certificate_shows_the_stored_period(ports: Ports, plan: Plan, tmp_path: Path) -> None:
    source = tmp_path / "letter.txt"
    source.write_text("Dear Sir\n", encoding="utf-8")
    outcome = file_document(ports, plan, source, FilingRequest(original_name="letter.txt", actor="tina",
                                                               record_class="correspondence",
                                                               document_date=date(2015, 5, 5)),
                            jurisdiction="SI", now=NOW)
    assert outcome.record_id is not None
    edited = _with_period(plan, "04.1", 1)  # plan.toml cut from 5 years to 1
    one_person(ports)
    result = dispose(ports, edited, AccessScope.system("ana"), [outcome.record_id], reason="Retention ended",
                     jurisdiction="SI",
                     as_of=date(2026, 1, 1), now=NOW)
    assert result.certificate is not None
    line = result.certificate.body["records"][0]
    assert line["retention_until"] == "2020-12-31" and line["basis"].startswith("5 years")


def test_strongroom_toml_cannot_switch_off_the_two_person_rule(cli_home: Path, tmp_path: Path,  # noqa: F811
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    toml = cli_home / "strongroom.toml"
    toml.write_text("require_second_approver = true\n", encoding="utf-8")
    old = _import(tmp_path, capsys, "dopis.txt", "correspondence", "2015-05-05")  # the first open seals "on"
    assert [(d["details"]["setting"], d["details"]["value"]) for d in _audit(capsys, "settings.seed")
            if d["details"]["setting"] == "require_second_approver"] == [("require_second_approver", "on")]
    toml.write_text("require_second_approver = false\n", encoding="utf-8")  # the attack: no passphrase needed
    code, out, err = run(["dispose", old, "--reason", "Retention ended", "--yes"], capsys)
    assert code == 0 and "Proposed for destruction" in out, err
    code, out, _ = run(["show", old, "--json"], capsys)
    assert json.loads(out)["state"] == "active"
    code, out, _ = run(["verify"], capsys)
    assert code == 3 and "strongroom.toml sets require_second_approver to off, but the sealed value is on" in out

    code, out, err = run(["settings", "set", "require-second-approver", "off"], capsys)
    assert code == 0 and "now off (was on)" in out, err
    change = _audit(capsys, "settings.change")[-1]["details"]
    assert (change["setting"], change["old"], change["new"]) == ("require_second_approver", "on", "off")
    assert run(["verify"], capsys)[0] == 0  # file and sealed value agree again
    code, out, _ = run(["settings", "show", "--json"], capsys)
    assert {r["setting"]: r["value"] for r in json.loads(out)}["require-second-approver"] == "off"
    code, _, err = run(["settings", "set", "login-attempts-per-minute", "none"], capsys)
    assert code == 1 and "whole number" in err


def test_backdating_needs_a_reason_and_is_audited_with_old_and_new_values(
        cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    rid = _import(tmp_path, capsys, "dopis.txt", "correspondence", "2025-05-05")
    assert run(["settings", "set", "require-second-approver", "off"], capsys)[0] == 0  # on by default now
    code, _, err = run(["edit", rid, "--set", "document_date=1990-01-01"], capsys)
    assert code == 1 and "--reason" in err and err.count("\n") == 1 and "Traceback" not in err
    code, out, _ = run(["show", rid, "--json"], capsys)
    assert json.loads(out)["document_date"] == "2025-05-05"

    code, out, err = run(["edit", rid, "--set", "document_date=1990-01-01", "--reason",
                          "The scan's date was misread"], capsys)
    assert code == 0, err
    entry = _audit(capsys, "record.edit")[-1]["details"]
    assert (entry["document_date.old"], entry["document_date.new"]) == ("2025-05-05", "1990-01-01")
    assert (entry["retention_until.old"], entry["retention_until.new"]) == ("2030-12-31", "1995-12-31")
    assert entry["reason"].startswith("hmac:") and entry["retention"] == "earlier"
    code, out, err = run(["edit", rid, "--set", "title=Dopis", "--json"], capsys)  # an ordinary edit, no reason
    assert code == 0, err
    changed = json.loads(out)["changes"]
    assert [c["field"] for c in changed] == ["title"] and changed[0]["new"] == "Dopis"
    assert _audit(capsys, "record.edit")[-1]["details"]["title.new"].startswith("hmac:")  # no title in the clear

    # With the two-person rule a justified backdating waits for a second person.
    monkeypatch.setenv("STRONGROOM_USER_PASSWORD", "a long password")
    assert run(["user", "add", "marko", "--role", "manager", "--clearance", "secret"], capsys)[0] == 0
    assert run(["settings", "set", "require-second-approver", "on"], capsys)[0] == 0
    other = _import(tmp_path, capsys, "drugi.txt", "correspondence", "2025-06-06")
    code, out, err = run(["edit", other, "--set", "document_date=1990-01-01", "--reason", "Misread",
                          "--json"], capsys)
    assert code == 0, err
    proposed = json.loads(out)
    assert proposed["edit_status"] == "proposed" and proposed["document_date"] == "2025-06-06"
    assert _audit(capsys, "record.edit.propose")[-1]["details"]["document_date.new"] == "1990-01-01"
    code, out, _ = run(["edits", "pending", "--json"], capsys)
    assert [p["id"] for p in json.loads(out)] == [proposed["edit_id"]] and json.loads(out)[0]["reason"] == "Misread"
    code, out, err = run(["edits", "approve", proposed["edit_id"], "--as", "marko"], capsys)
    assert code == 0 and "document_date 2025-06-06 -> 1990-01-01" in out, err
    approved = _audit(capsys, "record.edit")[-1]
    assert approved["actor"] == f"os:{getpass.getuser()}" and approved["details"]["approver"] == "marko"
    assert approved["details"]["identified_by"] == "password"  # the approver's password was checked
    assert json.loads(run(["show", other, "--json"], capsys)[1])["document_date"] == "1990-01-01"
    assert json.loads(run(["edits", "pending", "--json"], capsys)[1]) == []


def test_the_sealed_safeguards_seed_once_and_only_change_through_the_use_case(ports: Ports) -> None:
    assert safeguards.seed(ports.catalog, ports.signer, {"require_second_approver": True}, actor="t", now=NOW, source="x") == [
        "require_second_approver", "idle_lock_minutes", "login_attempts_per_minute", "backup_keep_days",
        "financial_year_end"]
    assert safeguards.seed(ports.catalog, ports.signer, {"require_second_approver": False}, actor="t", now=NOW, source="x") == []
    assert safeguards.current(ports.catalog).require_second_approver is True
    secretary = AccessScope.of(User("tina", Role.SECRETARY, Confidentiality.SECRET))
    with pytest.raises(AccessDenied, match="may not change"):
        safeguards.change(ports, secretary, "require-second-approver", "off", now=NOW)
    with pytest.raises(SettingRefused, match="not a sealed setting"):
        safeguards.change(ports, AccessScope.system(), "jurisdiction", "EE", now=NOW)
