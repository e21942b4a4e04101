"""The meeting pack's PDF (issue 22 item 3), read back with pypdf: page count and order, one bookmark per
agenda item with its materials under it, the watermark and "page N of M" on every page (rotated and
non-A4 pages too), the font embedded once, and a broken PDF named on the cover instead of failing."""

from __future__ import annotations

import io
from datetime import date, datetime, timezone

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.pdfgen import canvas

from records.meeting_bodies import DEFAULTS
from records.meetings import AgendaItem, Meeting, Participant
from records.model import Confidentiality, Record, RecordId
from records.packs import PackContent, PackItem, PackMaterial
from indexer.extract.pack_sandbox import SandboxedPackMaker
from web.meeting_pack import PackWords, render_pack


def _pdf(pages: int, size: tuple[float, float] = A4, rotate: int = 0) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=size)
    for n in range(pages):
        pdf.drawString(72, 700, f"Material page {n + 1}")
        pdf.showPage()
    pdf.save()
    if not rotate:
        return buf.getvalue()
    writer = PdfWriter(clone_from=PdfReader(buf))
    for page in writer.pages:
        page.rotate(rotate)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _record(n: int, media_type: str = "application/pdf") -> Record:
    return Record(id=RecordId(f"r{n}"), registry_number=f"00.4-{n}/2026", title=f"Gradivo {n}", record_class="00.4",
                  principal="", confidentiality=Confidentiality.INTERNAL, document_date=None,
                  filed_at=datetime(2026, 3, 1, tzinfo=timezone.utc), filed_by="anna", original_name=f"g{n}.pdf",
                  media_type=media_type, size=1, sha256="")


def test_pages_bookmarks_and_a_watermark_on_every_page() -> None:
    items = (PackItem(1, "Letno poročilo", (PackMaterial(_record(1), _pdf(12)),
                                             PackMaterial(_record(2), _pdf(2, landscape(letter), rotate=90)))),
             PackItem(2, "Razno", ()),
             PackItem(3, "Nakup", (PackMaterial(_record(3), b"%PDF-1.4 broken"),
                                   PackMaterial(_record(4, "text/plain"), "Opomba: čšž õäöü\n".encode()))))
    meeting = Meeting(meeting_id="ab", body="juhatus", seq=4, year=2026, day=date(2026, 3, 12), place="Tallinn",
                      principal="", confidentiality=Confidentiality.INTERNAL, record_class="00.4",
                      participants=(Participant("Mari Õunapuu", "mari"),), items=tuple(AgendaItem(str(i), "x")
                                                                                    for i in range(3)))
    content = PackContent(meeting=meeting, body=DEFAULTS["EE"][0], recipient=meeting.participants[0],
                          day=date(2026, 3, 10), items=items)
    made = render_pack(content, PackWords.of("et"), SandboxedPackMaker())
    reader = PdfReader(io.BytesIO(made.data))
    assert made.pages == len(reader.pages) == 2 + 12 + 2 + 1
    assert made.left_out == ((RecordId("r3"), "unreadable"),)
    for n, page in enumerate(reader.pages, 1):
        text = page.extract_text()
        assert "Konfidentsiaalne — kellele: Mari Õunapuu, 10. märts 2026" in text, n
        assert f"Lehekülg {n} / 17" in text, n
    outline = reader.outline
    assert [o.title for o in outline if not isinstance(o, list)] == [
        "Tiitelleht", "Päevakord", "1. Letno poročilo", "2. Razno", "3. Nakup"]
    children = outline[3]
    assert isinstance(children, list) and [c.title for c in children] == ["00.4-1/2026 Gradivo 1",
                                                                          "00.4-2/2026 Gradivo 2"]
    assert reader.get_destination_page_number(children[1]) == 14  # after cover, agenda and 12 pages
    assert "Opomba: čšž õäöü" in reader.pages[16].extract_text()
    assert "00.4-3/2026" in reader.pages[0].extract_text()  # the cover names what is missing, and why
    assert "PDF-i ei saa lugeda" in reader.pages[0].extract_text()
    # The DejaVu subset is embedded once per drawn part (front matter, text material, stamps), never per page.
    embedded = [o for o in (reader.get_object(i) for i in range(1, len(reader.xref_objStm) + 500))
                if hasattr(o, "get") and o.get("/Type") == "/FontDescriptor" and "DejaVu" in str(o.get("/FontName"))]
    assert len(embedded) == 3, [str(o.get("/FontName")) for o in embedded]
    assert len(made.data) < 400_000
