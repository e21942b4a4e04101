"""`strongroom registers contracts|invoices|correspondence`: the registers as text, JSON or a CSV for Excel.

The CSV is the audit export's kind (UTF-8 with BOM, `;`, CRLF), with a decimal comma when the home's
language is Slovene or Estonian, so Excel in those locales reads the amounts as numbers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import click

from records import registers
from records.model import Direction
from web.cli.common import now, open_office, print_json, scope_of
from web.office import Office


def _iso(value: date | None) -> str:
    return value.isoformat() if value else "-"


def _write_csv(office: Office, path: Path, chunks: Iterator[bytes]) -> None:
    part = path.with_name(path.name + ".part")
    with open(part, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
    part.replace(path)


def _decimal_comma(office: Office) -> bool:
    return office.settings.language in ("sl", "et")


_CSV = click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
                    help="Write the register to FILE as CSV for Excel (UTF-8, ';').")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the register as JSON.")
_AS = click.option("--as", "as_user", metavar="USER", help="List as this user sees it (password asked).")


@click.group("registers")
def registers_group() -> None:
    """The contracts register, the invoices register and the correspondence book."""


@registers_group.command("contracts")
@click.option("--expiring-within", type=int, metavar="DAYS", help="Only expiries or notice deadlines within N days.")
@_CSV
@_JSON
@_AS
@click.pass_obj
def registers_contracts(obj: dict[str, object], expiring_within: int | None, csv_path: Path | None, as_json: bool,
                        as_user: str | None) -> None:
    """Contracts with parties, expiry, notice deadline, auto-renewal and value; the next deadline first."""
    with open_office(obj) as office:
        found = registers.contracts(office.ports.catalog, scope_of(office, as_user), today=now().date(),
                                    expiring_within=expiring_within, plan=office.plan)
        if csv_path is not None:
            _write_csv(office, csv_path, registers.contracts_csv(found, decimal_comma=_decimal_comma(office)))
            click.echo(f"Wrote {len(found)} contracts to {csv_path}.")
            return
    rows: list[dict[str, Any]] = [
        {"id": e.record.id, "registry_number": e.record.registry_number, "title": e.record.title,
         "principal": e.record.principal, "parties": list(e.fields.parties or e.record.parties), "signed": e.fields.signed,
         "effective": e.fields.effective, "expiry": e.fields.expiry, "notice_days": e.fields.notice_days,
         "notice_deadline": e.notice_deadline, "next_deadline": e.next_deadline,
         "auto_renewal": e.fields.auto_renewal, "value": e.fields.value, "currency": e.fields.currency,
         "days_to_expiry": e.days_to_expiry} for e in found]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("No contract matches." if expiring_within is not None else "The contracts register is empty.")
    for e in found:
        renews = " renews automatically" if e.fields.auto_renewal else ""
        click.echo(f"{e.record.registry_number:<16} expiry {_iso(e.fields.expiry):<10} notice by "
                   f"{_iso(e.notice_deadline):<10} {e.record.title}{renews}")


@registers_group.command("invoices")
@click.option("--unpaid", is_flag=True, help="Only invoices not marked paid.")
@click.option("--overdue", is_flag=True, help="Only unpaid invoices past their due date.")
@_CSV
@_JSON
@_AS
@click.pass_obj
def registers_invoices(obj: dict[str, object], unpaid: bool, overdue: bool, csv_path: Path | None, as_json: bool,
                       as_user: str | None) -> None:
    """Invoices with supplier, number, amount, due date and payment; totals per principal."""
    with open_office(obj) as office:
        found = registers.invoices(office.ports.catalog, scope_of(office, as_user), today=now().date(),
                                   unpaid=unpaid, overdue=overdue, plan=office.plan)
        if csv_path is not None:
            _write_csv(office, csv_path, registers.invoices_csv(found, decimal_comma=_decimal_comma(office)))
            click.echo(f"Wrote {len(found)} invoices to {csv_path}.")
            return
    totals = registers.invoice_totals(found)
    if as_json:
        print_json({"invoices": [
            {"id": e.record.id, "registry_number": e.record.registry_number, "title": e.record.title,
             "principal": e.record.principal, "supplier": e.fields.issuer, "number": e.fields.number,
             "amount": e.fields.amount, "currency": e.fields.currency, "due_date": e.fields.due_date,
             "paid_on": e.fields.paid_on, "payment_reference": e.fields.payment_reference, "overdue": e.overdue}
            for e in found],
            "totals": [{"principal": t.principal, "currency": t.currency, "total": t.total, "unpaid": t.unpaid,
                        "overdue": t.overdue, "count": t.count} for t in totals]})
        return
    if not found:
        click.echo("No invoice matches." if unpaid or overdue else "The invoices register is empty.")
    for e in found:
        state = f"paid {_iso(e.fields.paid_on)}" if e.paid else ("OVERDUE" if e.overdue else "unpaid")
        amount = f"{e.fields.amount} {e.fields.currency}" if e.fields.amount is not None else "-"
        click.echo(f"{e.record.registry_number:<16} due {_iso(e.fields.due_date):<10} {amount:>16}  {state:<16} "
                   f"{e.fields.issuer or '-'} {e.fields.number}")
    for t in totals:
        click.echo(f"Total {t.principal or '(no principal)'}: {t.total} {t.currency}, unpaid {t.unpaid}, "
                   f"overdue {t.overdue} ({t.count} invoices)")


@registers_group.command("correspondence")
@click.option("--direction", type=click.Choice(["in", "out"]))
@_CSV
@_JSON
@_AS
@click.pass_obj
def registers_correspondence(obj: dict[str, object], direction: str | None, csv_path: Path | None, as_json: bool,
                             as_user: str | None) -> None:
    """The correspondence book: letters and e-mails in and out, with the letter each one answers."""
    with open_office(obj) as office:
        found = registers.correspondence(office.ports.catalog, scope_of(office, as_user),
                                         direction=Direction(direction) if direction else None, plan=office.plan)
        if csv_path is not None:
            _write_csv(office, csv_path, registers.correspondence_csv(found, decimal_comma=_decimal_comma(office)))
            click.echo(f"Wrote {len(found)} letters to {csv_path}.")
            return
    rows = [{"id": e.record.id, "registry_number": e.record.registry_number,
             "direction": str(e.direction) if e.direction else None, "sender": e.fields.sender,
             "recipients": list(e.fields.recipients), "subject": e.fields.subject, "reply_to": e.fields.reply_to or None,
             "reply_to_id": e.reply_to_id, "date": e.record.document_date or e.record.filed_at.date()} for e in found]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("The correspondence book has no entry" + (f" with direction '{direction}'." if direction else "."))
    for e, r in zip(found, rows):
        who = e.fields.sender if r["direction"] == "in" else ", ".join(e.fields.recipients)
        answers = f" (answers {e.fields.reply_to})" if e.fields.reply_to else ""
        click.echo(f"{r['registry_number']:<16} {r['direction'] or '-':<3} {r['date']} {who}  {r['subject']}{answers}")


COMMANDS = (registers_group,)
