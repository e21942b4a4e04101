"""The start page after sign-in: deadlines, overdue items, holds, waiting and rejected files, recent filings."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from records import agenda, rejections, resolutions
from records.access import Permission
from records.errors import RecordsError
from vault.errors import VaultError
from vault.inbox import RejectedFolder, list_pending
from web.blueprints import guard

bp = Blueprint("start", __name__)


def rejected_folder() -> RejectedFolder:
    state = guard.state()
    return RejectedFolder(Path(str(state.home_path)), frozenset(c.slug for c in state.plan.classes if not c.unsorted))


@bp.get("/")
def index() -> str:
    s = guard.require(Permission.READ)
    state = guard.state()
    files = s.may(Permission.FILE)
    unsorted = list_pending(Path(str(state.home_path)), settle_seconds=state.settings.stability_seconds) \
        if files else []
    found = agenda.agenda(state.ports.catalog, state.plan, s, jurisdiction=state.settings.jurisdiction,
                          today=guard.now().date(), unsorted=unsorted,
                          rejected=rejections.rejected_files(rejected_folder(), s))
    due, late = resolutions.agenda_split(state.ports, s, today=found.today, window_days=found.window_days)
    return render_template("start.html", agenda=found, resolutions_due=due, resolutions_late=late, classes=[c for c in state.plan.classes if not c.unsorted],
                           labels=state.plan.by_code())


@bp.post("/rejected/retry")
def retry() -> Response | tuple[str, int]:
    s = guard.require(Permission.FILE)
    name = request.form.get("name", "")
    try:
        rejections.retry_rejected(guard.ports(), s, rejected_folder(), name, request.form.get("folder", ""),
                                  now=guard.now(), channel="web")
    except (RecordsError, VaultError) as exc:
        return render_template("error.html", status=400, message=str(exc)), 400
    flash(_("%(name)s was put back into the drop folder; it will be filed again.", name=name))
    return redirect(url_for("start.index", _anchor="rejected"))


@bp.post("/rejected/discard")
def discard() -> Response | tuple[str, int]:
    s = guard.require(Permission.FILE)
    name = request.form.get("name", "")
    try:
        rejections.discard_rejected(guard.ports(), s, rejected_folder(), name, now=guard.now(), channel="web")
    except (RecordsError, VaultError) as exc:
        return render_template("error.html", status=400, message=str(exc)), 400
    flash(_("%(name)s was deleted.", name=name))
    return redirect(url_for("start.index", _anchor="rejected"))
