"""One record: metadata, class fields, retention and holds, preview, download, links, history."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from records import capture, certificates, holds, retention, retrieval
from records.access import Permission
from records.errors import AccessDenied, RecordNotFound, RecordsError
from records.model import BlobRole, RecordId, details_to_dict
from records.ports import RecordFilter
from web.blueprints import guard
from web.security import PREVIEW_CSP

bp = Blueprint("records", __name__, url_prefix="/records")
MAX_FILENAME_BYTES = 200
HISTORY_LIMIT = 50
PREVIEW_TEXT_CHARS = 200_000
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def download_name(name: str) -> str:
    """A file name safe for a header and a disk: no controls, bidi overrides, slashes; <= 200 bytes."""
    name = _BIDI.sub("", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.replace("/", "_").replace("\\", "_").strip().lstrip(".") or "document"
    encoded = name.encode("utf-8")
    if len(encoded) > MAX_FILENAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        ext = ext if dot and len(ext.encode()) <= 10 else ""
        keep = MAX_FILENAME_BYTES - len(ext.encode()) - (1 if ext else 0)
        stem_bytes = (stem if ext else name).encode("utf-8")[:keep]
        name = stem_bytes.decode("utf-8", "ignore") + (f".{ext}" if ext else "")
    return name


def content_disposition(name: str, kind: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback plus the exact name as UTF-8 in filename*."""
    safe = download_name(name)
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"%;\\' else "_" for ch in safe)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(safe, safe='')}"


@bp.get("/<record_id>")
def view(record_id: str) -> str:
    s = guard.require(Permission.READ)
    p = guard.ports()
    record = retrieval.view_record(p, s, RecordId(record_id), now=guard.now(), channel="web")
    plan = guard.plan()
    cls = plan.by_code().get(record.record_class)
    decision = retention.decide(record, plan, jurisdiction=guard.state().settings.jurisdiction, now=guard.now())
    children = [r for r in p.catalog.find(RecordFilter(parent_id=record.id)) if s.can_see(r)]
    parent = None
    if record.parent_id:
        try:
            parent = retrieval.visible_record(p, s, record.parent_id)
        except RecordNotFound:
            parent = None
    history = p.catalog.record_history(record.id, HISTORY_LIMIT)
    # No embedded frame (Chromium blocks a sandboxed PDF frame): until page images exist, the record's
    # own text rendition is the preview (a view), and the original only comes by Download.
    text = ""
    is_pdf = record.media_type == "application/pdf"
    job = capture.status(p.catalog, record.id)
    pages = job.pages if job is not None and record.blob(BlobRole.PREVIEW) is not None else 0
    if not pages and record.blob(BlobRole.TEXT) is not None and record.state.value != "disposed":
        text = retrieval.read_text(p, s, record.id, now=guard.now(), channel="web")[:PREVIEW_TEXT_CHARS]
    details = details_to_dict(record.details) or {}
    details.pop("kind", None)
    certificate = certificates.for_record(p.catalog, record.id) if record.state.value == "disposed" else None
    return render_template("record.html", record=record, cls=cls, decision=decision, children=children,
                           certificate=certificate,
                           parent=parent, history=history, text=text, is_pdf=is_pdf, pages=pages, job=job,
                           ocr=record.blob(BlobRole.OCR_TEXT) is not None, details=details,
                           may_hold=s.may(Permission.HOLD))


@bp.get("/<record_id>/pages/<int:number>")
def page_image(record_id: str, number: int) -> Response:
    """One page preview (JPEG from the sealed PREVIEW rendition), audited as a view, never a download."""
    s = guard.require(Permission.READ)
    _record, blob = retrieval.read_image(guard.ports(), s, RecordId(record_id), BlobRole.PREVIEW,
                                         now=guard.now(), part=f"page {number}", channel="web")
    return _jpeg(capture.unpack_preview(blob, number))


@bp.get("/<record_id>/thumbnail")
def thumbnail(record_id: str) -> Response:
    """The first page, small, for search results; audited as a view like the pages."""
    s = guard.require(Permission.READ)
    _record, image = retrieval.read_image(guard.ports(), s, RecordId(record_id), BlobRole.THUMBNAIL,
                                          now=guard.now(), part="thumbnail", channel="web")
    return _jpeg(image)


def _jpeg(image: bytes) -> Response:
    if not image.startswith(b"\xff\xd8"):  # our worker writes JPEG only; anything else is not served
        abort(404)
    response = Response(image, mimetype="image/jpeg")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response  # Cache-Control: no-store (web.security): the browser keeps no plaintext copy on disk


@bp.get("/<record_id>/preview")
def preview(record_id: str) -> Response:
    """The record's text rendition as plain text: a preview is a view (never the original, never HTML);
    only Download hands out the original and writes `record.download`."""
    s = guard.require(Permission.READ)
    p = guard.ports()
    record = retrieval.visible_record(p, s, RecordId(record_id))
    text = retrieval.read_text(p, s, record.id, now=guard.now(), channel="web")
    response = Response(iter([text.encode("utf-8")]), mimetype="text/plain; charset=utf-8")
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Disposition"] = content_disposition(record.original_name, "inline")
    return response


@bp.get("/<record_id>/download")
def download(record_id: str) -> Response:
    s = guard.require(Permission.READ)
    record, chunks = retrieval.read_original(guard.ports(), s, RecordId(record_id), now=guard.now(), channel="web")
    response = Response(chunks, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = content_disposition(record.original_name)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/<record_id>/holds")
def place_hold(record_id: str) -> BaseResponse | tuple[str, int]:
    s = guard.require(Permission.HOLD)
    try:
        holds.place_hold(guard.ports(), s, RecordId(record_id), request.form.get("reason", "")[:500],
                         now=guard.now(), channel="web")
    except RecordNotFound:
        raise
    except RecordsError as exc:
        return render_template("error.html", status=400, message=str(exc)), 400
    return redirect(url_for("records.view", record_id=record_id, _anchor="holds"))


@bp.post("/<record_id>/holds/<hold_id>/release")
def release_hold(record_id: str, hold_id: str) -> BaseResponse | tuple[str, int]:
    s = guard.require(Permission.HOLD)
    try:
        holds.release_hold(guard.ports(), s, RecordId(record_id), hold_id=hold_id, now=guard.now(),
                           reason=request.form.get("reason", "")[:500], channel="web")
    except (RecordNotFound, AccessDenied):
        raise
    except RecordsError as exc:
        return render_template("error.html", status=400, message=str(exc)), 400
    return redirect(url_for("records.view", record_id=record_id, _anchor="holds"))

