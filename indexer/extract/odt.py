"""ODT text and meta (title, creator, creation date) read from content.xml and meta.xml."""

from __future__ import annotations

from datetime import date
from xml.etree.ElementTree import Element

from records.errors import ExtractionFailed
from records.ports import Extraction

from .archive import open_zip, read_member
from .kinds import MEDIA_TYPES, Kind
from .markup import parse_xml

DC = "{http://purl.org/dc/elements/1.1/}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
META = "{urn:oasis:names:tc:opendocument:xmlns:meta:1.0}"


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10]) if value else None
    except ValueError:
        return None


def _odt_text(node: Element, out: list[str]) -> None:
    if node.tag == f"{TEXT}s":
        out.append(" " * min(int(node.get(f"{TEXT}c", "1") or 1), 100))
    elif node.tag == f"{TEXT}tab":
        out.append("\t")
    elif node.tag == f"{TEXT}line-break":
        out.append("\n")
    elif node.text:
        out.append(node.text)
    for child in node:
        _odt_text(child, out)
        if child.tag in (f"{TEXT}p", f"{TEXT}h"):
            out.append("\n")
        if child.tail:
            out.append(child.tail)


def read_odt(data: bytes) -> Extraction:
    label = "OpenDocument text"
    with open_zip(data, label) as archive:
        content = read_member(archive, "content.xml", label)
        meta = read_member(archive, "meta.xml", label)
    if content is None:
        raise ExtractionFailed("the OpenDocument text has no content (content.xml is missing).")
    body = parse_xml(content, label).find(f"{OFFICE}body")
    parts: list[str] = []
    if body is not None:
        try:
            _odt_text(body, parts)
        except (RecursionError, ValueError):
            raise ExtractionFailed("the OpenDocument text nests its elements too deeply to read.") from None
    title = author = ""
    created = None
    if meta:
        info = parse_xml(meta, label).find(f"{OFFICE}meta")
        if info is not None:
            title = (info.findtext(f"{DC}title") or "").strip()
            author = (info.findtext(f"{META}initial-creator") or info.findtext(f"{DC}creator") or "").strip()
            created = _date(info.findtext(f"{META}creation-date"))
    text = "\n".join(line.rstrip() for line in "".join(parts).splitlines()).strip()
    return Extraction(text=text, media_type=MEDIA_TYPES[Kind.ODT], title=title, author=author, created=created)
