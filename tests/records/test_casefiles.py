"""Case files and the decisions register on a real home (issue 22 item 4): numbers, membership, closing
as the event that starts retention, reopening, holds that cover records added later, access, sealing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from records import casefile_closing, casefiles, decisions, disposition, matters
from records.access import AccessScope
from records.errors import AccessDenied, AmendmentRefused, DispositionRefused, RecordNotFound, RecordsError
from records.filing import FilingRequest, file_document
from records.model import Confidentiality, RecordId
from records.plan import Plan, load_default, parse_plan, default_plan_text
from records.ports import Ports
from records.retention import Status, decide
from tests.records.conftest import NOW, one_person

LATER = date(2040, 1, 1)
CANARY = "Zadevakanarček"


def _file(ports: Ports, plan: Plan, tmp_path: Path, name: str, **kwargs: Any) -> RecordId:
    source = tmp_path / name
    source.write_text(f"{name}\n", encoding="utf-8")
    kwargs.setdefault("principal", "ceo")
    outcome = file_document(ports, plan, source, FilingRequest(original_name=name, actor="tina", **kwargs),
                            jurisdiction="SI", now=NOW)
    assert outcome.record_id is not None
    return outcome.record_id


@pytest.fixture
def tina(users: dict) -> AccessScope:  # type: ignore[type-arg]
    return AccessScope.of(users["tina"])


def _hiring(ports: Ports, plan: Plan, tina: AccessScope, title: str = "Hiring a bookkeeper") -> casefiles.CaseFile:
    return casefiles.open_casefile(ports, plan, tina, title=title, record_class="applicants", principal="ceo",
                                   now=NOW, opened_on=date(2026, 2, 2))


def test_a_case_file_has_its_own_number_apart_from_the_records(ports: Ports, plan: Plan, tina: AccessScope,
                                                               tmp_path: Path) -> None:
    first, second = _hiring(ports, plan, tina), _hiring(ports, plan, tina, "Hiring a driver")
    assert (first.number, second.number) == ("Z-02.6-1/2026", "Z-02.6-2/2026")
    application = _file(ports, plan, tmp_path, "cv.txt", record_class="applicants")
    assert ports.catalog.get(application).registry_number == "02.6-1/2026"  # the records' sequence is untouched
    assert first.confidentiality is Confidentiality.CONFIDENTIAL and first.record_class == "02.6"
    assert casefiles.resolve(ports, tina, "Z-02.6-2/2026").casefile_id == second.casefile_id
    actions = [e.event.action for e in ports.catalog.audit_entries()]
    assert actions.count("casefile.open") == 2


def test_a_record_belongs_to_one_case_file(ports: Ports, plan: Plan, tina: AccessScope, tmp_path: Path) -> None:
    first, second = _hiring(ports, plan, tina), _hiring(ports, plan, tina, "Hiring a driver")
    cv = _file(ports, plan, tmp_path, "cv.txt", record_class="applicants")
    casefiles.add_record(ports, tina, first.casefile_id, cv, now=NOW)
    with pytest.raises(RecordsError, match="another case file"):
        casefiles.add_record(ports, tina, second.casefile_id, cv, now=NOW)
    with pytest.raises(RecordsError, match="already"):
        casefiles.add_record(ports, tina, first.casefile_id, cv, now=NOW)
    assert casefiles.casefile_of(ports, tina, ports.catalog.get(cv)) == casefiles.get(ports, tina, first.casefile_id)
    casefiles.remove_record(ports, tina, first.casefile_id, cv, now=NOW, reason="filed in the wrong case")
    casefiles.add_record(ports, tina, second.casefile_id, cv, now=NOW)
    assert casefiles.get(ports, tina, first.casefile_id).record_ids == ()
    entries = [(e.event.action, e.event.record_id) for e in ports.catalog.audit_entries()
               if e.event.action.startswith("casefile.")]
    assert entries[-3:] == [("casefile.add", cv), ("casefile.remove", cv), ("casefile.add", cv)]


def test_closing_starts_the_retention_of_the_classes_that_wait_for_it(ports: Ports, plan: Plan, tina: AccessScope,
                                                                      tmp_path: Path) -> None:
    hiring = _hiring(ports, plan, tina)
    cv = _file(ports, plan, tmp_path, "cv.txt", record_class="applicants")
    contract = _file(ports, plan, tmp_path, "contract.txt", record_class="contracts")
    for rid in (cv, contract):
        casefiles.add_record(ports, tina, hiring.casefile_id, rid, now=NOW)
    assert decide(ports.catalog.get(cv), plan, jurisdiction="SI", now=NOW).status is Status.MISSING_TRIGGER
    closed_on = NOW.date() - timedelta(days=1)
    hiring = casefiles.get(ports, tina, hiring.casefile_id)
    preview = {c.record.id: c for c in casefile_closing.preview_close(ports, plan, tina, hiring, closed_on,
                                                                      jurisdiction="SI", today=NOW.date())}
    assert preview[cv].starts and preview[cv].after.retention_until == date(2027, 3, 1)
    assert not preview[contract].starts and not preview[contract].changed
    assert ports.catalog.get(cv).retention_until is None  # a preview stores nothing
    result = casefile_closing.close(ports, plan, tina, hiring.casefile_id, closed_on, jurisdiction="SI", now=NOW)
    assert result.casefile.closed_on == closed_on
    stored = ports.catalog.get(cv)
    assert stored.retention_trigger == closed_on and stored.retention_until == date(2027, 3, 1)
    assert ports.catalog.get(contract).retention_until is None  # its clock waits for the contract's end
    with pytest.raises(RecordsError, match="closed"):
        casefiles.add_record(ports, tina, hiring.casefile_id, _file(ports, plan, tmp_path, "late.txt",
                                                                    record_class="applicants"), now=NOW)
    with pytest.raises(RecordsError, match="reason"):
        casefile_closing.reopen(ports, plan, tina, hiring.casefile_id, reason=" ", jurisdiction="SI", now=NOW)
    casefile_closing.reopen(ports, plan, tina, hiring.casefile_id, reason="The candidate appealed",
                            jurisdiction="SI", now=NOW)
    assert ports.catalog.get(cv).retention_until is None
    assert [h.action for h in casefiles.get(ports, tina, hiring.casefile_id).history] == ["opened", "closed", "reopened"]
    actions = [(e.event.action, e.event.record_id) for e in ports.catalog.audit_entries()]
    assert ("casefile.close.record", cv) in actions and ("casefile.reopen.record", cv) in actions
    assert ("casefile.close.record", contract) not in actions


def test_a_closing_far_back_that_makes_records_due_needs_a_reason_and_the_second_person(
        ports: Ports, plan: Plan, tina: AccessScope, tmp_path: Path) -> None:
    hiring = casefiles.open_casefile(ports, plan, tina, title="Hiring 2023", record_class="applicants",
                                     principal="ceo", now=NOW, opened_on=date(2023, 1, 10))
    cv = _file(ports, plan, tmp_path, "cv.txt", record_class="applicants")
    casefiles.add_record(ports, tina, hiring.casefile_id, cv, now=NOW)
    with pytest.raises(AmendmentRefused, match="justification"):
        casefile_closing.close(ports, plan, tina, hiring.casefile_id, date(2023, 6, 1), jurisdiction="SI", now=NOW)
    with pytest.raises(AmendmentRefused, match="two-person"):
        casefile_closing.close(ports, plan, tina, hiring.casefile_id, date(2023, 6, 1), jurisdiction="SI", now=NOW,
                               reason="Closed in 2023, entered late", require_second_approver=True)
    casefile_closing.close(ports, plan, tina, hiring.casefile_id, date(2023, 6, 1), jurisdiction="SI", now=NOW,
                           reason="Closed in 2023, entered late")
    assert ports.catalog.get(cv).retention_until == date(2024, 6, 1)


def test_a_hold_on_a_case_file_holds_records_added_after_it(ports: Ports, plan: Plan, tina: AccessScope,
                                                            tmp_path: Path) -> None:
    one_person(ports)
    hiring = _hiring(ports, plan, tina)
    hold = casefile_closing.hold(ports, plan, tina, hiring.casefile_id, "Discrimination claim by a candidate", now=NOW)
    late = _file(ports, plan, tmp_path, "late-cv.txt", record_class="applicants")
    outside = _file(ports, plan, tmp_path, "other-cv.txt", record_class="applicants")
    casefiles.add_record(ports, tina, hiring.casefile_id, late, now=NOW)
    casefile_closing.close(ports, plan, tina, hiring.casefile_id, NOW.date(), jurisdiction="SI", now=NOW)
    from records import lifecycle
    lifecycle.record_event(ports, plan, tina, outside, "case_closed", NOW.date(), jurisdiction="SI", now=NOW)
    assert [d.record_id for d in disposition.due(ports, plan, jurisdiction="SI", as_of=LATER)] == [outside]
    with pytest.raises(DispositionRefused, match=f"matter hold {hold.hold_id}"):
        disposition.dispose(ports, plan, tina, [late], reason="The year after the selection ended",
                            jurisdiction="SI", as_of=LATER, now=NOW)
    assert [h.hold_id for h in casefile_closing.holds_of(ports, hiring)] == [hold.hold_id]
    matters.release(ports, tina, hold.hold_id, reason="Claim withdrawn", now=NOW)
    assert {d.record_id for d in disposition.due(ports, plan, jurisdiction="SI", as_of=LATER)} == {late, outside}


def test_a_user_sees_no_case_file_record_or_count_beyond_their_access(ports: Ports, plan: Plan, tina: AccessScope,
                                                                      users: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    vid = AccessScope.of(users["vid"])  # a viewer: internal clearance, principal cfo only
    secret = _hiring(ports, plan, tina, "Hiring a new CEO")
    budget = casefiles.open_casefile(ports, plan, tina, title="Budget 2026", record_class="general", principal="cfo",
                                     now=NOW)
    public = _file(ports, plan, tmp_path, "plan.txt", record_class="general", principal="cfo")
    hidden = _file(ports, plan, tmp_path, "salaries.txt", record_class="general", principal="cfo",
                   confidentiality=Confidentiality.SECRET)
    for rid in (public, hidden):
        casefiles.add_record(ports, tina, budget.casefile_id, rid, now=NOW)
    rows = casefiles.listing(ports, vid)
    assert [(r.casefile.casefile_id, r.visible_records) for r in rows] == [(budget.casefile_id, 1)]
    budget = casefiles.get(ports, vid, budget.casefile_id)
    assert [r.id for r in casefiles.records_of(ports, vid, budget)] == [public]
    with pytest.raises(RecordNotFound):
        casefiles.get(ports, vid, secret.casefile_id)
    with pytest.raises(AccessDenied):
        casefiles.add_record(ports, vid, budget.casefile_id, public, now=NOW)
    with pytest.raises(AccessDenied, match="within your own access"):
        casefiles.open_casefile(ports, plan, AccessScope.of(users["vid"]).__class__(
            actor="vid", role=tina.role, clearance=Confidentiality.INTERNAL, principals=frozenset({"cfo"})),
            title="Not mine", record_class="general", principal="ceo", now=NOW)
    assert [r.casefile.casefile_id for r in casefiles.listing(ports, tina, show="closed")] == []
    assert {r.casefile.casefile_id for r in casefiles.listing(ports, tina, show="open")} == {secret.casefile_id,
                                                                                           budget.casefile_id}


def test_decisions_get_numbers_in_their_case_file_and_a_register(ports: Ports, plan: Plan, tina: AccessScope,
                                                                   users: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    hiring = _hiring(ports, plan, tina)
    first = _file(ports, plan, tmp_path, "decision-1.txt", record_class="applicants")
    second = _file(ports, plan, tmp_path, "decision-2.txt", record_class="applicants")
    one = decisions.issue(ports, tina, hiring.casefile_id, first, addressee="Ana Novak", subject="=Rejection",
                          issued_on=NOW.date(), now=NOW)
    two = decisions.issue(ports, tina, hiring.casefile_id, second, addressee="Ivo Kos", subject="Employment",
                          issued_on=NOW.date(), now=NOW)
    assert (one.number, two.number) == ("Z-02.6-1/2026-1", "Z-02.6-1/2026-2")
    assert set(casefiles.get(ports, tina, hiring.casefile_id).record_ids) == {first, second}  # they joined it
    with pytest.raises(RecordsError, match="already"):
        decisions.issue(ports, tina, hiring.casefile_id, first, addressee="X", subject="Y", issued_on=NOW.date(),
                        now=NOW)
    rows = decisions.register(ports, tina)
    assert [r.decision.number for r in rows] == [two.number, one.number]
    assert decisions.register(ports, AccessScope.of(users["vid"])) == []
    csv = b"".join(decisions.register_csv(rows)).decode("utf-8")
    assert csv.startswith("\ufeffnumber;issued_on;casefile_number") and "\r\n" in csv
    assert ";'=Rejection;" in csv  # a formula is neutralised
    assert [e.event.action for e in ports.catalog.audit_entries()].count("decision.issue") == 2


def test_case_files_and_decisions_are_sealed(home_path: Path, ports: Ports, plan: Plan, tina: AccessScope,
                                             tmp_path: Path,
                                             canary_scan: Callable[[Iterable[Path], Iterable[str]], list[str]]) -> None:
    hiring = _hiring(ports, plan, tina, f"{CANARY} hiring")
    record = _file(ports, plan, tmp_path, "d.txt", record_class="applicants")
    decisions.issue(ports, tina, hiring.casefile_id, record, addressee=f"{CANARY}adresat", subject=f"{CANARY}predmet",
                    issued_on=NOW.date(), now=NOW)
    assert canary_scan([home_path], [CANARY]) == []


def test_the_plan_says_which_classes_a_closing_starts() -> None:
    plan = load_default()
    assert {c.code for c in plan.classes if casefile_closing.closed_by_casefile(c)} == {"02.6"}
    marked = default_plan_text().replace('retention.EE = { years = 10, basis = "TsÜS § 157(1), (2)',
                                         'retention.EE = { years = 10, trigger = "event:case_closed", '
                                         'basis = "TsÜS § 157(1), (2)')
    assert casefile_closing.closed_by_casefile(parse_plan(marked).by_code()["03.3"])  # one country's own trigger


def test_a_filed_record_cannot_claim_a_case_file_through_its_metadata(ports: Ports, plan: Plan, tina: AccessScope,
                                                                      tmp_path: Path) -> None:
    hiring = _hiring(ports, plan, tina)
    claimed = _file(ports, plan, tmp_path, "sidecar.txt", record_class="applicants",
                    extra=((matters.CASEFILE_KEY, hiring.casefile_id), ("source", "scanner")))
    record = ports.catalog.get(claimed)
    assert dict(record.extra) == {"source": "scanner"}
    assert casefiles.casefile_of(ports, tina, record) is None


@pytest.mark.parametrize("fail_at", [1, 2, 0], ids=["crash-at-casefile-entry", "crash-at-record-entry", "no-crash"])
def test_a_closing_commits_with_its_entries_or_not_at_all(home: Any, ports: Ports, plan: Plan, tina: AccessScope,
                                                          tmp_path: Path, fail_at: int) -> None:
    from tests.records.test_audit_atomicity import _run, both_or_neither, entries, reopened
    hiring = _hiring(ports, plan, tina)
    cv = _file(ports, plan, tmp_path, "cv.txt", record_class="applicants")
    casefiles.add_record(ports, tina, hiring.casefile_id, cv, now=NOW)
    _run(lambda p: casefile_closing.close(p, plan, tina, hiring.casefile_id, NOW.date(), jurisdiction="SI", now=NOW),
         ports, fail_at)
    with reopened(home) as again:
        again_ports = Ports(blobs=again.blobs, catalog=again.catalog, signer=again.signer, extractor=ports.extractor)
        closed = casefiles.get(again_ports, tina, hiring.casefile_id).closed
        started = again.catalog.get(cv).retention_until is not None
        assert closed == started
        audited = [bool(entries(again, "casefile.close")), bool(entries(again, "casefile.close.record", record_id=cv))]
        assert audited in ([True, True], [False, False])
        both_or_neither(closed, audited[0], bool(fail_at))
