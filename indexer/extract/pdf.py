"""PDF text per page and document info with pypdf, under pypdf's own limits (the sandbox is the backstop)."""

from __future__ import annotations

import io
import logging
import re
from datetime import date

import pypdf
from pypdf.errors import FileNotDecryptedError, LimitReachedError, PyPdfError

from records.errors import ExtractionFailed
from records.ports import Extraction

MAX_PAGES = 2000
SCANNED_THRESHOLD = 10 * 1024
# Titles that office programs and printer drivers stamp without anyone choosing them: the file's
# name says more ("Microsoft Word - pogodba.docx" is the print dialogue's job name).
PLACEHOLDER_TITLE = re.compile(
    r"(untitled|unbenannt|neimenovan|nimetu|sans titre|document|dokument|documento|doc|book|mappe|slide|"
    r"presentation)[\s_-]*\d*(\.\w{1,5})?|microsoft (word|excel|powerpoint|office \w+) - .*|"
    r"(microsoft word|powerpoint presentation|libreoffice \w+)|\(?anonymous\)?|\W*", re.IGNORECASE)

# pypdf never starts another program on our behalf (JBIG2 would run jbig2dec).
pypdf.overwrite_configuration(jbig2dec_binary=None)
# pypdf logs malformed-structure warnings with document fragments; the worker's stderr is discarded,
# but keep them out of any handler a caller might attach.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)


def _info(reader: pypdf.PdfReader) -> tuple[str, str, date | None]:
    try:
        meta = reader.metadata
        if meta is None:
            return "", "", None
        title = str(meta.title or "").strip()
        if PLACEHOLDER_TITLE.fullmatch(title):
            title = ""
        author = str(meta.author or "").strip()
        try:
            created = meta.creation_date
        except (ValueError, TypeError, PyPdfError):
            created = None
        return title, author, created.date() if created else None
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError):
        return "", "", None


def read_pdf(data: bytes, max_chars: int) -> Extraction:
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # owner-password-only PDFs open with an empty user password
            except (PyPdfError, NotImplementedError, ValueError):
                opened = pypdf.PasswordType.NOT_DECRYPTED
            if not opened:
                return Extraction(text="", media_type="application/pdf",
                                  note="no text: the PDF is password-protected")
        pages = len(reader.pages)
        texts: list[str] = []
        size = 0
        for page in reader.pages[:MAX_PAGES]:
            text = page.extract_text() or ""
            texts.append(text)
            size += len(text)
            if size > max_chars:
                break
        title, author, created = _info(reader)
    except LimitReachedError:
        raise ExtractionFailed("the PDF exceeds the reader's safety limits (huge or deeply nested structures, "
                               "or a decompression bomb); it may be hostile.") from None
    except FileNotDecryptedError:
        return Extraction(text="", media_type="application/pdf", note="no text: the PDF is password-protected")
    except (PyPdfError, ValueError, TypeError, KeyError, IndexError, AttributeError, AssertionError,
            OverflowError, RecursionError, ZeroDivisionError, UnicodeError, EOFError):
        raise ExtractionFailed("the PDF is damaged and cannot be read.") from None
    text = "\n\f".join(texts).strip()
    notes = []
    if pages > MAX_PAGES:
        notes.append(f"text read from the first {MAX_PAGES} of {pages} pages")
    if len(text) > max_chars:
        text = text[:max_chars]
        notes.append("text cut at the size limit")
    if not text and len(data) > SCANNED_THRESHOLD:
        notes.insert(0, "no text extracted (scanned?)")
    return Extraction(text=text, media_type="application/pdf", title=title, author=author, created=created,
                      pages=pages, note="; ".join(notes))
