"""Holds, disposition and certificates on a real home; amendments, registers, users and the audit chain."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from records import certificates
from records.access import AccessScope
from records.accounts import add_user, list_users
from records.amendment import edit_metadata
from records.checkpoints import append, verify_chain
from records.disposition import approve, dispose, due, proposals, review
from records.errors import AccessDenied, DispositionRefused, RecordsError
from records.events import event
from records.filing import FilingRequest, file_document
from records.holds import place_hold, release_hold
from records.model import ContractFields, CorrespondenceFields, Direction, RecordId, Role, State
from records.plan import Plan
from records.ports import Ports
from records.registers import contracts, correspondence
from records.retention import Status
from records.retrieval import read_original, view_record
from tests.records.conftest import NOW, one_person
from vault import Home
from vault.signing import signature_valid

LATER = date(2040, 1, 1)
WHY = "Retention under the plan ended; checked by the records officer"


def _file(ports: Ports, plan: Plan, tmp_path: Path, name: str, text: str, **kwargs: object) -> RecordId:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    outcome = file_document(ports, plan, source, FilingRequest(original_name=name, actor="tina", **kwargs),  # type: ignore[arg-type]
                            jurisdiction="SI", now=NOW)
    assert outcome.record_id is not None
    return outcome.record_id


@pytest.fixture
def letter(ports: Ports, plan: Plan, tmp_path: Path) -> RecordId:
    """General correspondence dated 2025: kept to 2030-12-31 in SI, due in 2040."""
    return _file(ports, plan, tmp_path, "letter.txt", "Dear Sir\n", record_class="correspondence",
                 document_date=date(2025, 5, 5), principal="ceo")


def test_hold_blocks_disposition_and_release_lets_it_through(ports: Ports, plan: Plan, letter: RecordId,
                                                            users: dict, home: Home) -> None:  # type: ignore[type-arg]
    tina = AccessScope.of(users["tina"])
    one_person(ports)
    assert [d.record_id for d in due(ports, plan, jurisdiction="SI", as_of=LATER)] == [letter]
    hold = place_hold(ports, tina, letter, "FURS tax audit 2026", now=NOW)
    assert due(ports, plan, jurisdiction="SI", as_of=LATER) == []
    with pytest.raises(DispositionRefused, match="legal hold blocks"):
        dispose(ports, plan, tina, [letter], reason=WHY, jurisdiction="SI", as_of=LATER, now=NOW)
    assert ports.catalog.get(letter).state is State.ACTIVE
    released = release_hold(ports, tina, letter, now=NOW, reason="Audit closed")
    assert released.hold_id == hold.hold_id and not ports.catalog.get(letter).on_hold
    result = dispose(ports, plan, tina, [letter], reason=WHY, jurisdiction="SI", as_of=LATER, now=NOW)
    assert result.status == "disposed" and result.certificate is not None
    assert home.verify() == []


def test_not_yet_due_is_refused_with_the_reason(ports: Ports, plan: Plan, letter: RecordId,
                                                users: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(DispositionRefused, match=r"Nothing was destroyed.*Kept until 2030-12-31"):
        dispose(ports, plan, AccessScope.of(users["tina"]), [letter], reason=WHY, jurisdiction="SI",
                as_of=date(2030, 12, 31), now=NOW)
    with pytest.raises(AccessDenied):
        dispose(ports, plan, AccessScope.of(users["marko"]), [letter], reason=WHY, jurisdiction="SI", as_of=LATER,
                now=NOW)


def test_disposed_record_cannot_be_read_and_leaves_a_stub_and_certificate(
        ports: Ports, plan: Plan, letter: RecordId, users: dict, home_path: Path) -> None:  # type: ignore[type-arg]
    tina = AccessScope.of(users["tina"])
    one_person(ports)
    original = ports.catalog.get(letter)
    result = dispose(ports, plan, tina, [letter], reason=WHY, jurisdiction="SI", as_of=LATER, now=NOW)
    stub = view_record(ports, tina, letter, now=NOW)
    assert stub.state is State.DISPOSED and stub.disposed_at == NOW
    assert stub.registry_number == original.registry_number and stub.record_class == "04.1"
    assert (stub.title, stub.original_name, stub.sha256, stub.blobs, stub.details) == ("", "", "", (), None)
    assert ports.catalog.data_key(letter) is None
    assert [p for p in (home_path / "objects").rglob("*") if p.is_file()] == []
    with pytest.raises(AccessDenied, match="disposed of"):
        read_original(ports, tina, letter, now=NOW)
    cert = certificates.load(ports.catalog, result.certificate.certificate_id)  # type: ignore[union-attr]
    assert cert.valid(signature_valid)
    line = cert.body["records"][0]
    assert line["registry_number"] == original.registry_number and line["retention_until"] == "2030-12-31"
    assert "letter" not in str(cert.body)
    tampered = certificates.Certificate(cert.certificate_id, dict(cert.body, approvers=["mallory"]),
                                        cert.signature, cert.public_key)
    assert not tampered.valid(signature_valid)
    run = [e for e in ports.catalog.audit_entries() if e.event.action == "disposition.run"]
    assert len(run) == 1 and ports.catalog.checkpoints()[-1].head == run[0].hash
    assert [e.event.action for e in ports.catalog.audit_entries()][-2:] == ["record.view", "record.download"]
    assert verify_chain(ports.catalog, ports.signer.public_key(), signature_valid) == []


def test_second_approver(ports: Ports, plan: Plan, letter: RecordId, users: dict) -> None:  # type: ignore[type-arg]
    tina, marko = AccessScope.of(users["tina"]), AccessScope.of(users["marko"])
    result = dispose(ports, plan, tina, [letter], reason=WHY, jurisdiction="SI", as_of=LATER, now=NOW)
    assert result.status == "proposed" and ports.catalog.get(letter).state is State.ACTIVE
    proposal = result.proposal
    assert proposal is not None and [p.proposal_id for p in proposals(ports)] == [proposal.proposal_id]
    with pytest.raises(AccessDenied):  # a secretary cannot approve
        approve(ports, plan, tina, proposal.proposal_id, jurisdiction="SI", now=NOW)
    done = approve(ports, plan, marko, proposal.proposal_id, jurisdiction="SI", now=NOW)
    assert done.certificate is not None and done.certificate.body["approvers"] == ["marko"]
    assert ports.catalog.get(letter).state is State.DISPOSED and proposals(ports) == []


def test_proposer_cannot_approve_own_proposal(ports: Ports, plan: Plan, letter: RecordId, users: dict) -> None:  # type: ignore[type-arg]
    ana = AccessScope.of(users["ana"])
    result = dispose(ports, plan, ana, [letter], reason=WHY, jurisdiction="SI", as_of=LATER, now=NOW)
    with pytest.raises(DispositionRefused, match="cannot approve"):
        approve(ports, plan, ana, result.proposal.proposal_id, jurisdiction="SI", now=NOW)  # type: ignore[union-attr]


def test_edit_recomputes_retention_and_is_audited(ports: Ports, plan: Plan, tmp_path: Path, users: dict) -> None:  # type: ignore[type-arg]
    tina = AccessScope.of(users["tina"])
    rid = _file(ports, plan, tmp_path, "nda.txt", "NDA\n", record_class="contracts", principal="ceo")
    decisions = review(ports, plan, jurisdiction="SI", as_of=LATER)
    assert [d.status for d in decisions] == [Status.MISSING_TRIGGER]
    result = edit_metadata(ports, plan, tina, rid, {"expiry": "2027-06-30", "notice_days": "90",
                                                    "title": "NDA Acme"}, jurisdiction="SI", now=NOW)
    updated, note = result.record, result.note
    assert note == "" and updated.title == "NDA Acme"
    assert isinstance(updated.details, ContractFields) and updated.details.notice_days == 90
    assert updated.retention_until == date(2037, 6, 30)
    head = ports.catalog.audit_head()
    assert head is not None and dict(head.event.details)["fields"] == "expiry,notice_days,title"
    with pytest.raises(RecordsError, match="not a field of contract"):
        edit_metadata(ports, plan, tina, rid, {"employee": "x"}, jurisdiction="SI", now=NOW)
    with pytest.raises(RecordsError, match="must be a date"):
        edit_metadata(ports, plan, tina, rid, {"event.superseded": "soon"}, jurisdiction="SI", now=NOW)
    with pytest.raises(AccessDenied):
        edit_metadata(ports, plan, AccessScope.of(users["marko"]), rid, {"title": "x"}, jurisdiction="SI", now=NOW)


def test_registers(ports: Ports, plan: Plan, tmp_path: Path, users: dict) -> None:  # type: ignore[type-arg]
    _file(ports, plan, tmp_path, "c1.txt", "c1\n", record_class="contracts", principal="ceo",
          details=ContractFields(parties=("Acme",), expiry=date(2026, 6, 30), notice_days=90))
    _file(ports, plan, tmp_path, "c2.txt", "c2\n", record_class="contracts", principal="cfo",
          details=ContractFields(expiry=date(2029, 1, 1)))
    _file(ports, plan, tmp_path, "in.txt", "in\n", record_class="correspondence", principal="cfo",
          details=CorrespondenceFields(direction=Direction.INCOMING, sender="FURS"))
    _file(ports, plan, tmp_path, "out.txt", "out\n", record_class="04.1", principal="cfo",
          details=CorrespondenceFields(direction=Direction.OUTGOING, recipients=("FURS",)))
    admin = AccessScope.of(users["ana"])
    every = contracts(ports.catalog, admin, today=NOW.date())
    assert [e.notice_deadline for e in every] == [date(2026, 4, 1), None]
    soon = contracts(ports.catalog, admin, today=NOW.date(), expiring_within=60)
    assert [e.fields.parties for e in soon] == [("Acme",)]  # notice deadline in 30 days
    cfo_viewer = AccessScope.of(users["vid"])  # internal clearance, principal cfo only
    assert contracts(ports.catalog, cfo_viewer, today=NOW.date()) == []
    assert [e.direction for e in correspondence(ports.catalog, cfo_viewer)] == [Direction.INCOMING,
                                                                                 Direction.OUTGOING]
    assert len(correspondence(ports.catalog, admin, direction=Direction.OUTGOING)) == 1


def test_users_and_checkpoints(ports: Ports, users: dict) -> None:  # type: ignore[type-arg]
    ana = AccessScope.of(users["ana"])
    user = add_user(ports, ana, name="maja", role=Role.AUDITOR, password_hash="$argon2id$fake", now=NOW)
    assert user.clearance.value == "internal"
    assert "maja" in [u.name for u in list_users(ports, ana)]
    assert all(u.password_hash == "" for u in list_users(ports, ana))
    with pytest.raises(RecordsError, match="already a user"):
        add_user(ports, ana, name="maja", role=Role.VIEWER, password_hash="x", now=NOW)
    with pytest.raises(AccessDenied):
        add_user(ports, AccessScope.of(users["tina"]), name="x", role=Role.VIEWER, password_hash="x", now=NOW)
    with ports.catalog.transaction() as tx:
        for _ in range(5):
            append(tx, ports.signer, event("test.tick", actor="ana", now=NOW), every=3)
    sizes = [c.size for c in ports.catalog.checkpoints()]
    assert sizes and all(b - a >= 3 for a, b in zip([0, *sizes], sizes))
    assert verify_chain(ports.catalog, ports.signer.public_key(), signature_valid) == []
    assert verify_chain(ports.catalog, b"\x01" * 32, signature_valid) != []
