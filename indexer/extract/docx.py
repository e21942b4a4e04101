"""DOCX text (body, headers, footers, notes) and core properties read from its XML parts."""

from __future__ import annotations

from datetime import date
from xml.etree.ElementTree import Element

from records.errors import ExtractionFailed
from records.ports import Extraction

from .archive import open_zip, read_member
from .kinds import MEDIA_TYPES, Kind
from .markup import parse_xml

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DC = "{http://purl.org/dc/elements/1.1/}"
DCTERMS = "{http://purl.org/dc/terms/}"


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10]) if value else None
    except ValueError:
        return None


def _docx_text(root: Element) -> str:
    paragraphs: list[str] = []
    for paragraph in root.iter(f"{W}p"):
        parts: list[str] = []
        for node in paragraph.iter():
            if node.tag == f"{W}t" and node.text:
                parts.append(node.text)
            elif node.tag == f"{W}tab":
                parts.append("\t")
            elif node.tag in (f"{W}br", f"{W}cr"):
                parts.append("\n")
        paragraphs.append("".join(parts))
    return "\n".join(paragraphs).strip()


def read_docx(data: bytes) -> Extraction:
    label = "Word document"
    with open_zip(data, label) as archive:
        body = read_member(archive, "word/document.xml", label)
        if body is None:
            raise ExtractionFailed("the Word document has no body (word/document.xml is missing).")
        sections = [_docx_text(parse_xml(body, label))]
        for name in sorted(archive.namelist()):
            if name.startswith(("word/header", "word/footer", "word/footnotes", "word/endnotes")) \
                    and name.endswith(".xml"):
                part = read_member(archive, name, label)
                if part:
                    sections.append(_docx_text(parse_xml(part, label)))
        core = read_member(archive, "docProps/core.xml", label)
    title = author = ""
    created = None
    if core:
        props = parse_xml(core, label)
        title = (props.findtext(f"{DC}title") or "").strip()
        author = (props.findtext(f"{DC}creator") or "").strip()
        created = _date(props.findtext(f"{DCTERMS}created"))
    return Extraction(text="\n".join(s for s in sections if s), media_type=MEDIA_TYPES[Kind.DOCX],
                      title=title, author=author, created=created)
