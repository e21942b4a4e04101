"""The one audit-chain verifier and the verify use case, on a real home."""

from __future__ import annotations

from datetime import timedelta

import pytest

from records import checkpoints, verification
from records.access import AccessScope
from records.audit import GENESIS
from records.errors import AccessDenied, VerificationUnavailable
from records.events import event
from records.model import Confidentiality, Role, User
from records.ports import Ports
from tests.records.conftest import NOW
from vault import Home
from vault.signing import signature_valid

SYSTEM = AccessScope.system("system:test")


def _tick(ports: Ports, n: int, every: int = 3) -> None:
    with ports.catalog.transaction() as tx:
        for i in range(n):
            checkpoints.append(tx, ports.signer, event("test.tick", actor="ana", now=NOW + timedelta(seconds=i)),
                               every=every)


def test_a_missing_signature_check_is_an_error_never_a_pass(ports: Ports) -> None:
    _tick(ports, 4)
    assert ports.catalog.checkpoints(), "the chain has a signed checkpoint to check"
    with pytest.raises(VerificationUnavailable, match="cannot be checked"):
        checkpoints.ChainVerifier(None)
    with pytest.raises(VerificationUnavailable):
        checkpoints.verify_chain(ports.catalog, ports.signer.public_key(), None)
    looked: list[str] = []

    def storage() -> verification.VerifyReport:
        looked.append("objects")
        return verification.VerifyReport()
    with pytest.raises(VerificationUnavailable):
        verification.verify(ports, SYSTEM, storage=storage, signature_valid=None, now=NOW)
    assert looked == []  # refused before reading a single object
    assert [e.event.action for e in ports.catalog.audit_entries()][-1] == "test.tick"  # and wrote nothing


def test_the_verifier_names_forged_and_unmatched_checkpoints(ports: Ports) -> None:
    _tick(ports, 7)
    cps = ports.catalog.checkpoints()
    verifier = checkpoints.ChainVerifier(signature_valid)
    assert verifier.walk(ports.catalog.audit_documents()) is None
    key = ports.signer.public_key()
    assert {verifier.judge(cp, key) for cp in cps} == {checkpoints.Verdict.SOUND}
    assert verifier.judge(cps[0], b"\x01" * 32) is checkpoints.Verdict.FORGED
    other = type(cps[0])(size=cps[0].size, head="0" * 64, ts=cps[0].ts, signature=cps[0].signature)
    assert verifier.judge(other, key) is checkpoints.Verdict.UNMATCHED
    # An export's slice: walked from an anchor, the same verifier, the same judgement.
    docs = list(ports.catalog.audit_documents())
    anchor = docs[1]
    sliced = checkpoints.ChainVerifier(signature_valid)
    assert sliced.walk(docs[2:], after=anchor["seq"], after_hash=anchor["hash"]) is None
    assert sliced.walk(docs[3:], after=anchor["seq"], after_hash=anchor["hash"]) == (
        f"audit entry {anchor['seq'] + 1} is missing (found {anchor['seq'] + 2} instead)")
    assert checkpoints.ChainVerifier(signature_valid).walk(docs[1:], after=0, after_hash=GENESIS) == (
        "audit entry 1 is missing (found 2 instead)")


def test_a_checkpoint_text_parses_back_only_when_exact(ports: Ports) -> None:
    _tick(ports, 3)
    cp = ports.catalog.checkpoints()[0]
    text = checkpoints.checkpoint_text(cp)
    assert checkpoints.parse_checkpoint(text, cp.signature) == cp
    for bad in (text.replace(b"strongroom", b"elsewhere"), text + b"x", text.replace(b"Z\n", b"+00:00\n")):
        with pytest.raises(ValueError):
            checkpoints.parse_checkpoint(bad, cp.signature)


def test_verify_audits_the_run_and_marks_each_damaged_record(ports: Ports, home: Home) -> None:
    damaged = verification.VerifyReport(problems=("Record 1: damaged.",), damaged=(("rec-1", "original"),))
    report = verification.verify(ports, SYSTEM, storage=lambda: damaged, signature_valid=signature_valid, now=NOW)
    assert report.problems == ("Record 1: damaged.",) and not report.sound
    tail = list(ports.catalog.audit_entries())[-2:]
    assert [(e.event.action, e.event.outcome, e.event.record_id) for e in tail] == [
        ("vault.verify", "failed", None), ("record.damaged", "failed", "rec-1")]
    sound = verification.verify(ports, SYSTEM, storage=home.storage_report, signature_valid=signature_valid,
                                now=NOW)
    assert sound.sound and home.verify() == []
    viewer = AccessScope.of(User("vid", Role.VIEWER, Confidentiality.INTERNAL))
    with pytest.raises(AccessDenied):
        verification.verify(ports, viewer, storage=home.storage_report, signature_valid=signature_valid, now=NOW)
