"""A meeting pack as a PDF: the shell draws its own cover and agenda (fpdf2); everything that reads a material
(opening the PDFs, setting text materials, joining, bookmarking and stamping every page with the watermark
and page number) runs in the sandboxed pack worker (indexer.extract.pack_sandbox), fed the decrypted
materials over a pipe. A material that the worker refuses, or that kills or stalls it, is named on the cover
with its reason, and the pack comes out without it.

Everything happens in memory (no temporary file): the pack is handed out and never stored. The text is
set in DejaVu Sans (shipped in web/fonts, Bitstream Vera licence), which covers č š ž and õ ä ö ü.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from babel.dates import format_date
from babel.support import Translations
from indexer.extract.pack_pages import Bookmark, Sheet, Stamp
from indexer.extract.pack_sandbox import Front, PackPart, SandboxedPackMaker
from records.meetings import Meeting
from records.model import RecordId
from records.packs import TEXT, LeftOut, PackContent, PackMaterial, RenderedPack
from web.i18n import TRANSLATIONS

FONT = Path(__file__).resolve().parent / "fonts" / "DejaVuSans.ttf"


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
            LeftOut.LIMITS: _("the PDF goes past the reader's safety limits (it may be damaged or hostile); open it "
                              "from its record."),
            LeftOut.TIMEOUT: _("putting this file into the pack took too long (it may be damaged or hostile); open "
                               "it from its record."),
            LeftOut.MEMORY: _("putting this file into the pack needed more memory than allowed (it may be damaged "
                              "or hostile); open it from its record."),
            LeftOut.CRASHED: _("the pack maker stopped on this file (it may be damaged or hostile); open it from its "
                               "record."),
        }
        return reasons.get(code, code)


def render_pack(content: PackContent, words: PackWords, maker: SandboxedPackMaker) -> RenderedPack:
    """The whole pack, bookmarked, with the recipient's watermark and a page number on every page."""
    materials = [m for item in content.items for m in item.materials]
    left_out: dict[RecordId, str] = {m.record.id: m.left_out for m in materials if m.left_out}
    going = [m for m in materials if not m.left_out]
    parts = [PackPart(kind="text" if m.record.media_type == TEXT else "pdf", data=m.data,
                      heading=f"{m.record.registry_number}  {m.record.title}") for m in going]

    def compose(pages: Mapping[int, int], refused: Mapping[int, str]) -> Front:
        counts = {going[i].record.id: n for i, n in pages.items()}
        missing = {**left_out, **{going[i].record.id: why for i, why in refused.items()}}
        return _front(content, words, counts, missing)

    stamp = Stamp(watermark=words.watermark(content.recipient.name, content.day),
                  page_label=words.gettext("Page %(n)s of %(total)s") % {"n": "{n}", "total": "{total}"})
    joined = maker.make(parts, stamp, FONT, compose)
    left_out.update({going[i].record.id: why for i, why in joined.left_out.items()})
    return RenderedPack(data=joined.data, pages=joined.pages, left_out=tuple(
        (m.record.id, left_out[m.record.id]) for m in materials if m.record.id in left_out))


def _front(content: PackContent, words: PackWords, counts: dict[RecordId, int],
           left_out: dict[RecordId, str]) -> Front:
    """Cover and agenda with each material's first page. The page numbers depend on the length of the front
    itself: drawn for the usual two pages (cover, agenda), and again only when it came out longer."""
    length = 2
    for _draft in range(4):  # a page number one digit longer could push a line over: a few rounds settle it
        starts: dict[RecordId, int] = {}
        at = length + 1
        for item in content.items:
            for m in item.materials:
                if m.record.id in counts:
                    starts[m.record.id] = at
                    at += counts[m.record.id]
        doc = _front_pages(content, words, starts, left_out)
        if doc.pages_count == length:
            break
        length = doc.pages_count
        doc.output()  # fpdf2 closes the font file it keeps open only when it writes
    agenda_page = 1 if doc.pages_count > 1 else 0
    marks = [Bookmark(words.gettext("Cover"), 0), Bookmark(words.gettext("Agenda"), agenda_page)]
    for item in content.items:
        first = next((starts[m.record.id] - 1 for m in item.materials if m.record.id in starts), agenda_page)
        marks.append(Bookmark(f"{item.number}. {item.title}", first))
        parent = len(marks) - 1
        marks += [Bookmark(f"{m.record.registry_number} {m.record.title}", starts[m.record.id] - 1, parent)
                  for m in item.materials if m.record.id in starts]
    return Front(pdf=bytes(doc.output()), bookmarks=tuple(marks),
                 title=f"{content.body.name(words.language)} {content.meeting.number}")


def _front_pages(content: PackContent, words: PackWords, starts: dict[RecordId, int],
                 left_out: dict[RecordId, str]) -> Sheet:
    _ = words.gettext
    m: Meeting = content.meeting
    doc = Sheet(FONT)
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
    return doc
