"""The capture sandbox on real scans (Pillow, 300 dpi, DejaVu): previews, the text layer of PDF pages,
tesseract on the pages without one, and a visible reason for every page that yields no text."""

from __future__ import annotations

import os

import pytest

from indexer.extract.capture import SandboxedCapturer
from records.errors import CaptureFailed
from tests import scans
from tests.scans import ESTONIAN, SLOVENE, needs_tesseract

LANGS = "slv+est+eng"
pytestmark = needs_tesseract


@pytest.fixture(scope="module")
def capturer() -> SandboxedCapturer:
    return SandboxedCapturer(page_cpu_s=30, page_timeout_s=60)


def _jpeg(data: bytes) -> bool:
    return data.startswith(b"\xff\xd8") and len(data) > 500


def test_a_png_scan_is_recognised_with_slovene_diacritics(capturer: SandboxedCapturer) -> None:
    result = capturer.capture(scans.png(SLOVENE), "image/png", languages=LANGS)
    [page] = result.pages
    assert page.recognised and page.problem == ""
    for word in ("čebelarstvo", "šolnino", "žužek", "plača"):
        assert word in page.text
    assert _jpeg(page.preview) and _jpeg(result.thumbnail)


def test_a_multipage_tiff_and_a_jpeg_with_estonian_diacritics(capturer: SandboxedCapturer) -> None:
    progress: list[tuple[int, int]] = []
    result = capturer.capture(scans.tiff(SLOVENE, ESTONIAN), "image/tiff", languages=LANGS,
                              progress=lambda done, total: progress.append((done, total)))
    assert [p.number for p in result.pages] == [1, 2] and progress == [(1, 2), (2, 2)]
    assert "Tööleping" in result.pages[1].text and "äärmiselt" in result.pages[1].text
    jpeg = capturer.capture(scans.jpeg(ESTONIAN), "image/jpeg", languages=LANGS)
    assert "Müügitulu" in jpeg.pages[0].text


def test_only_pdf_pages_without_a_text_layer_are_recognised(capturer: SandboxedCapturer) -> None:
    result = capturer.capture(scans.mixed_pdf(["Besedilna plast prve strani ostane nedotaknjena"], ESTONIAN),
                              "application/pdf", languages=LANGS)
    first, second = result.pages
    assert not first.recognised and "Besedilna plast" in first.text
    assert second.recognised and "Tööleping" in second.text
    assert _jpeg(first.preview) and _jpeg(second.preview)


def test_the_wrong_language_loses_diacritics_the_home_languages_keep_them(capturer: SandboxedCapturer) -> None:
    data = scans.png(ESTONIAN)
    assert "Tööleping" in capturer.capture(data, "image/png", languages="est+eng").pages[0].text
    english = capturer.capture(data, "image/png", languages="eng").pages[0].text
    assert "Tööleping" not in english or "äärmiselt" not in english


def test_a_page_over_its_processor_budget_is_a_visible_reason_not_an_empty_text() -> None:
    stingy = SandboxedCapturer(page_cpu_s=0, page_timeout_s=60)
    [page] = stingy.capture(scans.png(SLOVENE), "image/png", languages=LANGS).pages
    assert page.text == "" and "processor time" in page.problem
    assert _jpeg(page.preview)  # the preview does not depend on OCR


def test_a_missing_language_pack_is_a_reason(capturer: SandboxedCapturer) -> None:
    [page] = capturer.capture(scans.png(SLOVENE), "image/png", languages="xxx").pages
    assert page.text == "" and "tesseract could not read the page" in page.problem


def test_a_broken_image_is_a_reason_for_the_document(capturer: SandboxedCapturer) -> None:
    result = capturer.capture(b"\x89PNG\r\n\x1a\n" + os.urandom(2000), "image/png", languages=LANGS)
    assert result.pages == () and "could not be opened" in result.problem


def test_a_worker_that_dies_is_capture_failed() -> None:
    tiny = SandboxedCapturer(memory_mb=40)  # not even Python and pdfium fit: the worker dies at start
    with pytest.raises(CaptureFailed):
        tiny.capture(scans.png(SLOVENE), "image/png", languages=LANGS)
