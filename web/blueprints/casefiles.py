"""Case files (zadeve) and the decisions register: list, open, the case file page with its records, add
records by registry number or search, close and reopen with the retention consequence shown first,
holds, decisions. Each view parses, checks permission, calls one use case of records.casefiles,
records.casefile_closing or records.decisions, renders."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from records import casefile_closing, casefiles, decisions, matters, retrieval
from records.access import Permission
from records.casefiles import CaseFile
from records.dates import parse_day
from records.errors import RecordsError
from records.model import Confidentiality, Record, RecordId
from records.ports import SearchRequest
from web.blueprints import guard

bp = Blueprint("casefiles", __name__, url_prefix="/casefiles")
SHOW = ("open", "closed", "all")
SEARCH_HITS = 20
_TEXT = 500


def _form(name: str) -> str:
    return request.form.get(name, "")[:_TEXT]


def _day(name: str, default: date) -> date:
    typed = request.values.get(name, "").strip()
    return parse_day(typed, name) if typed else default


def _back(casefile_id: str, done: str = "") -> BaseResponse:
    return redirect(url_for("casefiles.view", casefile_id=casefile_id, done=done or None))


@bp.get("/")
def index() -> str:
    s = guard.require(Permission.READ)
    show = request.args.get("show", "open")
    show = show if show in SHOW else "open"
    return render_template("casefiles/index.html", rows=casefiles.listing(guard.ports(), s, show=show), show=show,
                           views=SHOW, plan=guard.plan(), tab="casefiles")


@bp.route("/new", methods=["GET", "POST"])
def new() -> tuple[str, int] | BaseResponse:
    s = guard.require(Permission.FILE)
    plan = guard.plan()
    error = ""
    if request.method == "POST":
        try:
            level = request.form.get("confidentiality", "")
            casefile = casefiles.open_casefile(
                guard.ports(), plan, s, title=_form("title"), record_class=_form("record_class"),
                principal=_form("principal"), now=guard.now(),
                confidentiality=Confidentiality(level) if level in tuple(Confidentiality) else None,
                opened_on=_day("opened_on", guard.now().date()), channel="web")
            return _back(casefile.casefile_id)
        except RecordsError as exc:
            error = str(exc)
    classes = [c for c in plan.classes if not c.unsorted]
    return render_template("casefiles/new.html", classes=classes, levels=list(Confidentiality), error=error,
                           form=request.form, today=guard.now().date()), (400 if error else 200)


@bp.get("/<casefile_id>")
def view(casefile_id: str) -> str:
    s = guard.require(Permission.READ)
    p = guard.ports()
    casefile = casefiles.get(p, s, casefile_id)
    words = request.args.get("q", "").strip()[:_TEXT]
    hits = guard.search(SearchRequest(query=words, page_len=SEARCH_HITS, with_facets=False), s).hits if words else ()
    return render_template("casefiles/view.html", casefile=casefile, records=casefiles.records_of(p, s, casefile),
                           holds=casefile_closing.holds_of(p, casefile), cls=guard.plan().by_code().get(
                               casefile.record_class), decisions=decisions.register(p, s, casefile_id=casefile_id),
                           words=words, hits=hits, done=request.args.get("done", ""), today=guard.now().date(),
                           may_edit=s.may(Permission.EDIT), may_hold=s.may(Permission.HOLD),
                           may_decide=s.may(Permission.EDIT) and s.may(Permission.FILE),
                           waits=casefile_closing.closed_by_casefile)


@bp.post("/<casefile_id>/records")
def add_record(casefile_id: str) -> BaseResponse:
    s = guard.require(Permission.EDIT)
    p = guard.ports()
    record = retrieval.record_by_number(p, s, _form("record"))
    casefiles.add_record(p, s, casefile_id, record.id, now=guard.now(), channel="web")
    return _back(casefile_id, "added")


@bp.post("/<casefile_id>/records/<record_id>/remove")
def remove_record(casefile_id: str, record_id: str) -> BaseResponse:
    s = guard.require(Permission.EDIT)
    casefiles.remove_record(guard.ports(), s, casefile_id, RecordId(record_id), now=guard.now(),
                            reason=_form("reason"), channel="web")
    return _back(casefile_id, "removed")


@bp.route("/<casefile_id>/close", methods=["GET", "POST"])
def close(casefile_id: str) -> str | BaseResponse:
    """GET: what closing on the day given does to each record's retention; POST: close."""
    s = guard.require(Permission.EDIT)
    p, plan, today = guard.ports(), guard.plan(), guard.now().date()
    jurisdiction = guard.state().settings.jurisdiction
    closed_on = _day("closed_on", today)
    if request.method == "POST":
        result = casefile_closing.close(
            p, plan, s, casefile_id, closed_on, jurisdiction=jurisdiction, now=guard.now(), reason=_form("reason"),
            require_second_approver=guard.state().office.safeguards.require_second_approver, channel="web")
        return _back(result.casefile.casefile_id, "closed")
    casefile = casefiles.get(p, s, casefile_id)
    effects = casefile_closing.preview_close(p, plan, s, casefile, closed_on, jurisdiction=jurisdiction, today=today)
    return render_template("casefiles/close.html", casefile=casefile, effects=effects, closed_on=closed_on,
                           needs_reason=any(c.shortening for c in effects), plan=plan)


@bp.post("/<casefile_id>/reopen")
def reopen(casefile_id: str) -> BaseResponse:
    s = guard.require(Permission.EDIT)
    casefile_closing.reopen(guard.ports(), guard.plan(), s, casefile_id, reason=_form("reason"),
                            jurisdiction=guard.state().settings.jurisdiction, now=guard.now(), channel="web")
    return _back(casefile_id, "reopened")


@bp.post("/<casefile_id>/hold")
def hold(casefile_id: str) -> BaseResponse:
    s = guard.require(Permission.HOLD)
    casefile_closing.hold(guard.ports(), guard.plan(), s, casefile_id, _form("reason"), now=guard.now(), channel="web")
    return _back(casefile_id, "held")


@bp.post("/<casefile_id>/holds/<hold_id>/release")
def release(casefile_id: str, hold_id: str) -> BaseResponse:
    s = guard.require(Permission.HOLD)
    casefile = casefiles.get(guard.ports(), s, casefile_id)
    if hold_id not in {h.hold_id for h in casefile_closing.holds_of(guard.ports(), casefile)}:
        raise RecordsError("That hold is not on this case file.")
    matters.release(guard.ports(), s, hold_id, reason=_form("reason"), now=guard.now(), channel="web")
    return _back(casefile_id, "released")


@bp.post("/<casefile_id>/decisions")
def decide(casefile_id: str) -> BaseResponse:
    s = guard.require(Permission.EDIT)
    p = guard.ports()
    record = retrieval.record_by_number(p, s, _form("record"))
    decisions.issue(p, s, casefile_id, record.id, addressee=_form("addressee"), subject=_form("subject"),
                    issued_on=_day("issued_on", guard.now().date()), now=guard.now(), channel="web")
    return _back(casefile_id, "decided")


@bp.get("/decisions")
def register() -> str | Response:
    s = guard.require(Permission.READ)
    year_text = request.args.get("year", "")
    year = int(year_text) if year_text.isdigit() else None
    rows = decisions.register(guard.ports(), s, year=year)
    if request.args.get("format") == "csv":
        response = Response(decisions.register_csv(rows), mimetype="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="decisions.csv"'
        return response
    return render_template("casefiles/decisions.html", rows=rows, year=year_text if year else "",
                           tab="decisions")


@bp.app_context_processor
def casefile_tools() -> dict[str, object]:
    """`record_casefile(record)` for the record page: the case file it belongs to, when the user may see it."""
    def record_casefile(record: Record) -> CaseFile | None:
        return casefiles.casefile_of(guard.ports(), guard.scope(), record)
    return {"record_casefile": record_casefile}
