"""Retention: what is due, what is held, disposal proposals with a justification and a second approver, the
review queue."""

from __future__ import annotations

import json
from datetime import date

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from records import casefiles, certificates, disposition, review
from records.access import AccessScope, Permission
from records.certificates import Certificate
from records.dates import parse_day
from records.errors import RecordNotFound, RecordsError
from records.model import RecordId
from records.retention import Status
from web.blueprints import guard

bp = Blueprint("retention", __name__, url_prefix="/retention")


def _due_by() -> tuple[date | None, str]:
    """The day of "what falls due by" (?by=31.12.2031 or 2031-12-31), and a sentence when it is no date."""
    typed = request.args.get("by", "").strip()[:40]
    if not typed:
        return None, ""
    try:
        return parse_day(typed), ""
    except RecordsError:
        return None, _("Write the day as 31.12.2031 or 2031-12-31.")


def _page(message: str = "", error: str = "", status: int = 200, *, ticked: tuple[str, ...] = (),
          reason: str = "", certificate: Certificate | None = None) -> tuple[str, int]:
    s = guard.require(Permission.READ)
    state = guard.state()
    today = guard.now().date()
    by, by_error = _due_by() if request.method == "GET" else (None, "")
    as_of = by or today
    jurisdiction = state.settings.jurisdiction
    decisions = disposition.review(state.ports, state.plan, jurisdiction=jurisdiction, as_of=as_of, scope=s)
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
    # A look ahead ("what falls due by") is read-only: nothing is destroyed before its day.
    ahead = by is not None and by > today
    return render_template("retention.html", due=due, queue=queue, to_transfer=to_transfer, held=held,
                           casefile_numbers=casefile_numbers,
                           permanent=permanent, missing=missing, proposals=open_proposals, message=message,
                           error=error or by_error, second_approver=state.office.safeguards.require_second_approver,
                           actor=s.actor, may_dispose=s.may(Permission.DISPOSE) and not ahead,
                           may_approve=s.may(Permission.APPROVE), titles=disposition.titles(state.ports, s),
                           by=by, typed_by=request.args.get("by", "")[:40], ticked=set(ticked), reason=reason,
                           certificate=certificate, classes=state.plan.by_code()), status


@bp.get("/")
def index() -> tuple[str, int]:
    """Due, held, permanent and waiting records today, or with ?by=DATE what falls due by that day."""
    guard.require(Permission.READ)
    return _page()


@bp.post("/dispose")
def dispose() -> BaseResponse | tuple[str, int]:
    s = guard.require(Permission.DISPOSE)
    ids = [RecordId(i) for i in request.form.getlist("record_id")][:1000]

    def refused(error: str) -> tuple[str, int]:  # the page again, its ticks and justification kept
        return _page(error=error, status=400, ticked=tuple(ids), reason=request.form.get("reason", "")[:2000])
    if not ids:
        return refused(_("Tick the records to dispose of first."))
    if request.form.get("confirm") != "yes":
        return refused(_("Confirm the destruction by ticking the confirmation box."))
    if not request.form.get("reason", "").strip():
        return refused(_("Write down why these records may be destroyed now."))
    state = guard.state()
    try:
        result = disposition.dispose(state.ports, state.plan, s, ids, reason=request.form.get("reason", ""),
                                     jurisdiction=state.settings.jurisdiction, as_of=guard.now().date(),
                                     now=guard.now(), channel="web")
    except RecordNotFound:
        raise
    except RecordsError as exc:
        return refused(str(exc))
    if result.status == "proposed":
        return _page(message=_("Proposed for destruction; a second person must approve it."))
    return _page(message=ngettext("%(num)d record was destroyed.", "%(num)d records were destroyed.",
                                  len(result.record_ids)), certificate=result.certificate)


@bp.post("/approve/<proposal_id>")
def approve(proposal_id: str) -> BaseResponse | tuple[str, int]:
    s = guard.require(Permission.APPROVE)
    state = guard.state()
    try:
        disposition.approve(state.ports, state.plan, s, proposal_id, jurisdiction=state.settings.jurisdiction,
                            now=guard.now(), channel="web")
    except RecordsError as exc:
        return _page(error=str(exc), status=400)
    return redirect(url_for("retention.index"))


@bp.post("/review/<record_id>")
def decide(record_id: str) -> BaseResponse | tuple[str, int]:
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


def _may_read_certificates(s: AccessScope) -> bool:
    return s.may(Permission.AUDIT) or s.may(Permission.DISPOSE) or s.may(Permission.APPROVE)


@bp.get("/certificates/<certificate_id>")
def certificate(certificate_id: str) -> str:
    """A destruction certificate: what was destroyed, when, why and by whom, with its signed JSON."""
    s = guard.require(Permission.READ)
    if not _may_read_certificates(s):
        abort(403)
    cert = certificates.load(guard.ports().catalog, certificate_id[:64])
    return render_template("certificate.html", cert=cert, body=cert.body, classes=guard.plan().by_code())


@bp.get("/certificates/<certificate_id>.json")
def certificate_json(certificate_id: str) -> Response:
    s = guard.require(Permission.READ)
    if not _may_read_certificates(s):
        abort(403)
    cert = certificates.load(guard.ports().catalog, certificate_id[:64])
    response = Response(json.dumps(cert.to_json(), ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="certificate-{cert.certificate_id}.json"'
    return response
