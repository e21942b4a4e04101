"""Registers: contracts (next deadline first, notice alerts), invoices (unpaid/overdue, totals, mark paid) and
the correspondence book; each also as a CSV for Excel (`?format=csv`: UTF-8 with BOM, `;`, and a decimal
comma when the page is in Slovene or Estonian)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Response, render_template, request

from records import registers as use
from records.access import Permission
from records.model import Direction
from web import i18n
from web.blueprints import guard

bp = Blueprint("registers", __name__, url_prefix="/registers")
ALERT_DAYS = 60
INVOICE_VIEWS = ("all", "unpaid", "overdue")


def _csv(chunks: Iterator[bytes], name: str) -> Response:
    response = Response(chunks, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _decimal_comma() -> bool:
    return i18n.language() in ("sl", "et")


def _wants_csv() -> bool:
    return request.args.get("format") == "csv"


@bp.get("/")
def index() -> str | Response:
    s = guard.require(Permission.READ)
    catalog = guard.ports().catalog
    today = guard.now().date()
    contracts = use.contracts(catalog, s, today=today, plan=guard.plan())
    if _wants_csv():
        return _csv(use.contracts_csv(contracts, decimal_comma=_decimal_comma()), "contracts.csv")
    alerts = use.contracts(catalog, s, today=today, expiring_within=ALERT_DAYS, plan=guard.plan())
    return render_template("registers.html", contracts=contracts, alerts=alerts, alert_days=ALERT_DAYS,
                           tab="contracts")


@bp.get("/invoices")
def invoices() -> str | Response:
    s = guard.require(Permission.READ)
    show = request.args.get("show", "all")
    show = show if show in INVOICE_VIEWS else "all"
    found = use.invoices(guard.ports().catalog, s, today=guard.now().date(), unpaid=show == "unpaid",
                         overdue=show == "overdue", plan=guard.plan())
    if _wants_csv():
        return _csv(use.invoices_csv(found, decimal_comma=_decimal_comma()), f"invoices-{show}.csv")
    return render_template("registers/invoices.html", invoices=found, totals=use.invoice_totals(found), show=show,
                           views=INVOICE_VIEWS, may_edit=s.may(Permission.EDIT), today=guard.now().date(),
                           tab="invoices")


@bp.get("/correspondence")
def correspondence() -> str | Response:
    s = guard.require(Permission.READ)
    direction = request.args.get("direction", "")
    found = use.correspondence(guard.ports().catalog, s, plan=guard.plan(),
                               direction=Direction(direction) if direction in ("in", "out") else None)
    if _wants_csv():
        return _csv(use.correspondence_csv(found, decimal_comma=_decimal_comma()), "correspondence.csv")
    return render_template("registers/correspondence.html", letters=found, direction=direction,
                           tab="correspondence")
