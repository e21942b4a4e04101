"""A meeting pack's pages: opening the materials, drawing text materials and the per-page stamp (fpdf2, DejaVu
Sans) and joining it all with its bookmarks (pypdf). The parts that touch a material run in the pack worker
(pack_worker.py), never in the server; the shell draws only its own cover and agenda with `Sheet`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.errors import LimitReachedError, PyPdfError

from records.packs import LeftOut

A4 = (595.28, 841.89)  # points


class Refused(Exception):
    """A material cannot go into the pack; `code` is a records.packs.LeftOut code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Sheet(FPDF):
    """An A4 page set in DejaVu Sans (č š ž, õ ä ö ü), for the cover, text materials and stamps."""

    def __init__(self, font: Path) -> None:
        super().__init__(unit="pt", format=A4)
        if not font.is_file():
            raise RuntimeError(f"The font {font} is missing from this installation: reinstall Strongroom.")
        self.add_font("DejaVu", fname=str(font))
        self.set_font("DejaVu", size=11)
        self.set_auto_page_break(True, margin=72)
        self.set_margins(64, 64, 64)

    def line_of(self, text: str, size: float = 11, gap: float = 4) -> None:
        self.set_font("DejaVu", size=size)
        self.multi_cell(0, size * 1.35, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)


@dataclass(frozen=True, slots=True)
class Bookmark:
    title: str
    page: int  # 0-based page of the whole pack
    parent: int = -1  # index of the parent bookmark in the list, -1 for none


@dataclass(frozen=True, slots=True)
class Stamp:
    watermark: str  # "Zaupno — za: NAME, DATE": across the page and in the footer
    page_label: str  # "Page {n} of {total}"


Progress = Callable[[int], None]  # called with a part's index as the work on it starts; -1: no part's


def open_pdf(data: bytes) -> PdfReader:
    """A PDF material, its page contents decoded once so that a decompression bomb is refused here."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Refused(LeftOut.UNREADABLE)
        if not reader.pages:
            raise Refused(LeftOut.UNREADABLE)
        for page in reader.pages:
            contents = page.get_contents()
            if contents is not None:
                contents.get_data()
        return reader
    except (LimitReachedError, RecursionError):
        raise Refused(LeftOut.LIMITS) from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError):
        raise Refused(LeftOut.UNREADABLE) from None


def text_pdf(heading: str, data: bytes, font: Path) -> PdfReader:
    """A plain-text material set on A4 pages under its registry number and title."""
    doc = Sheet(font)
    doc.add_page()
    doc.line_of(heading, size=12, gap=10)
    doc.line_of(data.decode("utf-8", errors="replace"), size=10)
    return PdfReader(io.BytesIO(bytes(doc.output())))


class PackBuilder:
    """Collects the materials (in agenda order), then joins them after the front matter, bookmarks the
    whole and stamps every page. `progress` names the material being worked on, so that a worker that
    dies or overruns can be blamed on that one material."""

    def __init__(self, font: Path, stamp: Stamp) -> None:
        self.font = font
        self.stamp = stamp
        self.parts: list[tuple[int, PdfReader]] = []

    def add(self, index: int, kind: str, heading: str, data: bytes) -> int:
        reader = text_pdf(heading, data, self.font) if kind == "text" else open_pdf(data)
        self.parts.append((index, reader))
        return len(reader.pages)

    def build(self, front: bytes, bookmarks: list[Bookmark], title: str, progress: Progress) -> tuple[bytes, int]:
        writer = PdfWriter()
        progress(-1)
        writer.append(PdfReader(io.BytesIO(front)))
        owners = [-1] * len(writer.pages)  # which part each page comes from
        for index, reader in self.parts:
            progress(index)
            writer.append(reader, import_outline=False)
            owners += [index] * (len(writer.pages) - len(owners))
        progress(-1)
        refs: list[object] = []
        for mark in bookmarks:
            parent = refs[mark.parent] if 0 <= mark.parent < len(refs) else None
            refs.append(writer.add_outline_item(title=mark.title, page_number=mark.page, parent=parent))  # type: ignore[arg-type]
        self._stamp(writer, owners, progress)
        progress(-1)
        writer.page_mode = "/UseOutlines"
        writer.add_metadata({"/Title": title, "/Producer": "Strongroom"})
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue(), len(writer.pages)

    def _stamp(self, writer: PdfWriter, owners: list[int], progress: Progress) -> None:
        """Draw the watermark (across the page and in the footer) and "page N of M" over every page."""
        total = len(writer.pages)
        watermark = self.stamp.watermark
        doc = Sheet(self.font)
        doc.set_auto_page_break(False)
        for n, page in enumerate(writer.pages, 1):
            if n == 1 or owners[n - 1] != owners[n - 2]:
                progress(owners[n - 1])
            if page.rotation:
                page.transfer_rotation_to_content()  # the stamp is drawn upright on the page as it is seen
            box = page.mediabox
            width, height = float(box.width), float(box.height)
            doc.add_page(format=(width, height))
            with doc.local_context(fill_opacity=0.18, text_color=(200, 30, 30)):
                doc.set_font("DejaVu", size=min(width, height) / max(len(watermark), 20) * 1.6)
                with doc.rotation(angle=35, x=width / 2, y=height / 2):
                    doc.set_xy(0, height / 2 - 20)
                    doc.cell(width, 40, watermark, align="C")
            doc.set_text_color(200, 30, 30)
            doc.set_font("DejaVu", size=8)
            doc.set_xy(24, height - 26)
            doc.cell(width - 48, 12, watermark, align="L")
            doc.set_xy(24, height - 26)
            doc.cell(width - 48, 12, self.stamp.page_label.replace("{n}", str(n)).replace("{total}", str(total)), align="R")
        stamps = PdfReader(io.BytesIO(bytes(doc.output())))
        for n, (page, stamp) in enumerate(zip(writer.pages, stamps.pages)):
            if n == 0 or owners[n] != owners[n - 1]:
                progress(owners[n])
            x0, y0 = float(page.mediabox.left), float(page.mediabox.bottom)
            if x0 or y0:
                page.merge_transformed_page(stamp, Transformation().translate(x0, y0))
            else:
                page.merge_page(stamp)
