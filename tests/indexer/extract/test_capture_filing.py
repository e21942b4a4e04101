"""New formats through the whole filing use case (the real sandbox, catalogue and index): a .msg's
attachments become linked records, a forwarded mail keeps its own date, a ligature is found as typed."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import date
from email.message import EmailMessage

import pytest
import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from records.access import AccessScope
from records.filing import FilingRequest, FilingStatus
from records.model import CorrespondenceFields
from records.ports import SearchRequest
from tests.indexer.extract.msgfile import msg_file
from tests.indexer.extract.test_capture import sample_msg
from vault import Home
from web.office import Office
from web.settings import Settings


@pytest.fixture
def office(home: Home) -> Iterator[Office]:
    yield Office(home, Settings(home=home.path))


def _file(office: Office, data: bytes, name: str, record_class: str = "correspondence"):  # type: ignore[no-untyped-def]
    outcome = office.file(data, FilingRequest(original_name=name, record_class=record_class, actor="tina"))
    assert outcome.status is FilingStatus.FILED, outcome.reason
    return outcome


def test_msg_is_filed_as_correspondence_with_linked_attachments(office: Office) -> None:
    outcome = _file(office, msg_file(sample_msg()), "posta.msg")
    record = office.ports.catalog.get(outcome.record_id)
    assert record.media_type == "application/vnd.ms-outlook" and record.title == "Najemna pogodba Kolibrij"
    assert record.document_date == date(2025, 3, 14)
    assert isinstance(record.details, CorrespondenceFields)
    assert record.details.sender == "Ana Novak <ana@podjetje.si>"
    assert record.details.recipients == ("Jaan Tamm <jaan@firma.ee>", "Peter Kos <peter@podjetje.si>",
                                         "Uprava <uprava@podjetje.si>")
    children = [office.ports.catalog.get(c.record_id) for c in outcome.children]
    assert [c.original_name for c in children] == ["pogodba.txt", "Fw: ponudba.eml"]
    assert all(c.parent_id == record.id for c in children)
    assert children[0].document_date == date(2025, 3, 14)  # a plain attachment: its message's date
    assert children[1].document_date == date(2024, 1, 10)  # a forwarded message: its own date
    for word, expected in (("triglavnica", children[0].id), ("bukovniska", children[1].id),
                           ("zlatorogovski", record.id)):
        hits = office.search(SearchRequest(word), AccessScope.system()).hits
        assert [h.record_id for h in hits] == [expected], word


def test_a_mail_forwarded_inside_an_eml_gets_its_own_date(office: Office) -> None:
    inner = EmailMessage()
    inner["From"], inner["To"], inner["Subject"] = "eva@ponudnik.si", "ana@podjetje.si", "Ponudba"
    inner["Date"] = "Wed, 10 Jan 2024 08:00:00 +0000"
    inner.set_content("Ponudba velja.")
    outer = EmailMessage()
    outer["From"], outer["To"], outer["Subject"] = "ana@podjetje.si", "uprava@podjetje.si", "Fw: Ponudba"
    outer["Date"] = "Fri, 14 Mar 2025 09:30:00 +0000"
    outer.set_content("Posredujem.")
    outer.add_attachment(inner)
    outer.add_attachment(b"priloga", maintype="text", subtype="plain", filename="priloga.txt")
    outcome = _file(office, bytes(outer), "fw.eml")
    dates = [office.ports.catalog.get(c.record_id).document_date for c in outcome.children]
    assert office.ports.catalog.get(outcome.record_id).document_date == date(2025, 3, 14)
    assert dates == [date(2024, 1, 10), date(2025, 3, 14)]


def test_a_word_printed_with_a_ligature_is_found_as_typed(office: Office) -> None:
    fonts = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    pdfmetrics.registerFont(TTFont("VeraLigatures", os.path.join(fonts, "Vera.ttf")))  # has U+FB01 "ﬁ"
    out = io.BytesIO()
    sheet = canvas.Canvas(out)
    sheet.setTitle("Microsoft Word - zapisnik.docx")
    sheet.setFont("VeraLigatures", 12)
    sheet.drawString(72, 750, "This memo is con\ufb01dential: \ufb01le it in the board's folder.")
    sheet.save()
    outcome = _file(office, out.getvalue(), "Zapisnik uprave.pdf", record_class=None)  # type: ignore[arg-type]
    record = office.ports.catalog.get(outcome.record_id)
    assert record.title == "Zapisnik uprave"  # the print dialogue's job name is no title
    for word in ("confidential", "file"):
        assert [h.record_id for h in office.search(SearchRequest(word), AccessScope.system()).hits] == [record.id]
