"""One entry point from bytes and a name to an Extraction: pick the format by magic bytes, then read it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from records.errors import ExtractionFailed
from records.ports import Extraction

from .asice import read_asice
from .docx import read_docx
from .eml import read_eml
from .kinds import IMAGES, MEDIA_TYPES, SPREADSHEETS, Kind, choose
from .markup import html_to_text
from .msg import read_msg
from .normalise import normalise
from .odt import read_odt
from .pades import with_signatures
from .pdf import read_pdf
from .signers import load_anchors
from .spreadsheet import read_spreadsheet
from .text import decode_text

UNSUPPORTED = "no text: file type not supported"
# Known by their bytes and filed with their media type, but not (yet) read for text.
_NOT_READ = {Kind.ASICS: "no text: the documents inside a signed container are not read yet",
             Kind.DOC: "no text: Word 97-2003 documents are not read; save it as .docx to search its text",
             Kind.PPT: UNSUPPORTED}
_IMAGE_NOTE = "no text: an image (its text is not recognised yet)"


def _read_text(data: bytes, max_chars: int) -> Extraction:
    try:
        text, _encoding = decode_text(data)
    except ExtractionFailed:
        # Not text after all (an image, an archive, random bytes): file it, flagged, without text.
        return Extraction(text="", media_type=MEDIA_TYPES[Kind.OTHER], note=UNSUPPORTED)
    return Extraction(text=text[:max_chars], media_type=MEDIA_TYPES[Kind.TEXT],
                      note="text cut at the size limit" if len(text) > max_chars else "")


def _read_html(data: bytes, max_chars: int) -> Extraction:
    try:
        markup, _encoding = decode_text(data)
    except ExtractionFailed:
        markup = data.decode("utf-8", "replace")
    text = html_to_text(markup)
    return Extraction(text=text[:max_chars], media_type=MEDIA_TYPES[Kind.HTML])


def read_document(data: bytes, name: str, max_chars: int, trusted: Sequence[bytes] = ()) -> Extraction:
    """Raises ExtractionFailed (one sentence) for damaged, disguised or hostile files. `trusted`: the
    office's trusted certificates (DER), against which signer certificates are checked."""
    kind, note = choose(data, name)
    if kind is Kind.PDF:
        result = read_pdf(data, max_chars)
        result = with_signatures(result, data, load_anchors(trusted))  # signed PDFs: pades.py
    elif kind is Kind.ASICE:
        result = read_asice(data, load_anchors(trusted))  # DigiDoc containers: asice.py
    elif kind is Kind.DOCX:
        result = read_docx(data)
    elif kind is Kind.ODT:
        result = read_odt(data)
    elif kind is Kind.EML:
        result = read_eml(data, max_chars)
    elif kind is Kind.MSG:
        result = read_msg(data, max_chars)
    elif kind in SPREADSHEETS:
        result = read_spreadsheet(data, kind, max_chars)
    elif kind in IMAGES:
        result = Extraction(text="", media_type=MEDIA_TYPES[kind], note=_IMAGE_NOTE)
    elif kind in _NOT_READ:
        result = Extraction(text="", media_type=MEDIA_TYPES[kind], note=_NOT_READ[kind])
    elif kind is Kind.HTML:
        result = _read_html(data, max_chars)
    elif kind is Kind.TEXT:
        result = _read_text(data, max_chars)
    elif kind is Kind.EMPTY:
        result = Extraction(text="", media_type=MEDIA_TYPES[Kind.EMPTY], note="no text: the file is empty")
    else:
        result = Extraction(text="", media_type=MEDIA_TYPES[Kind.OTHER], note=UNSUPPORTED)
    result = dataclasses.replace(result, text=normalise(result.text))
    if len(result.text) > max_chars:
        result = dataclasses.replace(result, text=result.text[:max_chars],
                                     note="; ".join(n for n in (result.note, "text cut at the size limit") if n))
    if note:
        result = dataclasses.replace(result, note="; ".join(n for n in (result.note, note) if n))
    return result
