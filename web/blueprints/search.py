"""The search page: one box, facets as links, sort, pages, highlighted snippets, "did you mean"."""

from __future__ import annotations

import re

from flask import Blueprint, render_template, request
from markupsafe import Markup, escape

from indexer.errors import IndexerError
from records import capture
from records.access import Permission
from records.errors import RecordNotFound
from records.model import BlobRole
from records.ports import SearchRequest, SearchResult
from web.blueprints import guard

bp = Blueprint("search", __name__)
PAGE_LEN = 20
MAX_QUERY = 500
SORTS = ("relevance", "-date", "date")
# facet key of SearchResult -> the field word of the query language
FACET_FIELDS = {"record_class": "class", "principal": "principal", "year": "year", "state": "state",
                "confidentiality": "confidentiality"}
_MARK = re.compile(r"</?mark>")
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#x27|#39|#34);")


def safe_snippet(snippet: str) -> Markup:
    """The indexer's snippet as markup only if it is escaped text with <mark> tags and nothing
    else; anything unexpected is shown as plain escaped text instead."""
    bare = _ENTITY.sub("", _MARK.sub("", snippet))
    if "<" in bare or ">" in bare or "&" in bare or '"' in bare:
        return escape(_MARK.sub("", snippet))
    return Markup(snippet)


def facet_term(key: str, value: str) -> str:
    word = FACET_FIELDS[key]
    return f'{word}:"{value}"' if re.search(r'[\s"]', value) else f"{word}:{value}"


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 500))
    except ValueError:
        return 1


@bp.get("/search")
def index() -> tuple[str, int] | str:
    s = guard.require(Permission.READ)
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    sort = request.args.get("sort", "relevance")
    sort = sort if sort in SORTS else "relevance"
    page = _page()
    if not query:
        return render_template("search.html", query="", result=None, error="", sort=sort, page=1,
                               pages=0, facet_term=facet_term, snippet=safe_snippet, labels=guard.plan().by_code())
    try:
        result = guard.search(SearchRequest(query=query, page=page, page_len=PAGE_LEN, sort=sort), s)
    except IndexerError as exc:
        return render_template("search.html", query=query, result=None, error=str(exc), sort=sort, page=1,
                               pages=0, facet_term=facet_term, snippet=safe_snippet,
                               labels=guard.plan().by_code()), 400
    pages = max(1, -(-result.total // PAGE_LEN))
    return render_template("search.html", query=query, result=result, error="", sort=sort, page=page,
                           pages=min(pages, 500), facet_term=facet_term, snippet=safe_snippet,
                           labels=guard.plan().by_code(), captures=_captures(result),
                           ocr_queue=capture.queue(guard.ports().catalog))


def _captures(result: SearchResult) -> dict[str, tuple[bool, bool, capture.JobStatus | None]]:
    """Per hit on this page (records the user may see): (has a thumbnail, text recognised by OCR, capture state)."""
    catalog = guard.ports().catalog
    found: dict[str, tuple[bool, bool, capture.JobStatus | None]] = {}
    for hit in result.hits:
        try:
            record = catalog.get(hit.record_id)
        except RecordNotFound:
            continue
        found[hit.record_id] = (record.blob(BlobRole.THUMBNAIL) is not None,
                                record.blob(BlobRole.OCR_TEXT) is not None, capture.status(catalog, record.id))
    return found
