"""Meetings in the browser: the list, a new meeting, the meeting page (agenda, materials, minutes,
resolutions, packs) and the resolutions register (filters, CSV for Excel). Every view starts with its
permission check and calls one use case; what a person may not see is left out by the use cases."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from records import meeting_bodies, meeting_filing, meetings, packs, resolutions, retrieval
from records.access import Permission
from records.dates import parse_day
from records.errors import RecordsError
from records.filing import FilingOutcome, FilingRequest
from records.meetings import Participant
from records.model import Confidentiality, RecordId
from web import i18n
from web.blueprints import guard
from web.meeting_pack import PackWords, render_pack

bp = Blueprint("meetings", __name__)


def _bodies() -> tuple[meeting_bodies.Body, ...]:
    return meeting_bodies.bodies(guard.ports(), guard.state().settings.jurisdiction)


def _body(code: str) -> meeting_bodies.Body:
    return meeting_bodies.body_of(guard.ports(), guard.state().settings.jurisdiction, code)


def _day(text: str, name: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return parse_day(text)
    except RecordsError:
        raise RecordsError(_("%(what)s is not a date: write it as 31.12.2031 or 2031-12-31.", what=name)) from None


def _participants(text: str) -> tuple[Participant, ...]:
    """One participant a line: "Name" or "Name = user"."""
    out = []
    for line in text.splitlines():
        name, _sep, user = line.partition("=")
        if name.strip():
            out.append(Participant(name=name.strip()[:200], user=user.strip()[:100]))
    return tuple(out)


def _upload() -> tuple[bytes, str] | None:
    upload: FileStorage | None = request.files.get("file")
    if upload is None or not upload.filename:
        return None
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:255] or "document"
    return upload.stream.read(), name  # in memory: nothing touches the disk before it is sealed


def _back(meeting_id: str, anchor: str = "") -> Response:
    return redirect(url_for("meetings.view", meeting_id=meeting_id, _anchor=anchor or None))  # type: ignore[return-value]


def _filed(outcome: FilingOutcome) -> None:
    flash(_("Filed as %(number)s and linked.", number=outcome.registry_number) if outcome.registry_number
          else _("Linked the record that already holds this document."))


@bp.get("/meetings")
def index() -> str:
    s = guard.require(Permission.READ)
    return render_template("meetings/list.html", meetings=meetings.meetings(guard.ports(), s),
                           bodies={b.code: b for b in _bodies()}, today=guard.now().date())


@bp.route("/meetings/bodies", methods=["GET", "POST"])
def bodies_page() -> str | Response:
    s = guard.require(Permission.READ)
    if request.method == "POST":
        guard.require(Permission.ADMIN)
        meeting_bodies.set_bodies(guard.ports(), guard.plan(), s, _bodies_form(), now=guard.now(), channel="web",
                                  jurisdiction=guard.state().settings.jurisdiction)
        flash(_("The list of bodies is saved."))
        return redirect(url_for("meetings.bodies_page"))  # type: ignore[return-value]
    blank = meeting_bodies.Body(code="", names=(), record_class="")
    return render_template("meetings/bodies.html", rows=[*_bodies(), blank, blank], classes=guard.plan().classes,
                           in_use=meetings.bodies_in_use(guard.ports()), may_admin=s.may(Permission.ADMIN))


def _bodies_form() -> list[meeting_bodies.Body]:
    """The rows of the bodies form; a row without a code is left out (that removes a body)."""
    out = []
    rows = request.form.get("rows", "")
    for n in range(min(int(rows), 100) if rows.isdigit() else 0):
        code = request.form.get(f"code-{n}", "").strip()
        if code:
            names = tuple((lang, request.form.get(f"{lang}-{n}", "").strip()[:100]) for lang in ("sl", "et", "en"))
            out.append(meeting_bodies.Body(code=code[:32], names=names,
                                           record_class=request.form.get(f"class-{n}", "").strip()))
    return out


@bp.route("/meetings/new", methods=["GET", "POST"])
def new() -> str | Response:
    s = guard.require(Permission.FILE)
    if request.method == "GET":
        return render_template("meetings/new.html", bodies=_bodies(), levels=list(Confidentiality), form={})
    form = request.form
    level = form.get("confidentiality", "")
    when = _day(form.get("date", ""), _("The meeting date"))
    if when is None:
        raise RecordsError(_("A meeting needs its date."))
    made = meetings.new_meeting(guard.ports(), guard.plan(), s, _body(form.get("body", "")), day=when,
                                place=form.get("place", "")[:200], participants=_participants(form.get("participants", "")),
                                principal=form.get("principal", "").strip()[:200],
                                confidentiality=Confidentiality(level) if level in set(Confidentiality) else None,
                                now=guard.now())
    return _back(made.meeting_id)


@bp.get("/meetings/<meeting_id>")
def view(meeting_id: str) -> str:
    s = guard.require(Permission.READ)
    p = guard.ports()
    m = meetings.meeting_of(p, s, meeting_id)
    materials = {item.item_id: retrieval.visible_records(p, s, item.materials) for item in m.items}
    return render_template("meetings/view.html", m=m, body=_body(m.body), materials=materials,
                           minutes=retrieval.visible_records(p, s, m.minutes), reason=packs.leave_out_reason,
                           words=PackWords.of(i18n.language()), classes=guard.plan().classes,
                           today=guard.now().date(), may_file=s.may(Permission.FILE))


@bp.post("/meetings/<meeting_id>/when")
def reschedule(meeting_id: str) -> Response:
    s = guard.require(Permission.FILE)
    made = meetings.reschedule(guard.ports(), s, meeting_id, day=_day(request.form.get("date", ""),
                                                                      _("The meeting date")),
                               place=request.form.get("place"), now=guard.now(), channel="web")
    flash(_("The meeting is now on %(day)s.", day=i18n.day(made.day)))
    return _back(meeting_id)


@bp.post("/meetings/<meeting_id>/items")
def add_item(meeting_id: str) -> Response:
    s = guard.require(Permission.FILE)
    meetings.add_item(guard.ports(), s, meeting_id, request.form.get("title", "")[:300], now=guard.now(),
                      channel="web")
    return _back(meeting_id, "agenda")


@bp.post("/meetings/<meeting_id>/items/<item_id>/move")
def move_item(meeting_id: str, item_id: str) -> Response:
    s = guard.require(Permission.FILE)
    step = -1 if request.form.get("step") == "up" else 1
    meetings.move_item(guard.ports(), s, meeting_id, item_id, step, now=guard.now(), channel="web")
    return _back(meeting_id, "agenda")


@bp.post("/meetings/<meeting_id>/items/<item_id>/remove")
def remove_item(meeting_id: str, item_id: str) -> Response:
    s = guard.require(Permission.FILE)
    meetings.remove_item(guard.ports(), s, meeting_id, item_id, now=guard.now(), channel="web")
    return _back(meeting_id, "agenda")


@bp.post("/meetings/<meeting_id>/items/<item_id>/materials")
def add_material(meeting_id: str, item_id: str) -> Response:
    s = guard.require(Permission.FILE)
    p = guard.ports()
    upload = _upload()
    if upload is not None:
        data, name = upload
        request_ = FilingRequest(original_name=name, record_class=request.form.get("record_class") or None,
                                 title=request.form.get("title", "").strip()[:300] or None)
        _filed(meeting_filing.file_material(p, s, guard.state().office.file, meeting_id, item_id, data, request_,
                                            now=guard.now(), channel="web"))
    else:
        record = retrieval.record_by_number(p, s, request.form.get("registry_number", ""))
        meetings.add_material(p, s, meeting_id, item_id, record.id, now=guard.now(), channel="web")
    return _back(meeting_id, f"item-{item_id}")


@bp.post("/meetings/<meeting_id>/items/<item_id>/materials/<record_id>/remove")
def remove_material(meeting_id: str, item_id: str, record_id: str) -> Response:
    s = guard.require(Permission.FILE)
    meetings.remove_material(guard.ports(), s, meeting_id, item_id, RecordId(record_id), now=guard.now(),
                             channel="web")
    return _back(meeting_id, f"item-{item_id}")


@bp.post("/meetings/<meeting_id>/minutes")
def minutes(meeting_id: str) -> Response:
    s = guard.require(Permission.FILE)
    p = guard.ports()
    m = meetings.meeting_of(p, s, meeting_id)
    upload = _upload()
    if upload is not None:
        data, name = upload
        _filed(meeting_filing.file_minutes(p, s, guard.state().office.file, _body(m.body), meeting_id, data, name,
                                           now=guard.now(), channel="web"))
    else:
        record = retrieval.record_by_number(p, s, request.form.get("registry_number", ""))
        meetings.add_minutes(p, s, meeting_id, record.id, now=guard.now(), channel="web")
    return _back(meeting_id, "minutes")


@bp.post("/meetings/<meeting_id>/items/<item_id>/resolutions")
def adopt(meeting_id: str, item_id: str) -> Response:
    s = guard.require(Permission.FILE)
    made = resolutions.adopt(guard.ports(), s, meeting_id, item_id, request.form.get("text", "")[:4000],
                             owner=request.form.get("owner", "")[:200],
                             due=_day(request.form.get("due", ""), _("The due date")), now=guard.now(),
                             channel="web")
    flash(_("Resolution %(number)s adopted.", number=made.number))
    return _back(meeting_id, f"item-{item_id}")


@bp.post("/meetings/<meeting_id>/resolutions/<resolution_id>/done")
def done(meeting_id: str, resolution_id: str) -> Response:
    s = guard.require(Permission.FILE)
    made = resolutions.mark_done(guard.ports(), s, meeting_id, resolution_id,
                                 on=_day(request.form.get("on", ""), _("The day")) or guard.now().date(),
                                 note=request.form.get("note", "")[:1000], now=guard.now(), channel="web")
    flash(_("Resolution %(number)s is done.", number=made.number))
    if request.form.get("back") == "register":
        return redirect(url_for("meetings.register"))  # type: ignore[return-value]
    return _back(meeting_id, "resolutions")


@bp.get("/meetings/<meeting_id>/pack/<user>.pdf")
def pack(meeting_id: str, user: str) -> Response:
    s = guard.require(Permission.FILE)
    p = guard.ports()
    m = meetings.meeting_of(p, s, meeting_id)
    words = PackWords.of(i18n.language())
    made = packs.hand_out(p, s, meeting_id, _body(m.body), user, now=guard.now(), channel="web",
                          render=lambda c: render_pack(c, words, guard.state().office.pack_maker))
    response = Response(made.data, mimetype="application/pdf")
    name = f"{m.body}-{m.seq}-{m.year}-{user}.pdf".replace("/", "-")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/resolutions")
def register() -> str | Response:
    s = guard.require(Permission.READ)
    status = request.args.get("status", "")
    status = status if status in resolutions.STATUSES else ""
    body = request.args.get("body", "")
    owner = request.args.get("owner", "")[:200]
    found = resolutions.register(guard.ports(), s, today=guard.now().date(), status=status,
                                 body=body if body in {b.code for b in _bodies()} else "", owner=owner)
    names = {b.code: b.name(i18n.language()) for b in _bodies()}
    if request.args.get("format") == "csv":
        response = Response(resolutions.register_csv(found, names), mimetype="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="resolutions.csv"'
        return response
    return render_template("meetings/resolutions.html", entries=found, names=names, status=status, body=body,
                           owner=owner, statuses=resolutions.STATUSES, may_file=s.may(Permission.FILE))

