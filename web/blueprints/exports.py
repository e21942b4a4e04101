"""The exports page: auditors and admins make signed audit exports and fetch the public key.

Registered by the app factory in one line:

    app.register_blueprint(exports_blueprint(ports_of=..., user_of=..., plan_of=...))

`ports_of()` gives the open home's Ports, `user_of()` the signed-in User (None when nobody is),
`plan_of()` the home's classification plan. CSRF protection comes from the app's CSRFProtect;
the form carries `csrf_token` like every other form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import get_locale
from flask_babel import gettext as _

from records.access import AccessScope, Permission
from records.errors import AccessDenied, RecordsError
from records.export import LAST_EXPORT_SETTING, ChainPoint, ExportRequest, start_export
from records.export_package import fingerprint
from records.model import User
from records.plan import Plan
from records.ports import Ports
from web.verify_export import public_key_text


def exports_blueprint(*, ports_of: Callable[[], Ports], user_of: Callable[[], User | None],
                      plan_of: Callable[[], Plan]) -> Blueprint:
    bp = Blueprint("exports", __name__, url_prefix="/exports")

    def signed_in() -> AccessScope:
        user = user_of()
        if user is None:
            abort(401)
        return AccessScope.of(user)

    def auditor() -> AccessScope:
        scope = signed_in()
        if not scope.may(Permission.AUDIT):
            abort(403)  # the page exists, but only auditors and admins may use it
        return scope

    def page(error: str = "", status: int = 200) -> tuple[str, int]:
        ports = ports_of()
        raw = ports.catalog.get_setting(LAST_EXPORT_SETTING)
        return render_template(
            "exports/index.html", error=error, classes=plan_of().classes, lang=_language(),
            fingerprint=fingerprint(ports.signer.public_key()),
            last_head=ChainPoint.parse(raw) if raw else None, form=request.form), status

    @bp.get("/")
    def index() -> tuple[str, int]:
        auditor()
        return page()

    @bp.post("/")
    def create() -> Response | tuple[str, int]:
        scope = signed_in()  # start_export refuses other roles itself, and audits the refusal
        try:
            export_request = _parse(plan_of())
            job = start_export(ports_of(), scope, export_request, now=datetime.now(timezone.utc),
                               channel="web")
        except AccessDenied:
            abort(403)
        except (ValueError, RecordsError) as exc:
            return page(str(exc), 400)
        headers = {"Content-Disposition": f'attachment; filename="{job.filename}"',
                   "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        # Streamed: the ZIP is never held whole in memory nor spooled to a temp file.
        return Response(stream_with_context(job.stream()), mimetype="application/zip",
                        headers=headers)

    @bp.get("/public-key")
    def public_key() -> Response:
        auditor()
        return Response(public_key_text(ports_of().signer.public_key()), mimetype="text/plain",
                        headers={"Content-Disposition": 'attachment; filename="strongroom-audit-key.txt"',
                                 "X-Content-Type-Options": "nosniff"})

    return bp


def _parse(plan: Plan) -> ExportRequest:
    form = request.form
    record_class = form.get("record_class", "").strip() or None
    return ExportRequest(date_from=_date(form.get("date_from", ""), _("From")),
                         date_to=_date(form.get("date_to", ""), _("To")),
                         record_class=plan.resolve(record_class).code if record_class else None,
                         principal=form.get("principal", "").strip() or None,
                         with_documents=form.get("with_documents") in ("1", "on", "yes"))


def _date(text: str, label: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("%(label)s is not a date: use YYYY-MM-DD.", label=label)) from None


def _language() -> str:
    locale = get_locale()
    language = locale.language if locale is not None else "en"
    return language if language in ("sl", "et", "en") else "en"
