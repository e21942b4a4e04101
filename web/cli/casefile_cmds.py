"""`strongroom casefile ...` and `strongroom decisions`: case files (zadeve) and the decisions register.

Each command parses, calls one use case of records.casefiles, records.casefile_closing or
records.decisions, and prints; the web's case file pages make the same calls."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from records import casefile_closing, casefiles, decisions
from records.access import AccessScope
from records.casefile_closing import Consequence
from records.casefiles import CaseFile
from records.model import Confidentiality, Record
from web.cli.common import DAY, day, now, open_office, print_json, record_id, scope_of
from web.cli.registers_cmds import _write_csv
from web.office import Office

_AS = click.option("--as", "as_user", metavar="USER", help="Act as this user (password asked).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def casefile_json(office: Office, scope: AccessScope, casefile: CaseFile) -> dict[str, Any]:
    records = casefiles.records_of(office.ports, scope, casefile)
    holds = casefile_closing.holds_of(office.ports, casefile)
    return {"id": casefile.casefile_id, "number": casefile.number, "title": casefile.title,
            "class": casefile.record_class, "principal": casefile.principal,
            "confidentiality": str(casefile.confidentiality), "opened_on": casefile.opened_on,
            "closed_on": casefile.closed_on, "state": "closed" if casefile.closed else "open",
            "records": [_record_json(r) for r in records],
            "holds": [{"id": h.hold_id, "reason": h.reason, "placed_by": h.placed_by, "active": h.active}
                      for h in holds],
            "history": [{"action": h.action, "actor": h.actor, "at": h.at, "day": h.day, "reason": h.reason}
                        for h in casefile.history]}


def _record_json(record: Record) -> dict[str, Any]:
    return {"id": record.id, "registry_number": record.registry_number, "title": record.title,
            "class": record.record_class, "state": str(record.state),
            "retention_until": record.retention_until}


def _consequence_json(c: Consequence) -> dict[str, Any]:
    return {"id": c.record.id, "registry_number": c.record.registry_number, "starts": c.starts,
            "retention_until_before": c.before.retention_until, "retention_until_after": c.after.retention_until,
            "changed": c.changed}


def _print_consequences(found: tuple[Consequence, ...] | list[Consequence]) -> None:
    for c in found:
        if c.changed:
            until = c.after.retention_until.isoformat() if c.after.retention_until else "waits for the case file to close"
            click.echo(f"  {c.record.registry_number:<16} retention: {until}")
        else:
            click.echo(f"  {c.record.registry_number:<16} unchanged (its class counts from another start)")


@click.group("casefile")
def casefile_group() -> None:
    """Case files (zadeve): records that share a registry number and open and close together."""


@casefile_group.command("new")
@click.option("--title", required=True, help="What the case is about.")
@click.option("--class", "record_class", required=True, help="The class code or slug (e.g. 02.6 or applicants).")
@click.option("--principal", default="", help="The manager or employer the case belongs to.")
@click.option("--confidentiality", type=click.Choice([c.value for c in Confidentiality]),
              help="Default: the class's level.")
@click.option("--opened", type=DAY, help="The day the case was opened (default today).")
@_AS
@_JSON
@click.pass_obj
def casefile_new(obj: dict[str, object], title: str, record_class: str, principal: str, confidentiality: str | None,
                 opened: datetime | None, as_user: str | None, as_json: bool) -> None:
    """Open a case file; it gets the next number of its class (Z-02.6-1/2026)."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        casefile = casefiles.open_casefile(
            office.ports, office.plan, scope, title=title, record_class=record_class, principal=principal,
            now=now(), confidentiality=Confidentiality(confidentiality) if confidentiality else None,
            opened_on=opened.date() if opened else None)
        if as_json:
            print_json(casefile_json(office, scope, casefile))
            return
    click.echo(f"Opened case file {casefile.number} ({casefile.casefile_id}): {casefile.title}")


@casefile_group.command("list")
@click.option("--state", "show", type=click.Choice(["open", "closed", "all"]), default="all", show_default=True)
@_AS
@_JSON
@click.pass_obj
def casefile_list(obj: dict[str, object], show: str, as_user: str | None, as_json: bool) -> None:
    """The case files you may see, newest first, with the number of their records you may see."""
    with open_office(obj) as office:
        rows = casefiles.listing(office.ports, scope_of(office, as_user), show=show)
    if as_json:
        print_json([{"id": r.casefile.casefile_id, "number": r.casefile.number, "title": r.casefile.title,
                     "class": r.casefile.record_class, "principal": r.casefile.principal,
                     "opened_on": r.casefile.opened_on, "closed_on": r.casefile.closed_on,
                     "records": r.visible_records} for r in rows])
        return
    if not rows:
        click.echo("No case file.")
    for r in rows:
        state = f"closed {r.casefile.closed_on}" if r.casefile.closed else "open"
        click.echo(f"{r.casefile.number:<20} {state:<18} {r.visible_records:>4} records  {r.casefile.title}")


@casefile_group.command("show")
@click.argument("casefile")
@_AS
@_JSON
@click.pass_obj
def casefile_show(obj: dict[str, object], casefile: str, as_user: str | None, as_json: bool) -> None:
    """One case file (by id or number) with its records, holds and history."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        found = casefiles.resolve(office.ports, scope, casefile)
        doc = casefile_json(office, scope, found)
    if as_json:
        print_json(doc)
        return
    click.echo(f"{doc['number']}  {doc['title']}")
    click.echo(f"class {doc['class']}, principal {doc['principal'] or '-'}, opened {doc['opened_on']}, "
               + (f"closed {doc['closed_on']}" if doc["closed_on"] else "open"))
    for r in doc["records"]:
        click.echo(f"  {r['registry_number']:<16} {r['state']:<8} keep until {r['retention_until'] or '-'}  {r['title']}")
    for h in doc["holds"]:
        click.echo(f"  hold {h['id']}{'' if h['active'] else ' (released)'}: {h['reason']}")


@casefile_group.command("add")
@click.argument("casefile")
@click.argument("records", nargs=-1, required=True)
@_AS
@_JSON
@click.pass_obj
def casefile_add(obj: dict[str, object], casefile: str, records: tuple[str, ...], as_user: str | None,
                 as_json: bool) -> None:
    """Put records (ids or registry numbers) into an open case file."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        found = casefiles.resolve(office.ports, scope, casefile)
        for text in records:
            found = casefiles.add_record(office.ports, scope, found.casefile_id, record_id(office, text), now=now())
            if not as_json:
                click.echo(f"Added {text} to {found.number}.")
        if as_json:
            print_json(casefile_json(office, scope, found))


@casefile_group.command("remove")
@click.argument("casefile")
@click.argument("record")
@click.option("--reason", default="", help="Why it leaves the case file.")
@_AS
@_JSON
@click.pass_obj
def casefile_remove(obj: dict[str, object], casefile: str, record: str, reason: str, as_user: str | None,
                    as_json: bool) -> None:
    """Take a record out of an open case file."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        found = casefiles.resolve(office.ports, scope, casefile)
        found = casefiles.remove_record(office.ports, scope, found.casefile_id, record_id(office, record), now=now(),
                                        reason=reason)
        if as_json:
            print_json(casefile_json(office, scope, found))
            return
    click.echo(f"Removed {record} from {found.number}.")


@casefile_group.command("close")
@click.argument("casefile")
@click.option("--date", "when", type=DAY, help="The day the case closed (default today).")
@click.option("--reason", default="", help="Required when the closing moves a record's retention earlier.")
@click.option("--dry-run", is_flag=True, help="Only show what closing would do to each record's retention.")
@_AS
@_JSON
@click.pass_obj
def casefile_close(obj: dict[str, object], casefile: str, when: datetime | None, reason: str, dry_run: bool,
                   as_user: str | None, as_json: bool) -> None:
    """Close a case file: the retention of its records whose class counts from the case's closing starts."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        found = casefiles.resolve(office.ports, scope, casefile)
        if dry_run:
            effects = casefile_closing.preview_close(office.ports, office.plan, scope, found, day(when),
                                                     jurisdiction=office.settings.jurisdiction, today=now().date())
            if as_json:
                print_json({"number": found.number, "closed_on": day(when), "dry_run": True,
                            "records": [_consequence_json(c) for c in effects]})
            else:
                click.echo(f"Closing {found.number} on {day(when)} would do this:")
                _print_consequences(effects)
            return
        result = casefile_closing.close(office.ports, office.plan, scope, found.casefile_id, day(when),
                                        jurisdiction=office.settings.jurisdiction, now=now(), reason=reason,
                                        require_second_approver=office.safeguards.require_second_approver)
    if as_json:
        print_json({"number": result.casefile.number, "closed_on": result.casefile.closed_on,
                    "records": [_consequence_json(c) for c in result.consequences]})
    else:
        click.echo(f"Closed {result.casefile.number} on {result.casefile.closed_on}.")
        _print_consequences(result.consequences)
    if result.note:
        click.echo(result.note, err=True)


@casefile_group.command("reopen")
@click.argument("casefile")
@click.option("--reason", required=True, help="Why the case is reopened (an appeal, a new claim).")
@_AS
@_JSON
@click.pass_obj
def casefile_reopen(obj: dict[str, object], casefile: str, reason: str, as_user: str | None, as_json: bool) -> None:
    """Reopen a closed case file; the retention its closing started waits again."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        found = casefiles.resolve(office.ports, scope, casefile)
        result = casefile_closing.reopen(office.ports, office.plan, scope, found.casefile_id, reason=reason,
                                         jurisdiction=office.settings.jurisdiction, now=now())
    if as_json:
        print_json({"number": result.casefile.number, "state": "open",
                    "records": [_consequence_json(c) for c in result.consequences]})
    else:
        click.echo(f"Reopened {result.casefile.number}.")
        _print_consequences(result.consequences)


@casefile_group.command("hold")
@click.argument("casefile")
@click.option("--reason", required=True, help="The case, request or mandate behind the hold.")
@_AS
@_JSON
@click.pass_obj
def casefile_hold(obj: dict[str, object], casefile: str, reason: str, as_user: str | None, as_json: bool) -> None:
    """Hold every record of the case file, also records added later (a matter hold; `hold release` ends it)."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        found = casefiles.resolve(office.ports, scope, casefile)
        placed = casefile_closing.hold(office.ports, office.plan, scope, found.casefile_id, reason, now=now())
    if as_json:
        print_json({"hold": placed.hold_id, "casefile": found.number, "reason": placed.reason})
        return
    click.echo(f"Placed hold {placed.hold_id} on case file {found.number}; release it with "
               f"`strongroom hold release --hold {placed.hold_id} --reason TEXT`.")


@casefile_group.command("decide")
@click.argument("casefile")
@click.argument("record")
@click.option("--addressee", required=True, help="Whom the decision is addressed to.")
@click.option("--subject", required=True, help="What the decision decides.")
@click.option("--date", "when", type=DAY, help="The day it was issued (default today).")
@_AS
@_JSON
@click.pass_obj
def casefile_decide(obj: dict[str, object], casefile: str, record: str, addressee: str, subject: str,
                    when: datetime | None, as_user: str | None, as_json: bool) -> None:
    """Enter a decision (odločba) issued in the case file: RECORD is the filed decision; it gets the next number."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        found = casefiles.resolve(office.ports, scope, casefile)
        issued = decisions.issue(office.ports, scope, found.casefile_id, record_id(office, record),
                                 addressee=addressee, subject=subject, issued_on=day(when), now=now())
    if as_json:
        print_json({"number": issued.number, "issued_on": issued.issued_on, "casefile": found.number,
                    "record_id": issued.record_id})
        return
    click.echo(f"Entered decision {issued.number} in the decisions register.")


@click.command("decisions")
@click.option("--year", type=int, help="Only decisions issued in this year.")
@click.option("--casefile", "casefile", default="", help="Only decisions of this case file (id or number).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the register to FILE as CSV for Excel (UTF-8, ';').")
@_AS
@_JSON
@click.pass_obj
def decisions_cmd(obj: dict[str, object], year: int | None, casefile: str, csv_path: Path | None,
                  as_user: str | None, as_json: bool) -> None:
    """The decisions register: number, day, case file, addressee, subject and the decision's record."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        cid = casefiles.resolve(office.ports, scope, casefile).casefile_id if casefile else ""
        rows = decisions.register(office.ports, scope, year=year, casefile_id=cid)
        if csv_path is not None:
            _write_csv(office, csv_path, decisions.register_csv(rows))
            click.echo(f"Wrote {len(rows)} decisions to {csv_path}.")
            return
    if as_json:
        print_json([{"number": r.decision.number, "issued_on": r.decision.issued_on, "casefile": r.casefile.number,
                     "casefile_title": r.casefile.title, "addressee": r.decision.addressee,
                     "subject": r.decision.subject, "record": r.record.registry_number,
                     "record_id": r.record.id} for r in rows])
        return
    if not rows:
        click.echo("The decisions register is empty.")
    for r in rows:
        click.echo(f"{r.decision.number:<22} {r.decision.issued_on} {r.record.registry_number:<16} "
                   f"{r.decision.addressee}: {r.decision.subject}")


COMMANDS = (casefile_group, decisions_cmd)
