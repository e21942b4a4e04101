"""`strongroom hold|retention|dispose`: legal holds, retention and disposition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from records import certificates, disposition, holds
from records.errors import DispositionRefused
from records.retention import Decision, missing_trigger
from web.cli.common import DAY, day, now, open_office, print_json, record_id, scope_of


@click.group()
def hold() -> None:
    """Legal holds: a hold blocks disposition until released."""


@hold.command("add")
@click.argument("record")
@click.option("--reason", required=True, help="The case, request or mandate behind the hold.")
@click.pass_obj
def hold_add(obj: dict[str, object], record: str, reason: str) -> None:
    """Place a legal hold on a record (id or registry number): it cannot be disposed until released."""
    with open_office(obj) as office:
        ports = office.ports
        placed = holds.place_hold(ports, scope_of(office, None), record_id(office, record), reason,
                                  now=now())
    click.echo(f"Hold {placed.hold_id} placed on {record}.")


@hold.command("release")
@click.argument("record")
@click.option("--hold", "hold_id", help="Which hold, when there are several.")
@click.option("--reason", required=True, help="Why the hold ends (the case closed, the request withdrawn).")
@click.pass_obj
def hold_release(obj: dict[str, object], record: str, hold_id: str | None, reason: str) -> None:
    """Release a legal hold; the record's retention applies again."""
    with open_office(obj) as office:
        ports = office.ports
        released = holds.release_hold(ports, scope_of(office, None), record_id(office, record),
                                      now=now(), hold_id=hold_id, reason=reason)
    click.echo(f"Hold {released.hold_id} on {record} released.")


@click.group()
def retention() -> None:
    """Retention: what is due, what lacks its trigger event, destruction certificates."""


def _decision_json(d: Decision) -> dict[str, Any]:
    return {"id": d.record_id, "registry_number": d.registry_number, "record_class": d.record_class,
            "status": str(d.status), "trigger": d.trigger, "retention_until": d.until,
            "action": str(d.action) if d.action else None, "basis": d.basis, "reason": d.reason,
            "plan_note": d.plan_note or None}


def _print_decisions(decisions: list[Decision], as_json: bool, empty: str) -> None:
    if as_json:
        print_json([_decision_json(d) for d in decisions])
    elif not decisions:
        click.echo(empty)
    for d in decisions if not as_json else []:
        click.echo(f"{d.registry_number:<16} {d.record_id}  {d.reason}")


@retention.command("due")
@click.option("--as-of", type=DAY, help="Evaluate on this day (default today).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def retention_due(obj: dict[str, object], as_of: datetime | None, as_json: bool) -> None:
    """Records whose retention has run out and that no hold blocks."""
    with open_office(obj) as office:
        found = disposition.due(office.ports, office.plan, jurisdiction=office.settings.jurisdiction,
                                as_of=day(as_of))
        kept = [d for d in disposition.shortened(office.ports, office.plan, jurisdiction=office.settings.jurisdiction,
                                                 as_of=day(as_of)) if not d.due]
    _print_decisions(found, as_json, "No record is due for disposition.")
    for d in kept:  # the plan file says these are due; their stored schedule says not yet
        click.echo(f"Not due: {d.plan_note}", err=True)


@retention.command("missing-trigger")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def retention_missing(obj: dict[str, object], as_json: bool) -> None:
    """Records whose retention clock waits for an event date (e.g. a contract's expiry)."""
    with open_office(obj) as office:
        found = missing_trigger(disposition.review(office.ports, office.plan,
                                                   jurisdiction=office.settings.jurisdiction, as_of=now().date()))
    _print_decisions(found, as_json, "Every record's retention clock has started.")


@retention.command("certificates")
@click.argument("certificate_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def retention_certificates(obj: dict[str, object], certificate_id: str | None, as_json: bool) -> None:
    """List destruction certificates, or show one (signed JSON)."""
    with open_office(obj) as office:
        found = ([certificates.load(office.ports.catalog, certificate_id)] if certificate_id
                 else certificates.all_certificates(office.ports.catalog))
    if as_json or certificate_id:
        print_json([c.to_json() for c in found] if not certificate_id else found[0].to_json())
        return
    if not found:
        click.echo("No destruction certificate yet: nothing has been disposed of.")
    for c in found:
        numbers = ", ".join(r["registry_number"] for r in c.body["records"])
        click.echo(f"{c.certificate_id}  {c.body['time']}  {numbers}")


@retention.command("approve")
@click.argument("proposal_id")
@click.option("--as", "as_user", required=True, metavar="USER", help="The approving user (password asked).")
@click.pass_obj
def retention_approve(obj: dict[str, object], proposal_id: str, as_user: str) -> None:
    """Approve a destruction proposal as a second person, which carries it out."""
    with open_office(obj) as office:
        result = disposition.approve(office.ports, office.plan, scope_of(office, as_user),
                                     proposal_id, jurisdiction=office.settings.jurisdiction, now=now())
    _print_result(result)


@click.command()
@click.argument("records", nargs=-1, required=True)
@click.option("--as-of", type=DAY, help="Check due-ness on this day (default today).")
@click.option("--as", "as_user", metavar="USER", help="Act as this user (password asked).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def dispose(obj: dict[str, object], records: tuple[str, ...], as_of: datetime | None, as_user: str | None,
            yes: bool) -> None:
    """Destroy due, unheld records: shred keys, delete content, keep stubs and a signed certificate."""
    with open_office(obj) as office:
        ports = office.ports
        ids = [record_id(office, r) for r in records]
        if day(as_of) > now().date():  # --as-of may look back, never bring destruction forward
            raise DispositionRefused("Records cannot be destroyed as of a future day: use today's date "
                                     "or an earlier one (`retention due --as-of` previews the future).")
        if not yes:
            click.confirm(f"Destroy {len(ids)} record(s) irrecoverably?", abort=True)
        result = disposition.dispose(ports, office.plan, scope_of(office, as_user), ids,
                                     jurisdiction=office.settings.jurisdiction, as_of=day(as_of), now=now(),
                                     require_second_approver=office.safeguards.require_second_approver)
    _print_result(result)


def _print_result(result: disposition.DispositionResult) -> None:
    if result.proposal is not None:
        click.echo(f"Proposed for destruction as {result.proposal.proposal_id}: a second person approves with "
                   f"`strongroom retention approve {result.proposal.proposal_id} --as NAME`.")
    elif result.certificate is not None:
        click.echo(f"Destroyed {len(result.record_ids)} record(s); certificate "
                   f"{result.certificate.certificate_id}:")
        print_json(result.certificate.to_json())


COMMANDS = (hold, retention, dispose)
