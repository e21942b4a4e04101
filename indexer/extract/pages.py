"""Pages of a scan or a PDF: rendered for previews, read by their text layer or recognised by tesseract.

Runs inside the capture worker (capture_worker.py), never in the service: the document is untrusted.
Every image stays in memory; tesseract reads the page from a pipe and writes its text to a pipe
(`tesseract stdin stdout`), and the worker's RLIMIT_FSIZE of 0, which tesseract inherits, makes any
attempt to write a scratch file fail instead of leaving plaintext on disk.
"""

from __future__ import annotations

import io
import os
import resource
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageSequence

PREVIEW_WIDTH = 1000  # px: a page readable on a laptop screen
THUMBNAIL_WIDTH = 200  # px: a search result's thumbnail
OCR_DPI = 300
MIN_LAYER_CHARS = 10  # fewer letters or digits than this on a PDF page: it is a scan, recognise it
Image.MAX_IMAGE_PIXELS = 120_000_000  # beyond A3 at 600 dpi: a decompression bomb, refused


class PageError(Exception):
    """One sentence on why a page (or the whole document) could not be read."""


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # 1-based
    total: int
    text: str
    recognised: bool  # True: tesseract read it; False: the PDF's own text layer
    problem: str
    preview: bytes  # JPEG, PREVIEW_WIDTH wide


@dataclass(frozen=True, slots=True)
class Job:
    media_type: str
    languages: str  # tesseract's form, e.g. "slv+est+eng"
    page_cpu_s: int  # processor seconds tesseract may spend on one page
    page_timeout_s: float  # wall-clock seconds per page
    max_pages: int


def jpeg(image: Image.Image, width: int) -> bytes:
    """A JPEG of `image` scaled down to `width` pixels (never up)."""
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    if image.width > width:
        image = image.resize((width, max(1, round(image.height * width / image.width))), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def pages(data: bytes, job: Job) -> Iterator[Page]:
    """Each page of the document in order; raises PageError when the document cannot be opened."""
    if job.media_type == "application/pdf":
        yield from _pdf_pages(data, job)
    elif job.media_type.startswith("image/"):
        yield from _image_pages(data, job)
    else:
        raise PageError(f"there are no pages to show in a file of type {job.media_type}.")


def _pdf_pages(data: bytes, job: Job) -> Iterator[Page]:
    import pypdfium2 as pdfium  # imported before the limits drop (capture_worker.preload)

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PageError(f"the PDF could not be opened to draw its pages ({exc}).") from None
    try:
        total = min(len(document), job.max_pages)
        for index in range(total):
            page = document[index]
            try:
                layer = page.get_textpage().get_text_bounded()
                if sum(ch.isalnum() for ch in layer) >= MIN_LAYER_CHARS:
                    scale = PREVIEW_WIDTH / max(page.get_width(), 1.0)
                    image = page.render(scale=min(scale, 4.0)).to_pil()
                    yield Page(index + 1, total, layer, False, "", jpeg(image, PREVIEW_WIDTH))
                    continue
                image = page.render(scale=OCR_DPI / 72, grayscale=True).to_pil()
            except pdfium.PdfiumError as exc:
                yield Page(index + 1, total, "", False, f"the page could not be drawn ({exc}).", b"")
                continue
            finally:
                page.close()
            yield _recognised(image, index + 1, total, OCR_DPI, job)
    finally:
        document.close()


def _image_pages(data: bytes, job: Job) -> Iterator[Page]:
    try:
        image = Image.open(io.BytesIO(data))
        frames = getattr(image, "n_frames", 1)
    except (OSError, Image.DecompressionBombError, ValueError) as exc:
        raise PageError(f"the image could not be opened ({type(exc).__name__}); it may be damaged.") from None
    total = min(frames, job.max_pages)
    for index, frame in enumerate(ImageSequence.Iterator(image)):
        if index >= total:
            break
        try:
            page = frame.convert("L")
        except (OSError, Image.DecompressionBombError, ValueError) as exc:
            yield Page(index + 1, total, "", False, f"the page could not be decoded ({type(exc).__name__}).", b"")
            continue
        dpi = frame.info.get("dpi", (OCR_DPI, OCR_DPI))[0]
        yield _recognised(page, index + 1, total, int(dpi) if 70 <= dpi <= 1200 else OCR_DPI, job)


def _recognised(image: Image.Image, number: int, total: int, dpi: int, job: Job) -> Page:
    preview = jpeg(image, PREVIEW_WIDTH)
    try:
        text = recognise(image, dpi, job)
    except PageError as exc:
        return Page(number, total, "", True, str(exc), preview)
    problem = "" if text.strip() else "no text was recognised on this page."
    return Page(number, total, text, True, problem, preview)


def _page_limits(cpu_s: int) -> None:
    # In the child, before exec: this page's processor budget (SIGXCPU past it), no core dump.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def recognise(image: Image.Image, dpi: int, job: Job) -> str:
    """The page's text by tesseract, fed through a pipe (PNG on stdin, text on stdout)."""
    program = shutil.which("tesseract", path="/usr/bin:/bin:/usr/local/bin")
    if program is None:
        raise PageError("tesseract is not installed, so this page was not recognised: "
                        "install tesseract-ocr (make run does it) and run `strongroom ocr run`.")
    png = io.BytesIO()
    image.save(png, "PNG", compress_level=1)
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run([program, "stdin", "stdout", "-l", job.languages, "--dpi", str(dpi)],
                              input=png.getvalue(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                              cwd="/", timeout=job.page_timeout_s, close_fds=True,
                              preexec_fn=lambda: _page_limits(job.page_cpu_s), check=False)
    except subprocess.TimeoutExpired:
        raise PageError(f"recognising the page took longer than {job.page_timeout_s:g} s.") from None
    except OSError as exc:
        raise PageError(f"tesseract could not be started ({os.strerror(exc.errno or 0)}).") from None
    if done.returncode == -9 or done.returncode == -24:  # SIGKILL / SIGXCPU: the processor budget ran out
        raise PageError(f"recognising the page needed more than {job.page_cpu_s} s of processor time.")
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last = detail[-1][:200] if detail else f"exit status {done.returncode}"
        raise PageError(f"tesseract could not read the page ({last}).")
    return done.stdout.decode("utf-8", "replace").replace("\f", "").strip()
