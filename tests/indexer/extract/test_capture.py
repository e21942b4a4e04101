"""Real file types by content (images, spreadsheets, Outlook .msg, signed containers), spreadsheet
and .msg text, text normalisation, and the PDF placeholder title, read through the real sandbox."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from reportlab.pdfgen import canvas

from indexer.extract.sandbox import SandboxedExtractor
from records.errors import ExtractionFailed
from tests.indexer.extract.msgfile import Message, compound_file, msg_file

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "corpus" / "real"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODS = "application/vnd.oasis.opendocument.spreadsheet"


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\0" + b"\xff\x00\x00" * 4 for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Računi 2025"
    sheet.append(["Dobavitelj", "Znesek", "Datum"])
    sheet.append(["Kolibrij d.o.o.", 1250.5, datetime(2025, 3, 14)])
    sheet.append(["Õunapuu OÜ", 42, None])
    second = book.create_sheet("Lepingud")
    second["B3"] = "Töölepingu lisa"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ods_bytes(rows: list[list[str]], sheet: str = "Seje") -> bytes:
    """An OpenDocument spreadsheet written by hand: the mimetype first and stored, then content.xml."""
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    body = "".join("<table:table-row>" + "".join(
        f'<table:table-cell office:value-type="string"><text:p>{cell}</text:p></table:table-cell>' for cell in row)
        + "</table:table-row>" for row in rows)
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
               f'<office:body><office:spreadsheet><table:table table:name="{sheet}">{body}</table:table>'
               "</office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type="' + ODS + '"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODS)  # stored, uncompressed, first
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def asice_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.etsi.asic-e+zip")
        archive.writestr("leping.txt", "Tööleping", compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", "<manifest/>", compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/signatures0.xml", "<asic:XAdESSignatures/>", compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


# ---- file types by content ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "make", "media"), [
    ("scan.jpg", lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200, "image/jpeg"),
    ("scan.png", _png, "image/png"),
    ("scan.tif", lambda: b"II*\x00\x08\x00\x00\x00" + b"\x00" * 200, "image/tiff"),
    ("scan-noext", lambda: b"MM\x00*\x00\x00\x00\x08" + b"\x00" * 200, "image/tiff"),
])
def test_images_and_containers_get_their_media_type_and_no_text(extractor: SandboxedExtractor, name: str,
                                                                 make: object, media: str) -> None:
    result = extractor.extract_bytes(make(), name)  # type: ignore[operator]
    assert result.media_type == media
    assert result.text == "" and result.note.startswith("no text")


def test_a_container_is_known_by_its_mimetype_member_and_read_by_the_signature_reader(
        extractor: SandboxedExtractor) -> None:
    """Detected as ASiC-E by content under either name; an unsigned or malformed one is refused by the
    container reader (test_signatures.py files real signed containers and their documents)."""
    for name in ("pogodba.asice", "pogodba.bdoc", "pogodba.zip"):
        with pytest.raises(ExtractionFailed, match="container"):
            extractor.extract_bytes(asice_bytes(), name)


def test_legacy_word_file_is_known_by_its_ole_streams(extractor: SandboxedExtractor) -> None:
    data = compound_file({"WordDocument": b"\x00" * 5000, "\x05SummaryInformation": b"\x00" * 100})
    result = extractor.extract_bytes(data, "zapisnik.doc")
    assert result.media_type == "application/msword" and result.note.startswith("no text")


# ---- spreadsheets ------------------------------------------------------------------------------


def test_xlsx_from_openpyxl(extractor: SandboxedExtractor) -> None:
    result = extractor.extract_bytes(xlsx_bytes(), "racuni.xlsx")
    assert result.media_type == XLSX
    lines = result.text.splitlines()
    assert lines[0] == "Računi 2025"
    assert "Kolibrij d.o.o.\t1250.5\t2025-03-14" in lines
    assert "Õunapuu OÜ\t42" in lines
    assert "Lepingud" in lines and "Töölepingu lisa" in lines


def test_xlsx_renamed_to_xls_is_read_as_what_it_is(extractor: SandboxedExtractor) -> None:
    result = extractor.extract_bytes(xlsx_bytes(), "racuni.xls")
    assert result.media_type == XLSX and "Kolibrij" in result.text
    assert "is an Excel workbook although its name ends in .xls" in result.note


def test_ods_built_by_hand(extractor: SandboxedExtractor) -> None:
    result = extractor.extract_bytes(ods_bytes([["Seja", "Datum"], ["Redna seja sveta", "14. 3. 2025"]]), "s.ods")
    assert result.media_type == ODS
    assert result.text.splitlines() == ["Seje", "Seja\tDatum", "Redna seja sveta\t14. 3. 2025"]


def test_real_legacy_xls(extractor: SandboxedExtractor) -> None:
    result = extractor.extract(str(REAL / "calamine-base.xls"), "base.xls")
    assert result.media_type == "application/vnd.ms-excel"
    assert result.text.startswith("Sheet1\nString\t1\t1.1\tTRUE\tFALSE\t2010-10-10")
    assert "Merged Cells" in result.text


def test_spreadsheet_text_is_capped_by_characters(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    for row in range(2000):
        book.active.append([f"vrstica {row}", "x" * 50])
    out = io.BytesIO()
    book.save(out)
    with SandboxedExtractor(workers=1, timeout_s=20, max_text_mb=0.05) as small:  # type: ignore[arg-type]
        result = small.extract_bytes(out.getvalue(), "big.xlsx")
    assert len(result.text) <= int(0.05 * 1024 * 1024)
    assert "text cut at the size limit" in result.note


# ---- Outlook .msg ------------------------------------------------------------------------------

SENT = datetime(2025, 3, 14, 9, 30, tzinfo=timezone.utc)


def sample_msg() -> Message:
    return Message(
        subject="Najemna pogodba Kolibrij", sender=("Ana Novak", "ana@podjetje.si"),
        to=[("Jaan Tamm", "jaan@firma.ee"), ("Peter Kos", "peter@podjetje.si")], cc=[("Uprava", "uprava@podjetje.si")],
        sent=SENT, body="Pozdravljeni,\nv prilogi je pogodba Zlatorogovski.\n", message_id="<m1@podjetje.si>",
        attachments=[("pogodba.txt", "Najemna pogodba Triglavnica št. 7".encode())],
        embedded=[Message(subject="Fw: ponudba", sender=("Eva Kralj", "eva@ponudnik.si"),
                          sent=datetime(2024, 1, 10, 8, 0, tzinfo=timezone.utc),
                          html=b"<html><body><p>Ponudba <b>Bukovniska</b> velja</p><script>x()</script></body></html>")])


def test_msg_mail_fields_body_and_attachments(extractor: SandboxedExtractor) -> None:
    result = extractor.extract_bytes(msg_file(sample_msg()), "posta.msg")
    assert result.media_type == "application/vnd.ms-outlook"
    headers = dict(result.headers)
    assert headers["from"] == "Ana Novak <ana@podjetje.si>" == result.author
    assert headers["to"] == "Jaan Tamm <jaan@firma.ee>, Peter Kos <peter@podjetje.si>"
    assert headers["cc"] == "Uprava <uprava@podjetje.si>"
    assert headers["subject"] == "Najemna pogodba Kolibrij" == result.title
    assert headers["message-id"] == "<m1@podjetje.si>"
    assert result.created == date(2025, 3, 14)
    assert "pogodba Zlatorogovski" in result.text
    assert [a.name for a in result.attachments] == ["pogodba.txt", "Fw: ponudba.eml"]
    assert result.attachments[0].data == "Najemna pogodba Triglavnica št. 7".encode()
    forwarded = extractor.extract_bytes(result.attachments[1].data, "Fw: ponudba.eml")
    assert forwarded.created == date(2024, 1, 10) and forwarded.text == "Ponudba Bukovniska velja"


def test_msg_with_only_an_rtf_body_says_so(extractor: SandboxedExtractor) -> None:
    message = Message(subject="RTF", sender=("A", "a@b.si"), rtf=b"\x00" * 32)
    result = extractor.extract_bytes(msg_file(message), "rtf.msg")
    assert result.text == "" and "compressed RTF" in result.note


# ---- normalisation and titles ------------------------------------------------------------------


def _pdf(lines: list[str], title: str = "") -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    out = io.BytesIO()
    sheet = canvas.Canvas(out)
    if title:
        sheet.setTitle(title)
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if font.exists():
        pdfmetrics.registerFont(TTFont("DejaVu", str(font)))
        sheet.setFont("DejaVu", 12)
    for row, line in enumerate(lines):
        sheet.drawString(72, 750 - 16 * row, line)
    sheet.save()
    return out.getvalue()


def test_ligatures_soft_hyphens_and_line_end_hyphenation_are_normalised(extractor: SandboxedExtractor) -> None:
    text = "Con\ufb01dential \uff21\uff22\uff23 pogod\u00adba\nsklenjena je naj-\nemna pogodba in Slovensko-\nEstonska"
    result = extractor.extract_bytes(text.encode("utf-8"), "note.txt")
    assert result.text == "Confidential ABC pogodba\nsklenjena je najemna pogodba in Slovensko-Estonska"


@pytest.mark.parametrize("title", ["untitled", "Microsoft Word - Pogodba.docx", "Document1", "Untitled-3",
                                   "Dokument1", "Microsoft PowerPoint - x"])
def test_pdf_placeholder_title_is_dropped(extractor: SandboxedExtractor, title: str) -> None:
    assert extractor.extract_bytes(_pdf(["Body"], title=title), "pogodba.pdf").title == ""


def test_pdf_real_title_is_kept(extractor: SandboxedExtractor) -> None:
    assert extractor.extract_bytes(_pdf(["Body"], title="Najemna pogodba"), "x.pdf").title == "Najemna pogodba"


def test_an_eml_forwarded_inside_an_eml_keeps_its_own_date(extractor: SandboxedExtractor) -> None:
    inner = EmailMessage()
    inner["From"], inner["Subject"], inner["Date"] = "eva@x.si", "Ponudba", "Wed, 10 Jan 2024 08:00:00 +0000"
    inner.set_content("Ponudba velja.")
    outer = EmailMessage()
    outer["From"], inner["To"], outer["Subject"] = "ana@x.si", "b@x.si", "Fw: Ponudba"
    outer["Date"] = "Fri, 14 Mar 2025 09:30:00 +0000"
    outer.set_content("Posredujem.")
    outer.add_attachment(inner)
    result = extractor.extract_bytes(bytes(outer), "fw.eml")
    assert result.created == date(2025, 3, 14)
    assert extractor.extract_bytes(result.attachments[0].data, "a.eml").created == date(2024, 1, 10)


def test_a_disguised_spreadsheet_is_refused(extractor: SandboxedExtractor) -> None:
    with pytest.raises(ExtractionFailed, match=r"ends in \.xlsx but it is not an Excel workbook"):
        extractor.extract_bytes(b"just some text pretending", "racuni.xlsx")
