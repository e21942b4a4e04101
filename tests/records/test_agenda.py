"""The agenda use case on a real catalogue: deadlines in the window, overdue items, holds, waiting files,
recent filings; everything filtered by the user's access."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from records import holds
from records.access import AccessScope
from records.agenda import DeadlineKind, agenda, deadlines
from records.filing import FilingRequest, file_document
from records.model import Confidentiality, ContractFields, InvoiceFields, Record, RecordId, User
from records.plan import Plan
from records.ports import PendingFile, Ports
from records.retention import decide
from tests.records.conftest import NOW

TODAY = date(2026, 3, 2)


def _file(ports: Ports, plan: Plan, name: str, record_class: str, **fields: object) -> Record:
    fields.setdefault("confidentiality", Confidentiality.INTERNAL)
    outcome = file_document(ports, plan, f"{name} {fields}".encode(), FilingRequest(
        original_name=name, record_class=record_class, actor="tina", **fields),  # type: ignore[arg-type]
        jurisdiction="SI", now=NOW)
    assert outcome.record_id is not None, outcome.reason
    return ports.catalog.get(RecordId(outcome.record_id))


def _kinds(items: object) -> list[tuple[str, str, date]]:
    return [(d.record.original_name, d.kind.value, d.day) for d in items]  # type: ignore[attr-defined]


def test_agenda_lists_deadlines_overdue_holds_and_recent(ports: Ports, plan: Plan, users: dict[str, User]) -> None:
    lease = _file(ports, plan, "lease.txt", "contracts", principal="cfo", details=ContractFields(
        parties=("Najem d.o.o.",), expiry=TODAY + timedelta(days=40), notice_days=30))
    missed = _file(ports, plan, "missed.txt", "contracts", principal="cfo", details=ContractFields(
        expiry=TODAY + timedelta(days=100), notice_days=120))
    _file(ports, plan, "ended.txt", "contracts", principal="cfo", details=ContractFields(
        expiry=TODAY - timedelta(days=5), notice_days=30))
    _file(ports, plan, "invoice.txt", "invoices", principal="cfo", details=InvoiceFields(
        issuer="Elektro", amount=Decimal("12.50"), due_date=TODAY - timedelta(days=3)))
    _file(ports, plan, "secret.txt", "contracts", principal="cfo", confidentiality=Confidentiality.SECRET,
          details=ContractFields(expiry=TODAY + timedelta(days=10)))
    _file(ports, plan, "ceo.txt", "contracts", principal="ceo", details=ContractFields(
        expiry=TODAY + timedelta(days=12)))
    holds.place_hold(ports, AccessScope.of(users["tina"]), lease.id, "Spor z najemodajalcem", now=NOW)

    vid = AccessScope.of(users["vid"])  # viewer: internal clearance, principal cfo only
    seen = agenda(ports.catalog, plan, vid, jurisdiction="SI", today=TODAY,
                  unsorted=[PendingFile("a.pdf", "a.pdf", NOW, 1)], rejected=[PendingFile("b.pdf", "b.pdf", NOW, 1)])
    assert _kinds(seen.upcoming) == [("lease.txt", "notice", TODAY + timedelta(days=10))]
    assert _kinds(seen.overdue) == [("missed.txt", "notice", TODAY - timedelta(days=20)),
                                    ("invoice.txt", "invoice_due", TODAY - timedelta(days=3))]
    assert [h.record.id for h in seen.holds] == [lease.id] and seen.holds[0].hold.reason == "Spor z najemodajalcem"
    assert seen.unsorted == () and seen.rejected == ()  # a viewer does not file: no waiting files
    assert {r.original_name for r in seen.recent} == {"lease.txt", "missed.txt", "ended.txt", "invoice.txt"}
    assert missed.id in {r.id for r in seen.recent}

    tina = AccessScope.of(users["tina"])  # secretary: secret clearance, every principal
    full = agenda(ports.catalog, plan, tina, jurisdiction="SI", today=TODAY,
                  unsorted=[PendingFile("a.pdf", "a.pdf", NOW, 1)], rejected=[PendingFile("b.pdf", "b.pdf", NOW, 1)])
    assert _kinds(full.upcoming) == [("secret.txt", "expiry", TODAY + timedelta(days=10)),
                                     ("lease.txt", "notice", TODAY + timedelta(days=10)),
                                     ("ceo.txt", "expiry", TODAY + timedelta(days=12))]
    assert len(full.unsorted) == 1 and len(full.rejected) == 1
    assert len(full.recent) == 6


def test_retention_reviews_fall_due_the_day_after_retention_ends(ports: Ports, plan: Plan) -> None:
    record = _file(ports, plan, "old-invoice.txt", "invoices", document_date=date(2014, 5, 1))
    until = decide(record, plan, jurisdiction="SI", now=TODAY).until
    assert until is not None
    before = deadlines([record], plan, jurisdiction="SI", today=until - timedelta(days=5))
    assert _kinds(before) == [("old-invoice.txt", DeadlineKind.RETENTION_REVIEW.value, until + timedelta(days=1))]
    scope = AccessScope.system()
    later = agenda(ports.catalog, plan, scope, jurisdiction="SI", today=until + timedelta(days=3))
    assert _kinds(later.overdue) == [("old-invoice.txt", "retention_review", until + timedelta(days=1))]
