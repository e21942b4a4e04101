"""A meeting pack as a PDF: fpdf2 draws the cover, the agenda, plain-text materials and the per-page stamp
(watermark and page number); pypdf joins them with the PDF materials and writes the bookmarks.

Everything happens in memory (no temporary file): the pack is handed out and never stored. The text is
set in DejaVu Sans (shipped in web/fonts, Bitstream Vera licence), which covers č š ž and õ ä ö ü.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from babel.dates import format_date
from babel.support import Translations
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.errors import PyPdfError

from records.meetings import Meeting
from records.model import RecordId
from records.packs import LeftOut, PackContent, PackMaterial, RenderedPack
from web.i18n import TRANSLATIONS

FONT = Path(__file__).resolve().parent / "fonts" / "DejaVuSans.ttf"
A4 = (595.28, 841.89)  # points


@dataclass(frozen=True, slots=True)
class PackWords:
    """The pack's words in one language (the UI's on the web, the home's in the CLI)."""

    language: str
    gettext: Callable[[str], str]

    @classmethod
    def of(cls, language: str) -> PackWords:
        translations = Translations.load(str(TRANSLATIONS), [language])
        return cls(language=language, gettext=translations.gettext)

    def day(self, value: date) -> str:
        return str(format_date(value, "long", locale=self.language))

    def watermark(self, name: str, on: date) -> str:
        return self.gettext("Confidential — for: %(name)s, %(day)s") % {"name": name, "day": self.day(on)}

    def reason(self, code: str) -> str:
        _ = self.gettext
        reasons = {
            LeftOut.OFFICE: _("a Word or OpenDocument file: Strongroom does not turn it into a PDF, because that "
                              "needs an office program working on an unencrypted copy; print it from its record."),
            LeftOut.FORMAT: _("this kind of file cannot be put into a PDF pack; open it from its record."),
            LeftOut.UNREADABLE: _("the PDF cannot be read (damaged or password-protected); open it from its record."),
        }
        return reasons.get(code, code)


class _Doc(FPDF):
    def __init__(self) -> None:
        super().__init__(unit="pt", format=A4)
        if not FONT.is_file():
            raise RuntimeError(f"The font {FONT} is missing from this installation: reinstall Strongroom.")
        self.add_font("DejaVu", fname=str(FONT))
        self.set_font("DejaVu", size=11)
        self.set_auto_page_break(True, margin=72)
        self.set_margins(64, 64, 64)

    def line_of(self, text: str, size: float = 11, gap: float = 4) -> None:
        self.set_font("DejaVu", size=size)
        self.multi_cell(0, size * 1.35, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)


def render_pack(content: PackContent, words: PackWords) -> RenderedPack:
    """The whole pack, bookmarked, with the recipient's watermark and a page number on every page."""
    readable, left_out = _materials(content)
    counts = {rid: len(reader.pages) for rid, reader in readable.items()}
    front_pages = len(_front(content, words, {}, left_out).pages)
    starts: dict[RecordId, int] = {}
    at = front_pages + 1
    for item in content.items:
        for m in item.materials:
            if m.record.id in readable:
                starts[m.record.id] = at
                at += counts[m.record.id]
    front = _front(content, words, starts, left_out)

    writer = PdfWriter()
    writer.append(front)
    for item in content.items:
        for m in item.materials:
            if m.record.id in readable:
                writer.append(readable[m.record.id], import_outline=False)
    agenda_page = 1 if len(front.pages) > 1 else 0
    writer.add_outline_item(title=words.gettext("Cover"), page_number=0)
    writer.add_outline_item(title=words.gettext("Agenda"), page_number=agenda_page)
    for item in content.items:
        first = next((starts[m.record.id] - 1 for m in item.materials if m.record.id in starts), agenda_page)
        parent = writer.add_outline_item(title=f"{item.number}. {item.title}", page_number=first)
        for m in item.materials:
            if m.record.id in starts:
                writer.add_outline_item(title=f"{m.record.registry_number} {m.record.title}",
                                        page_number=starts[m.record.id] - 1, parent=parent)
    for page in writer.pages:
        if page.rotation:
            page.transfer_rotation_to_content()  # the stamp is drawn upright on the page as it is seen
    _stamp(writer, words.watermark(content.recipient.name, content.day), words)
    writer.page_mode = "/UseOutlines"
    writer.add_metadata({"/Title": f"{content.body.name(words.language)} {content.meeting.number}",
                         "/Producer": "Strongroom"})
    out = io.BytesIO()
    writer.write(out)
    return RenderedPack(data=out.getvalue(), pages=len(writer.pages), left_out=tuple(left_out.items()))


def _materials(content: PackContent) -> tuple[dict[RecordId, PdfReader], dict[RecordId, str]]:
    readable: dict[RecordId, PdfReader] = {}
    left_out: dict[RecordId, str] = {}
    for item in content.items:
        for m in item.materials:
            if m.left_out:
                left_out[m.record.id] = m.left_out
            elif m.record.media_type == "text/plain":
                readable[m.record.id] = _text_pages(m)
            else:
                reader = _pdf(m.data)
                if reader is None:
                    left_out[m.record.id] = LeftOut.UNREADABLE
                else:
                    readable[m.record.id] = reader
    return readable, left_out


def _pdf(data: bytes) -> PdfReader | None:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return None
        if not reader.pages:
            return None
        return reader
    except (PyPdfError, ValueError, KeyError, TypeError, OSError):
        return None


def _text_pages(material: PackMaterial) -> PdfReader:
    doc = _Doc()
    doc.add_page()
    doc.line_of(f"{material.record.registry_number}  {material.record.title}", size=12, gap=10)
    doc.line_of(material.data.decode("utf-8", errors="replace"), size=10)
    return PdfReader(io.BytesIO(bytes(doc.output())))


def _front(content: PackContent, words: PackWords, starts: dict[RecordId, int],
           left_out: dict[RecordId, str]) -> PdfReader:
    _ = words.gettext
    m: Meeting = content.meeting
    doc = _Doc()
    doc.add_page()
    doc.ln(120)
    doc.line_of(_("Meeting pack"), size=14, gap=8)
    doc.line_of(_("%(body)s, meeting %(number)s") % {"body": content.body.name(words.language), "number": m.number},
                size=22, gap=16)
    doc.line_of(_("Date: %(day)s") % {"day": words.day(m.day)}, size=12)
    if m.place:
        doc.line_of(_("Place: %(place)s") % {"place": m.place}, size=12)
    if m.participants:
        doc.line_of(_("Participants: %(names)s") % {"names": ", ".join(p.name for p in m.participants)}, size=12)
    doc.ln(24)
    doc.line_of(_("Prepared for %(name)s on %(day)s.") % {"name": content.recipient.name,
                                                          "day": words.day(content.day)}, size=12)
    missing = [(mat, left_out[mat.record.id]) for i in content.items for mat in i.materials
               if mat.record.id in left_out]
    if missing:
        doc.ln(12)
        doc.line_of(_("Not included in this pack:"), size=12)
        for mat, why in missing:
            doc.line_of(f"• {mat.record.registry_number} {mat.record.title}: {words.reason(why)}", size=10)
    doc.add_page()
    doc.line_of(_("Agenda"), size=18, gap=12)
    for item in content.items:
        doc.line_of(f"{item.number}. {item.title}", size=12, gap=2)
        if not item.materials:
            doc.line_of("    " + _("No materials."), size=10)
        for mat in item.materials:
            where = _("page %(n)s") % {"n": starts[mat.record.id]} if mat.record.id in starts \
                else _("not included")
            doc.line_of(f"    {mat.record.registry_number}  {mat.record.title} — {where}", size=10, gap=2)
        doc.ln(6)
    return PdfReader(io.BytesIO(bytes(doc.output())))


def _stamp(writer: PdfWriter, watermark: str, words: PackWords) -> None:
    """Draw the watermark (across the page and in the footer) and "page N of M" over every page."""
    total = len(writer.pages)
    doc = _Doc()
    doc.set_auto_page_break(False)
    for n, page in enumerate(writer.pages, 1):
        box = page.mediabox
        width, height = float(box.width), float(box.height)
        doc.add_page(format=(width, height))
        doc.set_text_color(200, 30, 30)
        with doc.local_context(fill_opacity=0.18, text_color=(200, 30, 30)):
            doc.set_font("DejaVu", size=min(width, height) / max(len(watermark), 20) * 1.6)
            with doc.rotation(angle=35, x=width / 2, y=height / 2):
                doc.set_xy(0, height / 2 - 20)
                doc.cell(width, 40, watermark, align="C")
        doc.set_font("DejaVu", size=8)
        doc.set_xy(24, height - 26)
        doc.cell(width - 48, 12, watermark, align="L")
        doc.set_xy(24, height - 26)
        doc.cell(width - 48, 12, words.gettext("Page %(n)s of %(total)s") % {"n": n, "total": total}, align="R")
    stamps = PdfReader(io.BytesIO(bytes(doc.output())))
    for page, stamp in zip(writer.pages, stamps.pages):
        x0, y0 = float(page.mediabox.left), float(page.mediabox.bottom)
        if x0 or y0:
            page.merge_transformed_page(stamp, Transformation().translate(x0, y0))
        else:
            page.merge_page(stamp)
