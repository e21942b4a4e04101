"""File kinds chosen by magic bytes, and what to do when the name's extension disagrees."""

from __future__ import annotations

import io
import re
import zipfile
from enum import StrEnum

import olefile

from records.errors import ExtractionFailed


class Kind(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    ODT = "odt"
    EML = "eml"
    HTML = "html"
    TEXT = "text"
    XLSX = "xlsx"
    XLS = "xls"
    ODS = "ods"
    MSG = "msg"
    DOC = "doc"
    PPT = "ppt"
    ASICE = "asice"
    ASICS = "asics"
    JPEG = "jpeg"
    PNG = "png"
    TIFF = "tiff"
    GIF = "gif"
    EMPTY = "empty"
    OTHER = "other"


LABELS = {Kind.PDF: "PDF", Kind.DOCX: "Word document", Kind.ODT: "OpenDocument text",
          Kind.EML: "e-mail", Kind.HTML: "web page", Kind.TEXT: "text file",
          Kind.XLSX: "Excel workbook", Kind.XLS: "Excel 97-2003 workbook", Kind.ODS: "OpenDocument spreadsheet",
          Kind.MSG: "Outlook message", Kind.DOC: "Word 97-2003 document", Kind.PPT: "PowerPoint 97-2003 file",
          Kind.ASICE: "signed container (ASiC-E/BDOC)", Kind.ASICS: "signed container (ASiC-S)",
          Kind.JPEG: "JPEG image", Kind.PNG: "PNG image", Kind.TIFF: "TIFF image", Kind.GIF: "GIF image",
          Kind.EMPTY: "file", Kind.OTHER: "file"}

MEDIA_TYPES = {Kind.PDF: "application/pdf",
               Kind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
               Kind.ODT: "application/vnd.oasis.opendocument.text", Kind.EML: "message/rfc822",
               Kind.HTML: "text/html", Kind.TEXT: "text/plain",
               Kind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               Kind.XLS: "application/vnd.ms-excel", Kind.ODS: "application/vnd.oasis.opendocument.spreadsheet",
               Kind.MSG: "application/vnd.ms-outlook", Kind.DOC: "application/msword",
               Kind.PPT: "application/vnd.ms-powerpoint", Kind.ASICE: "application/vnd.etsi.asic-e+zip",
               Kind.ASICS: "application/vnd.etsi.asic-s+zip", Kind.JPEG: "image/jpeg", Kind.PNG: "image/png",
               Kind.TIFF: "image/tiff", Kind.GIF: "image/gif", Kind.EMPTY: "application/octet-stream",
               Kind.OTHER: "application/octet-stream"}

IMAGES = frozenset({Kind.JPEG, Kind.PNG, Kind.TIFF, Kind.GIF})
SPREADSHEETS = frozenset({Kind.XLSX, Kind.XLS, Kind.ODS})

_BY_EXTENSION = {".pdf": Kind.PDF, ".docx": Kind.DOCX, ".odt": Kind.ODT, ".eml": Kind.EML,
                 ".html": Kind.HTML, ".htm": Kind.HTML, ".txt": Kind.TEXT, ".text": Kind.TEXT,
                 ".csv": Kind.TEXT, ".md": Kind.TEXT, ".xlsx": Kind.XLSX, ".xls": Kind.XLS, ".ods": Kind.ODS,
                 ".msg": Kind.MSG, ".asice": Kind.ASICE, ".sce": Kind.ASICE, ".bdoc": Kind.ASICE,
                 ".asics": Kind.ASICS, ".scs": Kind.ASICS}
# Formats whose name is a promise about the bytes: a mismatch means damage or disguise.
_STRICT = {Kind.PDF, Kind.DOCX, Kind.ODT, Kind.EML, Kind.XLSX, Kind.XLS, Kind.ODS, Kind.MSG, Kind.ASICE,
           Kind.ASICS}
_OWN_READER = {Kind.PDF, Kind.DOCX, Kind.ODT, Kind.EML, Kind.XLSX, Kind.XLS, Kind.ODS, Kind.MSG, Kind.ASICE}
# The mimetype member that opens an OpenDocument file or an ASiC container (ETSI EN 319 162-1).
_ZIP_MIMETYPES = {b"application/vnd.oasis.opendocument.text": Kind.ODT,
                  b"application/vnd.oasis.opendocument.spreadsheet": Kind.ODS,
                  b"application/vnd.etsi.asic-e+zip": Kind.ASICE,
                  b"application/vnd.etsi.asic-s+zip": Kind.ASICS}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A file whose name claims one of these and whose bytes open the right container is read as
# claimed, so that a truncated workbook or message is "damaged", not "disguised".
_CONTAINED = {Kind.XLSX: b"PK\x03\x04", Kind.ODS: b"PK\x03\x04", Kind.XLS: OLE_MAGIC, Kind.MSG: OLE_MAGIC}
_IMAGE_MAGIC = ((b"\xff\xd8\xff", Kind.JPEG), (b"\x89PNG\r\n\x1a\n", Kind.PNG), (b"II*\x00", Kind.TIFF),
                (b"MM\x00*", Kind.TIFF), (b"GIF87a", Kind.GIF), (b"GIF89a", Kind.GIF))

_HEADER_LINE = re.compile(rb"^([A-Za-z0-9-]{1,40}):[ \t]")
_MAIL_HEADERS = {b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"received",
                 b"return-path", b"delivered-to", b"cc", b"reply-to"}


def extension_of(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 and len(name) - dot <= 8 else ""


def _zip_kind(data: bytes) -> Kind:
    """Office Open XML by its main part; OpenDocument and ASiC by their mimetype member."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist()[:1000])
            if "word/document.xml" in names:
                return Kind.DOCX
            if "xl/workbook.xml" in names and "[Content_Types].xml" in names:
                return Kind.XLSX
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size < 100:
                    kind = _ZIP_MIMETYPES.get(archive.read(info).strip())
                    if kind in (Kind.ODT, Kind.ODS) and "content.xml" in names:
                        return kind
                    if kind in (Kind.ASICE, Kind.ASICS):
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError, RuntimeError):
        pass
    return Kind.OTHER


def _ole_kind(data: bytes) -> Kind:
    """An OLE2 compound file by the streams in its root storage (read from memory, never a path)."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            names = {entry[0] for entry in ole.listdir(streams=True, storages=True) if entry}
    except (OSError, ValueError, IndexError, KeyError, TypeError, RecursionError, MemoryError, EOFError):
        return Kind.OTHER
    if "__properties_version1.0" in names and any(n.startswith("__substg1.0_") for n in names):
        return Kind.MSG
    if "Workbook" in names or "Book" in names:
        return Kind.XLS
    if "WordDocument" in names:
        return Kind.DOC
    if "PowerPoint Document" in names:
        return Kind.PPT
    return Kind.OTHER


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
    if data.startswith(OLE_MAGIC):
        return _ole_kind(data)
    for magic, kind in _IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    if data.startswith((b"\xd0\xcf\x11\xe0", b"\x89PNG", b"GIF8", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"\x7fELF",
                        b"MZ")):
        return Kind.OTHER
    if _looks_like_mail(data[:16384].lstrip(b"\r\n")):
        return Kind.EML
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html")) or b"<html" in stripped[:512]:
        return Kind.HTML
    return Kind.TEXT  # text.py decides whether the bytes really are text


def _a(label: str) -> str:
    return f"{'an' if label[0] in 'aeiouAEIOU' else 'a'} {label}"


def choose(data: bytes, name: str) -> tuple[Kind, str]:
    """The kind to read the file as, and a note when its extension disagrees (or a rejection)."""
    found = sniff(data)
    claimed = _BY_EXTENSION.get(extension_of(name))
    if found is Kind.OTHER and claimed in _CONTAINED and data.startswith(_CONTAINED[claimed]):
        return claimed, ""  # the right container, damaged inside: its reader says what is wrong
    if claimed is None or claimed == found or found is Kind.EMPTY:
        return found, ""
    if found in _OWN_READER:
        return found, f"the file is {_a(LABELS[found])} although its name ends in {extension_of(name)}"
    if claimed in _STRICT:
        raise ExtractionFailed(f"the file's name ends in {extension_of(name)} but it is not "
                               f"{_a(LABELS[claimed])}; it may be damaged or disguised.")
    return found, ""
