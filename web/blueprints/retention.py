"""Retention: what is due for review, what is held, disposal with confirmation and a second approver."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from records import disposition
from records.access import Permission
from records.errors import RecordNotFound, RecordsError
from records.model import RecordId
from records.retention import Status
from web.blueprints import guard

bp = Blueprint("retention", __name__, url_prefix="/retention")


def _page(message: str = "", error: str = "", status: int = 200) -> tuple[str, int]:
    s = guard.require(Permission.READ)
    state = guard.state()
    decisions = disposition.review(state.ports, state.plan, jurisdiction=state.settings.jurisdiction,
                                   as_of=guard.now().date(), scope=s)
    due = [d for d in decisions if d.due]
    held = [d for d in decisions if d.status is Status.ON_HOLD]
    missing = [d for d in decisions if d.status is Status.MISSING_TRIGGER]
    open_proposals = disposition.proposals(state.ports) if s.may(Permission.APPROVE) or s.may(Permission.DISPOSE) else []
    return render_template("retention.html", due=due, held=held, missing=missing, proposals=open_proposals,
                           message=message, error=error,
                           second_approver=state.office.safeguards.require_second_approver,
                           may_dispose=s.may(Permission.DISPOSE), may_approve=s.may(Permission.APPROVE)), status


@bp.get("/")
def index() -> tuple[str, int]:
    guard.require(Permission.READ)
    return _page()


@bp.post("/dispose")
def dispose() -> Response | tuple[str, int]:
    s = guard.require(Permission.DISPOSE)
    ids = [RecordId(i) for i in request.form.getlist("record_id")][:1000]
    if not ids:
        return _page(error=_("Tick the records to dispose of first."), status=400)
    if request.form.get("confirm") != "yes":
        return _page(error=_("Confirm the destruction by ticking the confirmation box."), status=400)
    state = guard.state()
    try:
        result = disposition.dispose(state.ports, state.plan, s, ids, jurisdiction=state.settings.jurisdiction,
                                     as_of=guard.now().date(), now=guard.now(),
                                     require_second_approver=state.office.safeguards.require_second_approver,
                                     channel="web")
    except RecordNotFound:
        raise
    except RecordsError as exc:
        return _page(error=str(exc), status=400)
    if result.status == "proposed":
        return _page(message=_("Proposed for destruction; a second person must approve it."))
    return _page(message=_("%(n)d records were destroyed; the certificate is in the audit trail.",
                           n=len(result.record_ids)))


@bp.post("/approve/<proposal_id>")
def approve(proposal_id: str) -> Response | tuple[str, int]:
    s = guard.require(Permission.APPROVE)
    state = guard.state()
    try:
        disposition.approve(state.ports, state.plan, s, proposal_id, jurisdiction=state.settings.jurisdiction,
                            now=guard.now(), channel="web")
    except RecordsError as exc:
        return _page(error=str(exc), status=400)
    return redirect(url_for("retention.index"))
