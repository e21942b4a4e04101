"""Each format's happy path, with files made by other tools, read through the real sandbox."""

from __future__ import annotations

import io
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path

import docx
import pytest
from odf import dc as odf_dc
from odf import meta as odf_meta
from odf.opendocument import OpenDocumentText
from odf.text import H, P
from reportlab.pdfgen import canvas

from indexer.extract.sandbox import SandboxedExtractor
from records.errors import ExtractionFailed

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "corpus" / "real"
SLOVENE = "Sklep o najemu poslovnih prostorov: člani sveta, šola, župan, ćevapčiči in đak."
ESTONIAN = "Volikogu otsus: õppeasutuse ümberkorraldamine, äriühing, Pärnu, šokolaad ja žürii."


def test_pdf_text_pages_and_document_info(extractor: SandboxedExtractor, tmp_path: Path) -> None:
    out = io.BytesIO()
    sheet = canvas.Canvas(out)
    sheet.setTitle("Lease agreement 2026")
    sheet.setAuthor("Municipality of Kranj")
    sheet.drawString(72, 750, "Lease agreement between the parties")
    sheet.showPage()
    sheet.drawString(72, 750, "Second page signature block")
    sheet.save()
    path = tmp_path / "lease.pdf"
    path.write_bytes(out.getvalue())
    result = extractor.extract(str(path), "lease.pdf")
    assert result.media_type == "application/pdf"
    assert result.pages == 2
    assert "Lease agreement between the parties" in result.text
    assert "Second page signature block" in result.text
    assert result.title == "Lease agreement 2026"
    assert result.author == "Municipality of Kranj"
    assert result.created == date.today()  # reportlab stamps the creation time
    assert result.note == ""


def test_docx_from_python_docx(extractor: SandboxedExtractor, tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "Zapisnik seje"
    document.core_properties.author = "Tajništvo"
    document.core_properties.created = datetime(2025, 3, 14, 9, 30)
    document.add_heading("Zapisnik", level=1)
    document.add_paragraph(SLOVENE)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Točka"
    table.cell(0, 1).text = "Sklep"
    document.sections[0].header.paragraphs[0].text = "Glava dokumenta"
    path = tmp_path / "zapisnik.docx"
    document.save(str(path))
    result = extractor.extract(str(path), "zapisnik.docx")
    assert SLOVENE in result.text
    assert "Točka" in result.text and "Glava dokumenta" in result.text
    assert (result.title, result.author, result.created) == ("Zapisnik seje", "Tajništvo", date(2025, 3, 14))
    assert result.media_type.endswith("wordprocessingml.document")


def test_odt_from_odfpy(extractor: SandboxedExtractor, tmp_path: Path) -> None:
    document = OpenDocumentText()
    document.meta.addElement(odf_dc.Title(text="Koosoleku protokoll"))
    document.meta.addElement(odf_meta.InitialCreator(text="Sekretär"))
    document.meta.addElement(odf_meta.CreationDate(text="2024-11-02T10:00:00"))
    document.text.addElement(H(outlinelevel=1, text="Protokoll"))
    document.text.addElement(P(text=ESTONIAN))
    path = tmp_path / "protokoll.odt"
    document.save(str(path))
    result = extractor.extract(str(path), "protokoll.odt")
    assert "Protokoll" in result.text and ESTONIAN in result.text
    assert (result.title, result.author, result.created) == ("Koosoleku protokoll", "Sekretär", date(2024, 11, 2))


def _email() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Janez Novak <janez@obcina.si>"
    message["To"] = "tajnistvo@obcina.si"
    message["Cc"] = "Mari Tamm <mari@vald.ee>"
    message["Subject"] = "Pogodba – podpis župana"
    message["Date"] = "Tue, 04 Nov 2025 10:15:00 +0100"
    message["Message-ID"] = "<abc@obcina.si>"
    message.set_content(SLOVENE + "\n" + ESTONIAN)
    return message


def test_email_headers_body_and_attachment(extractor: SandboxedExtractor, tmp_path: Path) -> None:
    message = _email()
    message.add_attachment("Priloga: seznam".encode("cp1250"), maintype="text", subtype="plain",
                           filename="seznam članov.txt")
    message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="scan.pdf")
    path = tmp_path / "mail.eml"
    path.write_bytes(message.as_bytes())
    result = extractor.extract(str(path), "mail.eml")
    headers = dict(result.headers)
    assert headers["from"] == "Janez Novak <janez@obcina.si>"
    assert headers["subject"] == "Pogodba – podpis župana"
    assert headers["cc"] == "Mari Tamm <mari@vald.ee>"
    assert headers["message-id"] == "<abc@obcina.si>"
    assert result.title == "Pogodba – podpis župana" and result.created == date(2025, 11, 4)
    assert SLOVENE in result.text and ESTONIAN in result.text
    assert [a.name for a in result.attachments] == ["seznam članov.txt", "scan.pdf"]
    assert result.attachments[1].data == b"%PDF-1.4 fake"
    assert "Priloga" not in result.text  # attachments are their own documents


def test_mbox_style_email_with_from_line(extractor: SandboxedExtractor) -> None:
    data = b"From janez@obcina.si Tue Nov  4 10:15:00 2025\n" + _email().as_bytes()
    result = extractor.extract_bytes(data, "saved.eml")
    assert result.title == "Pogodba \u2013 podpis \u017eupana" and SLOVENE in result.text


def test_html_only_email_becomes_text_without_scripts(extractor: SandboxedExtractor) -> None:
    message = _email()
    message.set_content("<html><head><style>p{}</style></head><body><p>Spoštovani,</p>"
                        "<script>steal()</script><p>lep pozdrav &amp; hvala</p>"
                        '<img src="http://tracker.example/x.png"></body></html>', subtype="html")
    result = extractor.extract_bytes(message.as_bytes(), "mail.eml")
    assert result.text == "Spoštovani,\nlep pozdrav & hvala"


@pytest.mark.parametrize(("encoding", "text"), [
    ("utf-8", SLOVENE), ("utf-8-sig", ESTONIAN), ("utf-16", SLOVENE), ("utf-16-be", None),
    ("cp1250", SLOVENE), ("cp1257", ESTONIAN),
])
def test_text_encodings_are_detected(extractor: SandboxedExtractor, encoding: str, text: str | None) -> None:
    if text is None:  # UTF-16 big-endian with its BOM
        data = b"\xfe\xff" + ESTONIAN.encode("utf-16-be")
        text = ESTONIAN
    else:
        data = (text + "\n" + text).encode(encoding)
    result = extractor.extract_bytes(data, "note.txt")
    assert result.text == text + ("" if data.startswith(b"\xfe\xff") else "\n" + text)
    assert result.media_type == "text/plain"


def test_estonian_cp1257_is_not_read_as_slovene(extractor: SandboxedExtractor) -> None:
    assert extractor.extract_bytes("Tere! Õun, äär, öö, üle, šarž.".encode("cp1257"), "t.txt").text \
        == "Tere! Õun, äär, öö, üle, šarž."
    assert extractor.extract_bytes("Čez šestnajst žab, ćao.".encode("cp1250"), "t.txt").text \
        == "Čez šestnajst žab, ćao."


@pytest.mark.parametrize(("name", "media", "needle"), [
    ("shared-mime-info-spec.pdf", "application/pdf", "Shared MIME-info Database"),
    ("libtasn1.pdf", "application/pdf", "Abstract Syntax Notation One"),
    ("styles.odt", "application/vnd.oasis.opendocument.text", "default table style"),
    ("cpython-msg_02.eml", "message/rfc822", "Send Ppp mailing list submissions"),
    ("cpython-msg_07.eml", "message/rfc822", "This is the dingus fish."),
])
def test_real_world_files(extractor: SandboxedExtractor, name: str, media: str, needle: str) -> None:
    result = extractor.extract(str(REAL / name), name)
    assert result.media_type == media
    assert needle in result.text


def test_real_digest_forwards_each_message_as_an_attachment(extractor: SandboxedExtractor) -> None:
    result = extractor.extract(str(REAL / "cpython-msg_02.eml"), "digest.eml")
    assert len(result.attachments) == 5
    assert all(a.data.strip() for a in result.attachments)


def test_unsupported_and_empty_files_are_filed_with_a_note(extractor: SandboxedExtractor) -> None:
    archive = b"7z\xbc\xaf\x27\x1c" + b"\x00" * 100
    assert extractor.extract_bytes(archive, "photos.7z").note == "no text: file type not supported"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    assert extractor.extract_bytes(png, "photo.png").media_type == "image/png"
    assert extractor.extract_bytes(b"", "empty.txt").note == "no text: the file is empty"


def test_missing_file_is_a_clear_failure(extractor: SandboxedExtractor, tmp_path: Path) -> None:
    with pytest.raises(ExtractionFailed, match="could not be opened"):
        extractor.extract(str(tmp_path / "gone.pdf"), "gone.pdf")
