"""The audit log: newest first, one page at a time, filterable by action, actor and record (auditors and admins)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from records import retrieval
from records.access import Permission
from records.audit_actions import KINDS
from web.audit_names import action as action_name
from web.audit_names import record_names
from web.blueprints import guard

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE = 100


@bp.get("/")
def index() -> str:
    s = guard.require(Permission.AUDIT)
    action = request.args.get("action", "").strip()[:64]
    actor = request.args.get("actor", "").strip()[:64]
    record = request.args.get("record", "").strip()[:64]
    before = request.args.get("before", "")
    before_seq = int(before) if before.isdigit() and len(before) < 19 else None
    # One row more than a page tells whether an older page exists, without counting the chain.
    entries = guard.ports().catalog.audit_page(before_seq=before_seq, limit=PAGE + 1, action=action,
                                               actor=actor, record_id=retrieval.id_of(guard.ports(), record))
    older = entries[PAGE - 1].seq if len(entries) > PAGE else None
    kinds = sorted(KINDS, key=action_name)
    return render_template("audit.html", entries=entries[:PAGE], action=action, actor=actor, record=record,
                           older=older, paged=before_seq is not None, kinds=kinds,
                           record_name=record_names(guard.ports().catalog, s.can_see))
