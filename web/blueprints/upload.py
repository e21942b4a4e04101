"""Filing from the browser (upload, several files at once) and the unsorted queue (classify)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from records import rejections
from records.access import AccessScope, Permission
from records.dates import parse_day
from records.errors import RecordsError
from records.filing import FilingOutcome, FilingRequest, rejected, seen_by
from records.model import Confidentiality
from records.plan import RecordClass
from vault.errors import VaultError
from vault.inbox.pending import classify_pending, list_pending
from web.blueprints import guard
from web.blueprints.start import rejected_folder  # the start page lists them, with retry and discard

bp = Blueprint("upload", __name__)
MAX_FILES = 50


def _template(form: dict[str, str], actor: str) -> FilingRequest:
    level = form.get("confidentiality", "")
    day = form.get("document_date", "").strip()
    try:
        document_date = parse_day(day) if day else None
    except RecordsError:
        raise RecordsError(_("The document date is not a date: write it as 31.12.2031 or 2031-12-31.")) from None
    if level and level not in {c.value for c in Confidentiality}:
        raise RecordsError(_("Choose a confidentiality level from the list."))
    return FilingRequest(original_name="", record_class=form.get("record_class") or None,
                         principal=form.get("principal", "").strip()[:200],
                         confidentiality=Confidentiality(level) if level else None,
                         title=form.get("title", "").strip()[:300] or None, document_date=document_date,
                         actor=actor, channel="web")


def _file_one(upload: FileStorage, template: FilingRequest, scope: AccessScope) -> FilingOutcome:
    """File one uploaded file straight from the request's in-memory body: no byte of it is written to
    disk before it is sealed (security.InMemoryRequest keeps the body off the disk too)."""
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:255] or "document"
    try:
        data = upload.stream.read()
        outcome = guard.state().office.file(data, replace(template, original_name=name))
    except RecordsError as exc:
        return rejected(str(exc), name)
    return seen_by(guard.ports(), scope, outcome).named(name)


KEPT_FIELDS = ("record_class", "principal", "confidentiality")  # the next batch is usually filed alike
ROWS_HEADER = "X-Strongroom-Rows"  # strongroom.js files one file per request and asks for its result rows


def _page(classes: list[RecordClass], form: Mapping[str, str], results: list[FilingOutcome], error: str
          ) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    status = 400 if error else 200
    if request.headers.get(ROWS_HEADER):  # answered in kind, so the script can tell rows from a login page
        rows = render_template("upload_rows.html", results=results, error=error)
        return rows, status, {ROWS_HEADER: "1"}
    kept = {k: form.get(k, "") for k in KEPT_FIELDS}
    dropped = len(rejections.rejected_files(rejected_folder(), guard.scope()))
    return render_template("upload.html", classes=classes, results=results, error=error, form=kept, dropped=dropped,
                           max_files=MAX_FILES, max_bytes=guard.state().settings.max_upload_mb * 1024 * 1024), status


@bp.route("/upload", methods=["GET", "POST"])
def upload() -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    s = guard.require(Permission.FILE)
    classes = [c for c in guard.plan().classes]
    if request.method == "GET":
        return _page(classes, request.args, [], "")
    files = [f for f in request.files.getlist("file") if f.filename][:MAX_FILES]
    if not files:
        return _page(classes, request.form, [], _("Choose at least one file to file."))
    try:
        template = _template(request.form.to_dict(), s.actor)
        guard.plan().resolve(template.record_class)
    except RecordsError as exc:
        return _page(classes, request.form, [], str(exc))
    results = [o for f in files for o in _file_one(f, template, s).flattened()]
    return _page(classes, request.form, results, "")


@bp.get("/unsorted")
def unsorted() -> str:
    guard.require(Permission.FILE)
    state = guard.state()
    pending = list_pending(Path(str(state.home_path)), settle_seconds=state.settings.stability_seconds)
    return render_template("unsorted.html", pending=pending, classes=guard.plan().classes, result=None, error="")


@bp.post("/unsorted")
def classify() -> tuple[str, int] | str:
    s = guard.require(Permission.FILE)
    state = guard.state()
    result, error = None, ""
    try:
        overrides = {"actor": s.actor, "channel": "web"}
        principal = request.form.get("principal", "").strip()
        if principal:
            overrides["principal"] = principal
        result = classify_pending(state.intake, request.form.get("name", ""),
                                  request.form.get("record_class", ""), **overrides)
    except (RecordsError, VaultError) as exc:
        error = str(exc)
    pending = list_pending(Path(str(state.home_path)), settle_seconds=state.settings.stability_seconds)
    return render_template("unsorted.html", pending=pending, classes=guard.plan().classes, result=result,
                           error=error), (400 if error else 200)
