"""Editing a record on its page: metadata and class fields, lifecycle events, an invoice marked paid.

Each view parses the form, checks it (dates as 31.12.2031 or 2031-12-31, amounts with a decimal comma
or point), and calls one use case: records.amendment.edit_metadata (one audit entry with each field's
old and new value) or records.lifecycle. A reclassification, and any edit that moves retention
earlier, first shows a confirmation step with the old and the new keep-until (and asks for the
justification, saying when a second person must approve it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from records import amendment, lifecycle, retrieval
from records.access import AccessScope, Permission
from records.dates import parse_amount, parse_day
from records.errors import AccessDenied, RecordNotFound, RecordsError
from records.model import Confidentiality, Record, RecordId
from web.blueprints import guard
from web.wording import event_name

bp = Blueprint("record_edit", __name__, url_prefix="/records")
MAX_VALUE = 2000


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: object  # a lazy translated string
    kind: str = "text"  # text | date | amount | days | flag | direction | currency | list


COMMON = (Field("title", _l("Title")), Field("document_date", _l("Document date"), "date"),
          Field("principal", _l("Principal")), Field("tags", _l("Tags"), "list"))
DETAIL_FIELDS: dict[str, tuple[Field, ...]] = {
    "contract": (Field("parties", _l("Parties"), "list"), Field("signed", _l("Signed"), "date"),
                 Field("effective", _l("Effective from"), "date"), Field("expiry", _l("Expires"), "date"),
                 Field("notice_days", _l("Notice period (days)"), "days"),
                 Field("auto_renewal", _l("Renews automatically"), "flag"),
                 Field("value", _l("Value"), "amount"), Field("currency", _l("Currency"), "currency")),
    "invoice": (Field("issuer", _l("Supplier")), Field("number", _l("Invoice number")),
                Field("amount", _l("Amount"), "amount"), Field("currency", _l("Currency"), "currency"),
                Field("due_date", _l("Due date"), "date"), Field("paid_on", _l("Paid on"), "date"),
                Field("payment_reference", _l("Payment reference"))),
    "correspondence": (Field("direction", _l("Direction"), "direction"), Field("sender", _l("Sender")),
                       Field("recipients", _l("Recipients"), "list"), Field("subject", _l("Subject")),
                       Field("reply_to", _l("In reply to (registry number)"))),
    "hr": (Field("employee", _l("Employee")), Field("employment_end", _l("Employment ended"), "date")),
    "minutes": (Field("body", _l("Body (board, assembly)")), Field("meeting_date", _l("Meeting date"), "date"),
                Field("session_number", _l("Session number"))),
}
EVENT_LABELS = {"contract_end": _l("Contract ended or terminated"), "employment_end": _l("Employee left"),
                "case_closed": _l("Case closed"), "superseded": _l("Superseded"),
                "asset_disposed": _l("Asset disposed of")}


def detail_kind(record: Record) -> str | None:
    return record.details.kind if record.details is not None else guard.plan().resolve(record.record_class).detail


def form_fields(record: Record) -> tuple[Field, ...]:
    kind = detail_kind(record)
    return DETAIL_FIELDS.get(kind, ()) if kind else ()


def current_values(record: Record) -> dict[str, str]:
    """The record's values as the form shows them (dates and amounts as stored: ISO, decimal point)."""
    names = [f.name for f in (*COMMON, *form_fields(record))] + ["record_class", "confidentiality"]
    return {n: amendment.field_value(record, n) for n in names}


def _check(field: Field, value: str) -> str | None:
    """A translated sentence when `value` does not fit the field; None when it does."""
    from flask_babel import gettext as _
    if not value:
        return None
    try:
        if field.kind == "date":
            parse_day(value)
        elif field.kind == "amount":
            parse_amount(value)
    except RecordsError:
        if field.kind == "date":
            return str(_("%(field)s: write a date such as 31.12.2031.", field=field.label))
        return str(_("%(field)s: write an amount such as 1234,56.", field=field.label))
    if field.kind == "days" and not value.isdigit():
        return str(_("%(field)s: write a whole number of days, such as 90.", field=field.label))
    if field.kind == "currency" and (len(value) != 3 or not value.isalpha()):
        return str(_("%(field)s: write a three-letter code such as EUR.", field=field.label))
    return None


def submitted(record: Record, form: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The fields whose value the form changes, and a sentence for each value that does not fit."""
    current = current_values(record)
    changes: dict[str, str] = {}
    errors: list[str] = []
    for field in (*COMMON, *form_fields(record)):
        if field.kind == "flag":
            value = "yes" if form.get(field.name, "") in ("yes", "on", "True") else "no"
            if value != ("yes" if current.get(field.name) == "True" else "no"):
                changes[field.name] = value
            continue
        if field.name not in form:
            continue
        value = form.get(field.name, "")[:MAX_VALUE].strip()
        problem = _check(field, value)
        if problem:
            errors.append(problem)
        elif not _same(field, value, current.get(field.name, "")):
            changes[field.name] = value
    for name in ("record_class", "confidentiality"):
        value = form.get(name, "").strip()
        if value and value != current.get(name):
            changes[name] = value
    return changes, errors


def _same(field: Field, typed: str, stored: str) -> bool:
    if field.kind == "date" and typed and stored:
        return parse_day(typed).isoformat() == stored
    if field.kind == "amount" and typed and stored:
        return parse_amount(typed) == parse_amount(stored)
    if field.kind == "list":
        return [v.strip() for v in typed.split(",") if v.strip()] == [v.strip() for v in stored.split(",") if v.strip()]
    return typed == stored


def _form_page(record: Record, values: Mapping[str, str], errors: list[str], status: int = 200
               ) -> tuple[str, int]:
    plan = guard.plan()
    return render_template("record/edit.html", record=record, values=values, errors=errors,
                           common=COMMON, details=form_fields(record), classes=plan.classes,
                           levels=[c.value for c in Confidentiality]), status


def _apply(s: AccessScope, record: Record, changes: dict[str, str], form: Mapping[str, str],
           values: Mapping[str, str]) -> BaseResponse | tuple[str, int]:
    """Confirm when the edit reclassifies or moves retention earlier; otherwise (or once confirmed) save."""
    state = guard.state()
    jurisdiction = state.settings.jurisdiction
    preview = amendment.preview_edit(record, guard.plan(), changes, jurisdiction=jurisdiction, today=guard.now().date())
    reason = form.get("reason", "")[:500].strip()
    two_person = state.office.safeguards.require_second_approver
    if ((preview.reclassified or preview.shortening) and not form.get("confirmed")) or (preview.shortening
                                                                                         and not reason):
        missing = bool(form.get("confirmed")) and preview.shortening and not reason
        return render_template("record/confirm.html", record=record, preview=preview, changes=changes,
                               values=values, two_person=two_person, missing_reason=missing,
                               old_class=guard.plan().by_code().get(record.record_class),
                               new_class=guard.plan().by_code().get(preview.updated.record_class),
                               action=request.path), 200
    result = amendment.edit_metadata(guard.ports(), guard.plan(), s, record.id, changes, jurisdiction=jurisdiction,
                                     now=guard.now(), reason=reason, require_second_approver=two_person,
                                     channel="web")
    done = "proposed" if result.status == "proposed" else "saved"
    return redirect(url_for("records.view", record_id=record.id, done=done, _anchor="edit-status"))


@bp.route("/<record_id>/edit", methods=["GET", "POST"])
def edit(record_id: str) -> BaseResponse | tuple[str, int]:
    s = guard.require(Permission.EDIT)
    record = retrieval.visible_record(guard.ports(), s, RecordId(record_id))
    if request.method == "GET":
        return _form_page(record, current_values(record), [])
    values = {**current_values(record), **{k: v[:MAX_VALUE] for k, v in request.form.items()}}
    changes, errors = submitted(record, request.form)
    if errors:
        return _form_page(record, values, errors, 400)
    if not changes:
        from flask_babel import gettext as _
        return _form_page(record, values, [_("Nothing was changed: type a new value first.")], 400)
    try:
        return _apply(s, record, changes, request.form, {k: v[:MAX_VALUE] for k, v in request.form.items()})
    except (RecordNotFound, AccessDenied):
        raise
    except RecordsError as exc:
        return _form_page(record, values, [str(exc)], 400)


@bp.post("/<record_id>/event")
def record_event(record_id: str) -> BaseResponse | tuple[str, int]:
    from flask_babel import gettext as _
    s = guard.require(Permission.EDIT)
    record = retrieval.visible_record(guard.ports(), s, RecordId(record_id))
    name = request.form.get("event", "")
    typed = request.form.get("date", "").strip()
    if name not in lifecycle.event_names(guard.plan()):
        return render_template("error.html", status=400, message=_("Choose an event from the list.")), 400
    try:
        day = parse_day(typed) if typed else None
    except RecordsError:
        return render_template("error.html", status=400,
                               message=_("Write the date of the event such as 31.12.2031.")), 400
    changes = {f"event.{name}": day.isoformat() if day else ""}
    try:
        return _apply(s, record, changes, request.form, {**request.form})
    except (RecordNotFound, AccessDenied):
        raise
    except RecordsError as exc:
        return render_template("error.html", status=400, message=str(exc)), 400


@bp.post("/<record_id>/paid")
def mark_paid(record_id: str) -> BaseResponse | tuple[str, int]:
    from flask_babel import gettext as _
    s = guard.require(Permission.EDIT)
    try:
        paid_on = parse_day(request.form.get("paid_on", "")) if request.form.get("paid_on", "").strip() \
            else guard.now().date()
    except RecordsError:
        return render_template("error.html", status=400, message=_("Write the day of payment such as 31.12.2031.")), 400
    try:
        lifecycle.mark_paid(guard.ports(), guard.plan(), s, RecordId(record_id), paid_on,
                            reference=request.form.get("reference", "")[:200], now=guard.now(),
                            jurisdiction=guard.state().settings.jurisdiction, channel="web")
    except (RecordNotFound, AccessDenied):
        raise
    except RecordsError as exc:
        return render_template("error.html", status=400, message=str(exc)), 400
    back = request.form.get("back", "")
    if back == "invoices":
        return redirect(url_for("registers.invoices", show=request.form.get("show", "")))
    return redirect(url_for("records.view", record_id=record_id, done="paid", _anchor="edit-status"))


@bp.app_context_processor
def record_tools() -> dict[str, object]:
    """`record_tools(record)` for the record page's partials: labelled class fields, the events a person
    may record, whether the user may edit and whether the record is an unpaid invoice."""
    def tools(record: Record) -> dict[str, object]:
        s = guard.scope()
        plan = guard.plan()
        values = current_values(record)
        labelled = [(f.label, values.get(f.name, ""), f.kind) for f in form_fields(record)]
        extra = dict(record.extra)
        events = [(n, EVENT_LABELS.get(n) or event_name(n), extra.get(f"event.{n}", ""))
                  for n in lifecycle.event_names(plan)]
        kind = detail_kind(record)
        paid_on = values.get("paid_on", "")
        return {"may_edit": s.may(Permission.EDIT) and record.state.value != "disposed", "fields": labelled,
                "events": events, "class_event": lifecycle.class_event(plan, record.record_class),
                "invoice": kind == "invoice", "paid_on": paid_on, "done": request.args.get("done", ""),
                "today": guard.now().date()}
    return {"record_tools": tools, "as_day": _as_day}



def _as_day(text: str) -> date | str:
    """A stored ISO date as a date (for the locale's format); other text as it is."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text
