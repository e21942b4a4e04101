"""The classification plan page: every class with its periods, triggers, bases and record counts, the history
of plan versions, and the schedule as CSV for an auditor."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from records import planstore, schedule
from records.access import Permission
from records.plan import RecordClass, Trigger, TriggerKind
from web.blueprints import guard
from web.i18n import language
from web.wording import event_name

bp = Blueprint("plan", __name__, url_prefix="/plan")


@bp.get("/")
def index() -> str:
    s = guard.require(Permission.READ)
    state = guard.state()
    catalog = state.home.catalog
    versions = planstore.history(catalog)
    return render_template("plan.html", plan=state.plan, counts=schedule.counts(state.ports, s),
                           versions=list(reversed(versions)), in_force=versions[-1] if versions else None,
                           year_end=state.office.safeguards.financial_year_end, lang=language(),
                           show_reasons=s.may(Permission.ADMIN) or s.may(Permission.AUDIT),
                           trigger_text=trigger_text, action_text=action_text, period_of=_period_of)


@bp.get("/schedule.csv")
def csv_export() -> Response:
    s = guard.require(Permission.READ)
    state = guard.state()
    number = planstore.version_in_force(state.home.catalog)
    body = b"".join(schedule.csv_bytes(state.plan, schedule.counts(state.ports, s)))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="retention-schedule-v{number}.csv"'})


def _period_of(cls: RecordClass, jurisdiction: str) -> object:
    return dict(cls.retention)[jurisdiction]


def trigger_text(trigger: Trigger) -> str:
    """Where the clock starts, in the page's language (event and field names stay as the plan spells them)."""
    words: dict[TriggerKind, str] = {
        TriggerKind.DOCUMENT_DATE: _("from the document date"),
        TriggerKind.FILING_DATE: _("from the filing date"),
        TriggerKind.CALENDAR_YEAR_END: _("from the end of the calendar year of %(field)s", field=event_name(trigger.of)),
        TriggerKind.FISCAL_YEAR_END: _("from the end of the financial year of %(field)s", field=event_name(trigger.of)),
        TriggerKind.LATER_YEAR_END: _("from the later of the calendar and the financial year end of %(field)s",
                                      field=event_name(trigger.of)),
        TriggerKind.EVENT: _("from the event: %(event)s", event=event_name(trigger.of)),
        TriggerKind.PERMANENT: _("no end"),
    }
    return words[trigger.kind]


def action_text(action: object) -> str:
    words: dict[str, str] = {"destroy": _("destroy"), "review": _("review"), "transfer": _("transfer to an archive"),
             "permanent": _("keep permanently")}
    return words.get(str(action), str(action))
