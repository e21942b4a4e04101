"""File kinds chosen by magic bytes, and what to do when the name's extension disagrees."""

from __future__ import annotations

import io
import re
import zipfile
from enum import StrEnum

from records.errors import ExtractionFailed


class Kind(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    ODT = "odt"
    EML = "eml"
    ASICE = "asice"
    HTML = "html"
    TEXT = "text"
    EMPTY = "empty"
    OTHER = "other"


LABELS = {Kind.PDF: "PDF", Kind.DOCX: "Word document", Kind.ODT: "OpenDocument text",
          Kind.EML: "e-mail", Kind.ASICE: "DigiDoc container", Kind.HTML: "web page", Kind.TEXT: "text file",
          Kind.EMPTY: "file", Kind.OTHER: "file"}

MEDIA_TYPES = {Kind.PDF: "application/pdf",
               Kind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               Kind.ODT: "application/vnd.oasis.opendocument.text", Kind.EML: "message/rfc822",
               Kind.ASICE: "application/vnd.etsi.asic-e+zip",
               Kind.HTML: "text/html", Kind.TEXT: "text/plain", Kind.EMPTY: "application/octet-stream",
               Kind.OTHER: "application/octet-stream"}

_BY_EXTENSION = {".pdf": Kind.PDF, ".docx": Kind.DOCX, ".odt": Kind.ODT, ".eml": Kind.EML,
                 ".html": Kind.HTML, ".htm": Kind.HTML, ".txt": Kind.TEXT, ".text": Kind.TEXT,
                 ".csv": Kind.TEXT, ".md": Kind.TEXT, ".asice": Kind.ASICE, ".bdoc": Kind.ASICE}
# Formats whose name is a promise about the bytes: a mismatch means damage or disguise.
_STRICT = {Kind.PDF, Kind.DOCX, Kind.ODT, Kind.EML, Kind.ASICE}
_OWN_READER = {Kind.PDF, Kind.DOCX, Kind.ODT, Kind.EML, Kind.ASICE}

_HEADER_LINE = re.compile(rb"^([A-Za-z0-9-]{1,40}):[ \t]")
_MAIL_HEADERS = {b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"received",
                 b"return-path", b"delivered-to", b"cc", b"reply-to"}


def extension_of(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 and len(name) - dot <= 8 else ""


def _zip_kind(data: bytes) -> Kind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist()[:1000])
            if "word/document.xml" in names:
                return Kind.DOCX
            if "mimetype" in names and _asice_mimetype(archive):  # a DigiDoc container (asice.py)
                return Kind.ASICE
            if "mimetype" in names and "content.xml" in names:
                info = archive.getinfo("mimetype")
                if info.file_size < 100 and archive.read(info).startswith(
                        b"application/vnd.oasis.opendocument.text"):
                    return Kind.ODT
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
        pass
    return Kind.OTHER


def _asice_mimetype(archive: zipfile.ZipFile) -> bool:
    info = archive.getinfo("mimetype")
    return info.file_size < 100 and archive.read(info).strip() == b"application/vnd.etsi.asic-e+zip"


def _looks_like_mail(head: bytes) -> bool:
    """A header block (Name: value lines) naming at least two of the usual mail headers."""
    lines = head.split(b"\n")
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]  # an mbox "From sender date" separator line
    known = 0
    for line in lines[:-1][:300]:  # the last piece may be cut mid-line
        line = line.rstrip(b"\r")
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            continue  # folded header continuation
        match = _HEADER_LINE.match(line)
        if not match:
            return False
        known += match.group(1).lower() in _MAIL_HEADERS
        if known >= 2:
            return True
    return False


def sniff(data: bytes) -> Kind:
    """The kind the bytes say they are; the file name is not consulted."""
    if not data:
        return Kind.EMPTY
    head = data[:1024]
    if b"%PDF-" in head:
        return Kind.PDF
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith((b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*",
                        b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"\x7fELF", b"MZ")):
        return Kind.OTHER
    if _looks_like_mail(data[:16384].lstrip(b"\r\n")):
        return Kind.EML
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html")) or b"<html" in stripped[:512]:
        return Kind.HTML
    return Kind.TEXT  # text.py decides whether the bytes really are text


def choose(data: bytes, name: str) -> tuple[Kind, str]:
    """The kind to read the file as, and a note when its extension disagrees (or a rejection)."""
    found = sniff(data)
    claimed = _BY_EXTENSION.get(extension_of(name))
    if claimed is None or claimed == found or found is Kind.EMPTY:
        return found, ""
    if found in _OWN_READER:
        return found, f"the file is a {LABELS[found]} although its name ends in {extension_of(name)}"
    if claimed in _STRICT:
        article = "an" if LABELS[claimed][0] in "aeiouAEIOU" else "a"
        raise ExtractionFailed(f"the file's name ends in {extension_of(name)} but it is not {article} "
                               f"{LABELS[claimed]}; it may be damaged or disguised.")
    return found, ""
