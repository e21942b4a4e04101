"""Issue 19 items 4-6 on a real home: justification and a second person by default, the review queue,
E-ARK transfer, matter holds, permanent and waiting records in every list, certificates a records officer
can sign and verify offline."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from records import disposition, matters, review, safeguards, transfer
from records.access import AccessScope
from records.errors import DispositionRefused, RecordsError
from records.filing import FilingRequest, file_document
from records.holds import place_hold
from records.model import RecordId, State
from records.plan import Action, Plan
from records.ports import Ports
from records.retention import Status
from tests.records.conftest import NOW, one_person
from tests.records.test_cli import cli_home, run  # noqa: F401 - the CLI fixture
from vault.signing import signature_valid

LATER = date(2040, 1, 1)
WHY = "The five-year period of the plan ended; checked against the register"

ROOT = Path(__file__).resolve().parents[2]


def _file(ports: Ports, plan: Plan, tmp_path: Path, name: str, text: str, **kwargs: Any) -> RecordId:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    outcome = file_document(ports, plan, source, FilingRequest(original_name=name, actor="tina", **kwargs),
                            jurisdiction="SI", now=NOW)
    assert outcome.record_id is not None
    return outcome.record_id


def _with_action(plan: Plan, code: str, action: Action) -> Plan:
    return replace(plan, classes=tuple(replace(c, action=action) if c.code == code else c for c in plan.classes))


@pytest.fixture
def letter(ports: Ports, plan: Plan, tmp_path: Path) -> RecordId:
    return _file(ports, plan, tmp_path, "letter.txt", "Dear Sir\n", record_class="correspondence",
                 document_date=date(2025, 5, 5), principal="ceo", title="Letter to Acme", parties=("Acme d.o.o.",))


def test_a_disposal_without_justification_is_refused_in_one_sentence(ports: Ports, plan: Plan, letter: RecordId,
                                                                     users: dict) -> None:  # type: ignore[type-arg]
    one_person(ports)  # even an office of one must write down why
    with pytest.raises(DispositionRefused) as info:
        disposition.dispose(ports, plan, AccessScope.of(users["tina"]), [letter], reason="  ", jurisdiction="SI",
                            as_of=LATER, now=NOW)
    assert "written justification" in str(info.value) and str(info.value).count(". ") == 0
    assert ports.catalog.get(letter).state is State.ACTIVE


def test_the_second_person_is_required_by_default(ports: Ports, plan: Plan, letter: RecordId,
                                                  users: dict) -> None:  # type: ignore[type-arg]
    from web.settings import Settings
    assert Settings().require_second_approver is True and safeguards.current(ports.catalog).require_second_approver
    tina, marko = AccessScope.of(users["tina"]), AccessScope.of(users["marko"])
    result = disposition.dispose(ports, plan, tina, [letter], reason=WHY, jurisdiction="SI", as_of=LATER, now=NOW)
    assert result.status == "proposed" and ports.catalog.get(letter).state is State.ACTIVE
    assert result.proposal is not None and result.proposal.reason == WHY
    rows = disposition.proposal_rows(ports, plan, marko, result.proposal, jurisdiction="SI")
    assert [(r.title, r.record_class, r.until, r.basis.startswith("5 years")) for r in rows] == [
        ("Letter to Acme", "04.1", date(2030, 12, 31), True)]
    hidden = disposition.proposal_rows(ports, plan, AccessScope.of(users["vid"]), result.proposal, jurisdiction="SI")
    assert [r.title for r in hidden] == [""]  # a viewer who may not see the record does not learn its title
    done = disposition.approve(ports, plan, marko, result.proposal.proposal_id, jurisdiction="SI", now=NOW)
    body = done.certificate.body  # type: ignore[union-attr]
    assert (body["proposed_by"], body["approvers"], body["justification"], body["two_person_rule"]) == (
        "tina", ["marko"], WHY, "on")


def test_the_certificate_states_stub_basis_approvers_rule_and_backup_horizon(
        ports: Ports, plan: Plan, letter: RecordId, tmp_path: Path, users: dict,  # type: ignore[type-arg]
        capsys: pytest.CaptureFixture[str]) -> None:
    one_person(ports)
    safeguards.change(ports, AccessScope.system("ana"), "backup-keep-days", "45", now=NOW)
    result = disposition.dispose(ports, plan, AccessScope.of(users["tina"]), [letter], reason=WHY,
                                 jurisdiction="SI", as_of=LATER, now=NOW)
    cert = result.certificate
    assert cert is not None and cert.valid(signature_valid)
    body = cert.body
    assert body["format"] == "strongroom.destruction/v2" and body["two_person_rule"] == "off"
    assert body["justification"] == WHY and body["approvers"] == [] and body["proposed_by"] == "tina"
    assert (body["backup_keep_days"], body["gone_from_backups_after"]) == (45, "2026-04-16")
    line = body["records"][0]
    assert {k: line[k] for k in ("registry_number", "record_class", "principal", "confidentiality", "document_date",
                                 "filed_by", "retention_until", "action")} == {
        "registry_number": ports.catalog.get(letter).registry_number, "record_class": "04.1", "principal": "ceo",
        "confidentiality": "internal", "document_date": "2025-05-05", "filed_by": "tina",
        "retention_until": "2030-12-31", "action": "destroy"}
    assert line["basis"].startswith("5 years") and "Acme" not in json.dumps(body)  # no title, no party

    from web.cli import main
    saved = tmp_path / "certificate.json"
    saved.write_text(json.dumps(cert.to_json()), encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["verify-export", str(saved)])
    assert info.value.code == 0 and "VERIFIED" in capsys.readouterr().out
    forged = cert.to_json()
    forged["certificate"]["two_person_rule"] = "on"
    saved.write_text(json.dumps(forged), encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["verify-export", str(saved)])
    assert info.value.code == 1 and "does not verify" in capsys.readouterr().out


def test_review_puts_the_record_in_a_queue_and_each_decision_is_audited(
        ports: Ports, plan: Plan, letter: RecordId, users: dict) -> None:  # type: ignore[type-arg]
    reviewed = _with_action(plan, "04.1", Action.REVIEW)
    tina = AccessScope.of(users["tina"])
    with pytest.raises(DispositionRefused, match="review queue"):
        disposition.dispose(ports, reviewed, tina, [letter], reason=WHY, jurisdiction="SI", as_of=LATER, now=NOW)
    assert [d.record_id for d in review.queue(ports, reviewed, jurisdiction="SI", as_of=LATER)] == [letter]

    kept = review.decide(ports, reviewed, tina, letter, review.Choice.KEEP, years=3, reason="Open claim",
                         jurisdiction="SI", as_of=LATER, now=NOW)
    assert (kept.old_until, kept.new_until) == (date(2030, 12, 31), date(2043, 1, 1))
    entry = [e for e in ports.catalog.audit_entries() if e.event.action == "review.decide"][-1]
    details = dict(entry.event.details)
    assert (details["decision"], details["retention_until.old"], details["retention_until.new"]) == (
        "keep", "2030-12-31", "2043-01-01")
    assert review.queue(ports, reviewed, jurisdiction="SI", as_of=LATER) == []
    assert disposition.plan_conflicts(ports, reviewed, jurisdiction="SI", as_of=LATER) == []  # not tampering

    later = date(2043, 1, 2)
    outcome = review.decide(ports, reviewed, tina, letter, review.Choice.DESTROY, reason="Claim settled",
                            jurisdiction="SI", as_of=later, now=NOW)
    assert outcome.status == "proposed" and outcome.disposal is not None  # the two-person rule still applies
    assert [e.event.action for e in ports.catalog.audit_entries()][-2:] == ["review.decide", "disposal.propose"]


def test_transfer_writes_an_eark_sip_and_shreds_after_the_receipt(
        ports: Ports, plan: Plan, letter: RecordId, tmp_path: Path, users: dict) -> None:  # type: ignore[type-arg]
    handed = _with_action(plan, "04.1", Action.TRANSFER)
    tina = AccessScope.of(users["tina"])
    with pytest.raises(DispositionRefused, match="strongroom transfer"):
        disposition.dispose(ports, handed, tina, [letter], reason=WHY, jurisdiction="SI", as_of=LATER, now=NOW)
    out = tmp_path / "archive"

    def write(package_id: str, files: list[tuple[str, bytes]]) -> None:
        for rel, data in files:
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_bytes(data)
    done = transfer.transfer(ports, handed, tina, [letter], write=write, office="Pisarna", jurisdiction="SI",
                             as_of=LATER, now=NOW)
    package = out / done[0].package_id
    assert (package / "representations/rep1/data/letter.txt").read_bytes() == b"Dear Sir\n"
    assert {p.name for p in package.rglob("*.xml")} >= {"METS.xml", "premis.xml", "dc.xml"}
    _assert_eark_valid(package)
    assert ports.catalog.get(letter).state is State.ACTIVE  # kept until the archive confirms

    with pytest.raises(RecordsError, match="--ref"):
        transfer.receipt(ports, handed, tina, letter, " ", jurisdiction="SI", as_of=LATER, now=NOW)
    cert = transfer.receipt(ports, handed, tina, letter, "ARS 2040/17", jurisdiction="SI", as_of=LATER, now=NOW)
    assert ports.catalog.get(letter).state is State.DISPOSED and ports.catalog.data_key(letter) is None
    assert cert.body["kind"] == "transfer" and cert.body["records"][0]["transfer"] == {
        "package": done[0].package_id, "receipt": "ARS 2040/17"}


def _assert_eark_valid(package: Path) -> None:
    """eark-validator 1.1.3 on the package, run from .venv-eark (tools/ensure-eark-validator.sh, part of
    `make test`): it pins lxml 5.1.0 and pyHanko needs a newer one, so it cannot live in .venv.
    Its rule SIP14 demands an un-namespaced NOTETYPE="IDENTIFICATIONCODE" on the note of every CREATOR agent,
    which includes the software agent whose note CSIP16 requires to be csip:NOTETYPE="SOFTWARE VERSION" and
    which the METS schema does not allow: no package can satisfy both, so SIP14 alone is tolerated."""
    python = ROOT / ".venv-eark" / "bin" / "python"
    assert python.exists(), "run `bash tools/ensure-eark-validator.sh` (make test does) to get eark-validator"
    done = subprocess.run([str(python), str(Path(__file__).with_name("eark_check.py")), str(package)],
                          capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["structure"] == "WellFormed", report
    assert report["schema"] == "VALID", report["schema_messages"]
    assert set(report["errors"]) <= {"SIP14"}, report["errors"]


def test_a_matter_hold_catches_records_filed_later(ports: Ports, plan: Plan, letter: RecordId, tmp_path: Path,
                                                   users: dict) -> None:  # type: ignore[type-arg]
    one_person(ports)
    tina = AccessScope.of(users["tina"])
    hold = matters.place(ports, plan, tina, matters.MatterQuery(party="acme", date_to=date(2025, 12, 31)),
                         "Acme v. Office, Ljubljana court", now=NOW)
    later = _file(ports, plan, tmp_path, "reply.txt", "Re: claim\n", record_class="correspondence",
                  document_date=date(2025, 6, 1), principal="ceo", parties=("ACME d.o.o.",))
    other = _file(ports, plan, tmp_path, "other.txt", "Hello\n", record_class="correspondence",
                  document_date=date(2025, 6, 1), principal="ceo", parties=("Beta",))
    assert [d.record_id for d in disposition.due(ports, plan, jurisdiction="SI", as_of=LATER)] == [other]
    held = {h.decision.record_id: h for h in disposition.held(ports, plan, jurisdiction="SI", as_of=LATER)}
    assert set(held) == {letter, later} and held[later].matter_holds[0].hold_id == hold.hold_id
    with pytest.raises(DispositionRefused, match=f"matter hold {hold.hold_id}"):
        disposition.dispose(ports, plan, tina, [later], reason=WHY, jurisdiction="SI", as_of=LATER, now=NOW)
    matters.release(ports, AccessScope.of(users["ana"]), hold.hold_id, reason="Judgment final", now=NOW)
    assert {d.record_id for d in disposition.due(ports, plan, jurisdiction="SI", as_of=LATER)} == {letter, later, other}
    assert [e.event.action for e in ports.catalog.audit_entries()].count("hold.matter.add") == 1


def test_permanent_and_waiting_records_appear_in_the_hold_and_due_lists(
        ports: Ports, plan: Plan, tmp_path: Path, users: dict) -> None:  # type: ignore[type-arg]
    tina = AccessScope.of(users["tina"])
    statute = _file(ports, plan, tmp_path, "statut.txt", "Statut\n", record_class="founding", principal="ceo")
    contract = _file(ports, plan, tmp_path, "nda.txt", "NDA\n", record_class="contracts", principal="ceo")
    for rid in (statute, contract):
        place_hold(ports, tina, rid, "Tax audit 2026", now=NOW)
    held = {h.decision.record_id: h.decision.status for h in disposition.held(ports, plan, jurisdiction="SI",
                                                                              as_of=LATER)}
    assert held == {statute: Status.PERMANENT, contract: Status.MISSING_TRIGGER}
    listed = {d.record_id: d.status for d in disposition.due_list(ports, plan, jurisdiction="SI", as_of=LATER)}
    assert listed == {statute: Status.PERMANENT, contract: Status.MISSING_TRIGGER}


def test_the_cli_names_scripts_rely_on(cli_home: Path, tmp_path: Path,  # noqa: F811
                                       capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / "old.txt"
    old.write_text("An old letter.\n", encoding="utf-8")
    code, out, err = run(["import", str(old), "--class", "correspondence", "--document-date", "2015-04-01",
                          "--json"], capsys)
    rid = json.loads(out)[0]["id"]
    code, _, err = run(["dispose", rid, "--yes"], capsys)
    assert code == 1 and err.count("\n") == 1 and "written justification" in err and "Traceback" not in err
    code, out, err = run(["dispose", rid, "--reason", WHY], capsys)
    assert code == 0 and "Proposed for destruction" in out and "strongroom approve" in out, err
    proposal = json.loads(run(["retention", "proposals", "--json"], capsys)[1])[0]
    assert proposal["justification"] == WHY and proposal["records"][0]["title"] == "old"
    code, _, err = run(["approve", proposal["proposal_id"]], capsys)  # the same person at the terminal
    assert code == 1 and "cannot approve" in err
    monkeypatch.setenv("STRONGROOM_USER_PASSWORD", "druga-oseba-geslo-123")
    assert run(["user", "add", "marko", "--role", "manager", "--clearance", "secret"], capsys)[0] == 0
    code, out, err = run(["approve", proposal["proposal_id"], "--as", "marko"], capsys)
    assert code == 0 and '"two_person_rule": "on"' in out, err
    code, out, _ = run(["hold", "add", "--party", "Acme", "--reason", "Court case 3/2026"], capsys)
    assert code == 0 and "Matter hold" in out
    code, out, _ = run(["hold", "list", "--json"], capsys)
    assert json.loads(out)["matter_holds"][0]["active"] is True
    code, out, _ = run(["review", "list", "--json"], capsys)
    assert code == 0 and json.loads(out) == []
    code, _, err = run(["transfer", rid, "-o", str(cli_home / "out")], capsys)
    assert code == 1 and "inside the home" in err
