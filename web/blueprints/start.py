"""The start page after sign-in: deadlines, overdue items, holds, waiting and rejected files, recent filings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from records import agenda, rejections, resolutions
from records.access import Permission
from records.errors import RecordsError
from vault import TargetStatus
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
    backups = [_backup_row(b) for b in state.office.backup_status()] if s.may(Permission.ADMIN) else []
    return render_template("start.html", agenda=found, resolutions_due=due, resolutions_late=late,
                           classes=[c for c in state.plan.classes if not c.unsorted],
                           labels=state.plan.by_code(), backups=backups,
                           filing_paused=files and state.office.filing_paused() is not None)


@dataclass(frozen=True, slots=True)
class BackupRow:
    target: str
    last_success: datetime | None
    size: str  # "12.3 MB" in the page's language
    objects: int
    last_failure: datetime | None
    failure: str
    failing: bool


def _backup_row(status: TargetStatus) -> BackupRow:
    def when(stamp: str | None) -> datetime | None:
        return datetime.fromisoformat(stamp) if stamp else None
    return BackupRow(target=status.target, last_success=when(status.last_success),
                     size=f"{format_decimal(status.size / 1e6, format='#,##0.0')} MB", objects=status.objects,
                     last_failure=when(status.last_failure), failure=status.failure, failing=status.failing)


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
