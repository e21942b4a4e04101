"""XML parsed with defusedxml (no DTDs, entities or external references) and HTML reduced to text."""

from __future__ import annotations

import html.parser
import re
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from records.errors import ExtractionFailed

_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote",
                     "pre", "section", "article", "header", "footer", "title", "hr"})
_SKIPPED = frozenset({"script", "style", "head", "template", "noscript", "svg", "object", "iframe"})


def parse_xml(data: bytes, label: str) -> Element:
    try:
        root: Element = safe_xml.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        return root
    except DefusedXmlException:
        raise ExtractionFailed(f"the {label} contains XML declarations (DTD or entities) that documents "
                               "never need and that can be used to attack readers.") from None
    except (safe_xml.ParseError, ValueError):
        raise ExtractionFailed(f"the {label} is damaged (its XML cannot be read).") from None


class _TextOf(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text only: scripts, styles and references are dropped, nothing is fetched or rendered."""
    parser = _TextOf()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t\r\f\v\xa0]+", " ", text)
    return re.sub(r"\s*\n\s*", "\n", text).strip()
