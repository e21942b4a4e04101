"""Filing on a real home: no plaintext leaks, byte-exact round trip, duplicates, rejections, e-mail, registry numbers."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from records.access import AccessScope
from records.errors import RecordNotFound
from records.filing import FilingRequest, FilingStatus, clean_name, file_document
from records.model import Confidentiality, CorrespondenceFields, Direction, RecordId
from records.plan import Plan
from records.ports import IndexDoc, Ports, RecordFilter
from records.retrieval import read_original, read_text
from tests.records.conftest import NOW

CANARIES = ["Kvarkadabra", "Zlatorogovski", "Bukovniško", "Triglavnica"]
Scan = Callable[[Iterable[Path | str], Iterable[str]], list[str]]


def make_pdf(path: Path, lines: Sequence[str], *, title: str = "", pad_to: int = 0) -> Path:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    if title:
        pdf.setTitle(title)
    y = 800
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 16
    pdf.showPage()
    pdf.save()
    data = buf.getvalue()
    if pad_to > len(data):  # a PDF comment after %%EOF keeps the file valid and sets its size
        data += b"\n%" + b"x" * (pad_to - len(data) - 2)
    path.write_bytes(data)
    return path


@pytest.fixture
def isolated_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$TMPDIR for this test only, so a scan of it sees only what filing wrote there."""
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def _file(ports: Ports, plan: Plan, source: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    request = FilingRequest(original_name=source.name, actor="tina", **kwargs)  # type: ignore[arg-type]
    return file_document(ports, plan, source, request, jurisdiction="SI", now=NOW)


def test_filing_txt_and_pdf_leaves_no_plaintext(ports: Ports, plan: Plan, home_path: Path, tmp_path: Path,
                                                 isolated_tmp: Path, canary_scan: Scan) -> None:
    src = tmp_path / "src"
    src.mkdir()
    txt = src / "Pogodba_Kvarkadabra.txt"
    txt.write_text("Pogodba o dobavi: Bukovniško jezero, rok plačila 30 dni.\n", encoding="utf-8")
    pdf = make_pdf(src / "zapisnik-Triglavnica.pdf", ["Zapisnik seje uprave", "Sklep: Bukovnisko"],
                   title="Zlatorogovski zapisnik")
    out_txt = _file(ports, plan, txt, record_class="contracts", title="Zlatorogovski dogovor", principal="ceo")
    out_pdf = _file(ports, plan, pdf, record_class="00.4", principal="ceo")
    assert (out_txt.status, out_pdf.status) == (FilingStatus.FILED, FilingStatus.FILED)
    record = ports.catalog.get(out_pdf.record_id)
    assert record.title == "Zlatorogovski zapisnik" and record.media_type == "application/pdf"
    assert record.record_class == "00.4" and record.confidentiality is Confidentiality.CONFIDENTIAL
    assert canary_scan([src], CANARIES), "the scanner must see the plaintext sources (positive control)"
    hits = canary_scan([home_path, isolated_tmp], CANARIES + ["Bukovnisko", "Zapisnik seje"])
    assert hits == []


def test_round_trip_is_byte_exact(ports: Ports, plan: Plan, tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_bytes(("".join(map(chr, range(1, 0x2FF))) * 100 + "čšž õäöü\n").encode("utf-8"))
    outcome = _file(ports, plan, source, record_class="general")
    record, stream = read_original(ports, AccessScope.system("tina"), outcome.record_id, now=NOW)
    assert b"".join(stream) == source.read_bytes()
    assert record.size == source.stat().st_size and len(record.sha256) == 64
    assert read_text(ports, AccessScope.system("tina"), outcome.record_id, now=NOW).endswith("čšž õäöü\n")


def test_duplicate_is_reported_not_stored_twice(ports: Ports, plan: Plan, home_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "invoice.txt"
    source.write_text("Račun 2026-0042\n", encoding="utf-8")
    first = _file(ports, plan, source, record_class="invoices")
    copy = tmp_path / "copy of invoice.txt"
    copy.write_bytes(source.read_bytes())
    objects_before = sorted((home_path / "objects").rglob("*"))
    second = _file(ports, plan, copy, record_class="correspondence")
    assert second.status is FilingStatus.DUPLICATE and second.duplicate_of == first.record_id
    assert first.registry_number in second.reason
    assert len(ports.catalog.find()) == 1
    assert sorted((home_path / "objects").rglob("*")) == objects_before
    last = ports.catalog.audit_head()
    assert last is not None and last.event.outcome == "duplicate" and last.event.record_id == first.record_id


def test_unreadable_file_is_rejected_and_nothing_stored(ports: Ports, plan: Plan, home_path: Path,
                                                        tmp_path: Path) -> None:
    source = tmp_path / "broken.pdf"
    source.write_bytes(b"%PDF-1.7\n garbage \xff\xfe")
    outcome = _file(ports, plan, source, record_class="contracts")
    assert outcome.status is FilingStatus.REJECTED and outcome.reason.startswith("The PDF could not be read")
    assert outcome.record_id is None and ports.catalog.find() == []
    assert [p for p in (home_path / "objects").rglob("*") if p.is_file()] == []
    head = ports.catalog.audit_head()
    assert head is not None and head.event.outcome == "rejected"


def test_registry_numbers_run_per_class_and_year(ports: Ports, plan: Plan, tmp_path: Path) -> None:
    numbers = []
    for i, cls in enumerate(["invoices", "invoices", "contracts", "01.1"]):
        source = tmp_path / f"doc{i}.txt"
        source.write_text(f"document {i}\n", encoding="utf-8")
        numbers.append(_file(ports, plan, source, record_class=cls).registry_number)
    assert numbers == ["01.1-1/2026", "01.1-2/2026", "03.1-1/2026", "01.1-3/2026"]
    source = tmp_path / "next-year.txt"
    source.write_text("new year\n", encoding="utf-8")
    later = file_document(ports, plan, source, FilingRequest(original_name="n.txt", record_class="invoices"),
                          jurisdiction="SI", now=datetime(2027, 1, 2, tzinfo=timezone.utc))
    assert later.registry_number == "01.1-1/2027"


def test_defaults_title_class_and_retention(ports: Ports, plan: Plan, tmp_path: Path) -> None:
    source = tmp_path / "2026_03_board-notes.txt"
    source.write_text("x\n", encoding="utf-8")
    outcome = _file(ports, plan, source, document_date=date(2025, 7, 1), record_class="invoices")
    record = ports.catalog.get(outcome.record_id)
    assert record.title == "2026 03 board notes"
    assert record.retention_trigger == date(2025, 12, 31) and record.retention_until == date(2035, 12, 31)
    source.write_text("y\n", encoding="utf-8")
    unsorted = ports.catalog.get(_file(ports, plan, source).record_id)
    assert unsorted.record_class == "09" and unsorted.retention_until is None
    assert clean_name("Pogodba__ACME-2026.final.pdf") == "Pogodba ACME 2026 final"


def test_audit_entry_masks_the_name_and_commits_with_the_record(ports: Ports, plan: Plan, tmp_path: Path) -> None:
    source = tmp_path / "Kvarkadabra.txt"
    source.write_text("hello\n", encoding="utf-8")
    outcome = _file(ports, plan, source, record_class="general", title="Zlatorogovski")
    entries = [e for e in ports.catalog.audit_entries() if e.event.action == "record.file"]
    assert len(entries) == 1 and entries[0].event.record_id == outcome.record_id
    text = json.dumps(entries[0].to_json(), ensure_ascii=False)
    assert "Kvarkadabra" not in text and "Zlatorogovski" not in text
    details = dict(entries[0].event.details)
    assert details["name"].startswith("hmac:") and details["registry"] == outcome.registry_number


def test_email_files_attachments_as_linked_records(ports: Ports, plan: Plan, tmp_path: Path,
                                                   isolated_tmp: Path, home_path: Path, canary_scan: Scan) -> None:
    from email.message import EmailMessage
    msg = EmailMessage()
    msg["From"] = "Janez Novak <janez@example.si>"
    msg["To"] = "tajnistvo@example.si, Uprava <uprava@example.si>"
    msg["Subject"] = "Ponudba Kvarkadabra"
    msg["Message-ID"] = "<abc@example.si>"
    msg.set_content("Pošiljam ponudbo Triglavnica.\n")
    msg.add_attachment(b"Priloga Zlatorogovski\n", maintype="text", subtype="plain",
                       filename="priloga-Bukovnisko.txt")
    source = tmp_path / "mail.eml"
    source.write_bytes(bytes(msg))
    outcome = _file(ports, plan, source, record_class="correspondence")
    assert outcome.status is FilingStatus.FILED and len(outcome.children) == 1
    parent = ports.catalog.get(outcome.record_id)
    assert isinstance(parent.details, CorrespondenceFields)
    assert parent.details.direction is Direction.INCOMING
    assert parent.details.sender == "Janez Novak <janez@example.si>"
    assert parent.details.recipients == ("tajnistvo@example.si", "Uprava <uprava@example.si>")
    assert parent.details.message_id == "<abc@example.si>" and parent.title == "Ponudba Kvarkadabra"
    child = ports.catalog.get(outcome.children[0].record_id)
    assert child.parent_id == parent.id and child.original_name == "priloga-Bukovnisko.txt"
    assert ports.catalog.find(RecordFilter(parent_id=parent.id)) == [child]
    _, stream = read_original(ports, AccessScope.system(), child.id, now=NOW)
    assert b"".join(stream) == b"Priloga Zlatorogovski\n"
    source.unlink()
    assert canary_scan([home_path, isolated_tmp], CANARIES) == []


class BrokenIndex:
    """A search index whose disk is full: filing must still keep the record."""

    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        raise OSError("No space left on device")

    def remove(self, ids: Sequence[RecordId]) -> None:
        raise OSError("No space left on device")

    def search(self, *args: object) -> object:
        raise NotImplementedError

    def ids(self) -> set[RecordId]:
        return set()


def test_index_failure_keeps_the_record_and_says_so(ports: Ports, plan: Plan, tmp_path: Path) -> None:
    source = tmp_path / "a.txt"
    source.write_text("a\n", encoding="utf-8")
    outcome = _file(replace(ports, index=BrokenIndex()), plan, source)  # type: ignore[arg-type]
    assert outcome.status is FilingStatus.FILED and "strongroom reindex" in outcome.note
    assert ports.catalog.get(outcome.record_id).id == outcome.record_id


def test_timings_cover_every_step(ports: Ports, plan: Plan, tmp_path: Path) -> None:
    source = make_pdf(tmp_path / "t.pdf", ["timing"], pad_to=50_000)
    timings = _file(ports, plan, source).timings
    assert timings.total > 0 and abs(sum(timings.shares().values()) - 1.0) < 1e-9
    assert min(timings.mac, timings.extract, timings.seal_original, timings.catalog) > 0


def test_readers_outside_scope_get_the_same_answer_as_for_a_missing_id(ports: Ports, plan: Plan,
                                                                     tmp_path: Path, users: dict) -> None:  # type: ignore[type-arg]
    source = tmp_path / "secret.txt"
    source.write_text("s\n", encoding="utf-8")
    outcome = _file(ports, plan, source, record_class="contracts", principal="ceo")
    viewer = AccessScope.of(users["vid"])
    with pytest.raises(RecordNotFound) as hidden:
        read_original(ports, viewer, outcome.record_id, now=NOW)
    with pytest.raises(RecordNotFound) as missing:
        read_original(ports, viewer, RecordId("0" * 32), now=NOW)
    assert str(hidden.value).replace(outcome.record_id, "ID") == str(missing.value).replace("0" * 32, "ID")
    denied = [e for e in ports.catalog.audit_entries() if e.event.outcome == "denied"]
    assert [e.event.action for e in denied] == ["record.download", "record.download"]
