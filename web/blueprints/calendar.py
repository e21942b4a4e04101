"""The deadlines calendar: an .ics download, and a subscription feed reached only by a per-user token."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext as _

from records import feeds, resolutions
from records.access import AccessScope, Permission
from web.blueprints import guard
from web.calendar_ics import calendar_bytes

bp = Blueprint("calendar", __name__)
FEED_ENDPOINT = "calendar.feed"  # public: the token is the only credential it takes


def _label(kind: str) -> str:
    labels: dict[str, str] = {
        "notice": _("Last day to give notice"), "expiry": _("Contract expires"),
        "invoice_due": _("Invoice due"), "retention_review": _("Retention ends: review"),
        "resolution_due": _("Resolution due")}
    return labels.get(kind, kind)


def _ics(s: AccessScope, *, titles: bool, channel: str) -> Response:
    state = guard.state()
    now = guard.now()
    items = feeds.feed_deadlines(state.ports, state.plan, s, jurisdiction=state.settings.jurisdiction,
                                 today=now.date(), now=now, channel=channel)
    due = resolutions.due_dates(state.ports, s, today=now.date(), first=now.date() - timedelta(days=feeds.PAST_DAYS),
                                last=now.date() + timedelta(days=feeds.FUTURE_DAYS))
    body = calendar_bytes(items, label=_label, titles=titles, now=now, name=_("Strongroom deadlines"),
                          resolutions=due)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'attachment; filename="strongroom-deadlines.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(token: str = "", status: int = 200) -> tuple[str, int]:
    s = guard.require(Permission.READ)
    feed = feeds.feed_of(guard.ports(), s.actor)
    url = url_for(FEED_ENDPOINT, token=token, _external=True) if token else ""
    return render_template("calendar.html", feed=feed, url=url), status


@bp.get("/calendar")
def index() -> tuple[str, int]:
    return _page()


@bp.get("/calendar.ics")
def download() -> Response:
    s = guard.require(Permission.READ)
    return _ics(s, titles=request.args.get("titles") == "1", channel="web")


@bp.post("/calendar/feed")
def create() -> tuple[str, int]:
    s = guard.require(Permission.READ)
    token = feeds.create_feed(guard.ports(), s, titles=request.form.get("titles") == "1", now=guard.now())
    return _page(token)


@bp.post("/calendar/feed/revoke")
def revoke() -> tuple[str, int]:
    s = guard.require(Permission.READ)
    feeds.revoke_feed(guard.ports(), s, now=guard.now())
    return _page()


@bp.get("/feed/<token>.ics")
def feed(token: str) -> Response:
    owner = feeds.feed_owner(guard.ports(), token)
    if owner is None:
        abort(404)
    user, stored = owner
    return _ics(AccessScope.of(user), titles=stored.titles, channel="feed")
