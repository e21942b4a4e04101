"""Retention: what is due, what is held, disposal proposals with a justification and a second approver, the
review queue."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from records import casefiles, disposition, review
from records.access import Permission
from records.errors import RecordNotFound, RecordsError
from records.model import RecordId
from records.retention import Status
from web.blueprints import guard

bp = Blueprint("retention", __name__, url_prefix="/retention")


def _page(message: str = "", error: str = "", status: int = 200) -> tuple[str, int]:
    s = guard.require(Permission.READ)
    state = guard.state()
    today = guard.now().date()
    jurisdiction = state.settings.jurisdiction
    decisions = disposition.review(state.ports, state.plan, jurisdiction=jurisdiction, as_of=today, scope=s)
    due = [d for d in decisions if d.due and d.action is not None and d.action.value == "destroy"]
    queue = [d for d in decisions if d.due and d.action is not None and d.action.value == "review"]
    to_transfer = [d for d in decisions if d.due and d.action is not None and d.action.value == "transfer"]
    permanent = [d for d in decisions if d.status is Status.PERMANENT]
    missing = [d for d in decisions if d.status is Status.MISSING_TRIGGER]
    held = disposition.held(state.ports, state.plan, jurisdiction=jurisdiction, as_of=today, scope=s)
    casefile_numbers = casefiles.numbers(state.ports, s) if held else {}
    open_proposals = []
    if s.may(Permission.APPROVE) or s.may(Permission.DISPOSE):
        open_proposals = [(p, disposition.proposal_rows(state.ports, state.plan, s, p, jurisdiction=jurisdiction))
                          for p in disposition.proposals(state.ports)]
    return render_template("retention.html", due=due, queue=queue, to_transfer=to_transfer, held=held,
                           casefile_numbers=casefile_numbers,
                           permanent=permanent, missing=missing, proposals=open_proposals, message=message,
                           error=error, second_approver=state.office.safeguards.require_second_approver,
                           actor=s.actor, may_dispose=s.may(Permission.DISPOSE),
                           may_approve=s.may(Permission.APPROVE)), status


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
    if not request.form.get("reason", "").strip():
        return _page(error=_("Write down why these records may be destroyed now."), status=400)
    state = guard.state()
    try:
        result = disposition.dispose(state.ports, state.plan, s, ids, reason=request.form.get("reason", ""),
                                     jurisdiction=state.settings.jurisdiction, as_of=guard.now().date(),
                                     now=guard.now(), channel="web")
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


@bp.post("/review/<record_id>")
def decide(record_id: str) -> Response | tuple[str, int]:
    s = guard.require(Permission.DISPOSE)
    state = guard.state()
    try:
        choice = review.Choice(request.form.get("choice", ""))
        years = int(request.form["years"]) if request.form.get("years", "").strip() else None
    except ValueError:
        return _page(error=_("Choose what to do with the record; the years are a whole number."), status=400)
    try:
        review.decide(state.ports, state.plan, s, RecordId(record_id), choice, reason=request.form.get("reason", ""),
                      years=years, new_class=request.form.get("record_class", ""),
                      jurisdiction=state.settings.jurisdiction, as_of=guard.now().date(), now=guard.now(),
                      channel="web")
    except RecordNotFound:
        raise
    except RecordsError as exc:
        return _page(error=str(exc), status=400)
    return redirect(url_for("retention.index"))
