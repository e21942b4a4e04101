"""Real scans for the OCR tests: pages rendered by Pillow at 300 dpi with DejaVu (č š ž õ ä ö ü),
as PNG, JPEG, multi-page TIFF, an image-only PDF, and a PDF with one text page and one scanned page."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

DPI = 300
A4 = (2480, 3508)  # pixels at 300 dpi
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

SLOVENE = ["Pogodba o najemu poslovnega prostora", "Najemnik plača čebelarstvo in šolnino",
           "žužek mora biti odstranjen do petka"]
ESTONIAN = ["Tööleping jõustub pärast allkirjastamist", "Müügitulu äärmiselt suur",
            "Üürileping ja öökull"]


def _tesseract_ready() -> str:
    if not FONT.exists():
        return "fonts-dejavu-core is not installed (tools/ensure-tesseract.sh installs it)"
    if shutil.which("tesseract") is None:
        return "tesseract is not installed (tools/ensure-tesseract.sh installs it)"
    langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, check=False).stdout
    missing = [lang for lang in ("slv", "est", "eng") if lang not in langs.split()]
    return f"tesseract lacks {', '.join(missing)} (tools/ensure-tesseract.sh installs them)" if missing else ""


_MISSING = _tesseract_ready()
needs_tesseract = pytest.mark.skipif(bool(_MISSING), reason=_MISSING or "ready")


def page(lines: list[str], *, size: tuple[int, int] = A4) -> Image.Image:
    """One scanned page: black 12-point-ish text on white, greyscale, 300 dpi."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 42)
    for i, line in enumerate(lines):
        draw.text((200, 300 + i * 90), line, font=font, fill=0)
    return image


def png(lines: list[str]) -> bytes:
    out = io.BytesIO()
    page(lines).save(out, "PNG", dpi=(DPI, DPI))
    return out.getvalue()


def jpeg(lines: list[str]) -> bytes:
    out = io.BytesIO()
    page(lines).save(out, "JPEG", dpi=(DPI, DPI), quality=90)
    return out.getvalue()


def tiff(*pages: list[str]) -> bytes:
    images = [page(lines) for lines in pages]
    out = io.BytesIO()
    images[0].save(out, "TIFF", dpi=(DPI, DPI), save_all=True, append_images=images[1:], compression="tiff_lzw")
    return out.getvalue()


def scanned_pdf(*pages: list[str]) -> bytes:
    """An image-only PDF, as a scanner writes it: each page one picture, no text layer."""
    images = [page(lines) for lines in pages]
    out = io.BytesIO()
    images[0].save(out, "PDF", resolution=DPI, save_all=True, append_images=images[1:])
    return out.getvalue()


def mixed_pdf(text_lines: list[str], scanned_lines: list[str]) -> bytes:
    """Page 1 has a text layer (reportlab), page 2 is a scan (Pillow)."""
    import pypdf
    from reportlab.lib.pagesizes import A4 as A4_POINTS
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVu", str(FONT)))
    first = io.BytesIO()
    sheet = canvas.Canvas(first, pagesize=A4_POINTS)
    sheet.setFont("DejaVu", 12)
    for i, line in enumerate(text_lines):
        sheet.drawString(72, 760 - i * 18, line)
    sheet.showPage()
    sheet.save()
    writer = pypdf.PdfWriter()
    for source in (first.getvalue(), scanned_pdf(scanned_lines)):
        for pdf_page in pypdf.PdfReader(io.BytesIO(source)).pages:
            writer.add_page(pdf_page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
