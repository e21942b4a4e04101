"""`strongroom event|pay`: lifecycle events that start a retention clock, and invoices marked paid.

Both are audited edits (records.lifecycle); the web's record page makes the same calls."""

from __future__ import annotations

from datetime import datetime

import click

from records import lifecycle
from web.cli.common import DAY, now, open_office, record_id, scope_of
from web.cli.records_cmds import print_edit


@click.command("event")
@click.argument("record")
@click.argument("name")
@click.argument("when", metavar="DATE", type=DAY)
@click.option("--reason", default="", help="Why: required when the event moves the record's retention earlier.")
@click.option("--as", "as_user", metavar="USER", help="Act as this user (password asked).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def event(obj: dict[str, object], record: str, name: str, when: datetime, reason: str, as_user: str | None,
          as_json: bool) -> None:
    """Record that NAME happened on DATE (contract_end, employment_end, case_closed, superseded, ...):
    the retention clock of a class that waits for it starts then."""
    with open_office(obj) as office:
        result = lifecycle.record_event(office.ports, office.plan, scope_of(office, as_user), record_id(office, record),
                                        name, when.date(), jurisdiction=office.settings.jurisdiction, now=now(),
                                        reason=reason,
                                        require_second_approver=office.safeguards.require_second_approver)
    print_edit(result, as_json)


@click.command("pay")
@click.argument("record")
@click.option("--on", "paid_on", required=True, type=DAY, help="The day it was paid (2026-03-31 or 31.3.2026).")
@click.option("--reference", default="", help="The payment reference (e.g. SI00 1234-56).")
@click.option("--as", "as_user", metavar="USER", help="Act as this user (password asked).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def pay(obj: dict[str, object], record: str, paid_on: datetime, reference: str, as_user: str | None,
        as_json: bool) -> None:
    """Mark an invoice paid (an audited edit of paid_on and payment_reference)."""
    with open_office(obj) as office:
        result = lifecycle.mark_paid(office.ports, office.plan, scope_of(office, as_user), record_id(office, record),
                                     paid_on.date(), reference=reference, jurisdiction=office.settings.jurisdiction,
                                     now=now())
    print_edit(result, as_json)


COMMANDS = (event, pay)
