"""The audit log: newest first, filterable by action, actor and record (auditors and admins)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from records.access import Permission
from web.blueprints import guard

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE = 200


@bp.get("/")
def index() -> str:
    guard.require(Permission.AUDIT)
    action = request.args.get("action", "").strip()[:64]
    actor = request.args.get("actor", "").strip()[:64]
    record = request.args.get("record", "").strip()[:64]
    entries = []
    for entry in guard.ports().catalog.audit_entries():
        e = entry.event
        if (action and not e.action.startswith(action)) or (actor and e.actor != actor) or (
                record and e.record_id != record):
            continue
        entries.append(entry)
    entries = entries[-PAGE:][::-1]
    return render_template("audit.html", entries=entries, action=action, actor=actor, record=record)
