"""Registers: contracts with expiry and notice alerts, correspondence in and out."""

from __future__ import annotations

from flask import Blueprint, render_template

from records import registers as use
from records.access import Permission
from web.blueprints import guard

bp = Blueprint("registers", __name__, url_prefix="/registers")
ALERT_DAYS = 60


@bp.get("/")
def index() -> str:
    s = guard.require(Permission.READ)
    catalog = guard.ports().catalog
    today = guard.now().date()
    contracts = use.contracts(catalog, s, today=today)
    alerts = use.contracts(catalog, s, today=today, expiring_within=ALERT_DAYS)
    letters = use.correspondence(catalog, s)
    return render_template("registers.html", contracts=contracts, alerts=alerts, letters=letters,
                           alert_days=ALERT_DAYS)
