"""`strongroom hold|retention|dispose`: legal holds, retention and disposition."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from records import casefiles, certificates, disposition, holds, matters, review, transfer
from records.access import AccessScope
from records.errors import DispositionRefused, RecordsError
from records.retention import Decision, missing_trigger
from web.cli.common import ACTOR, DAY, day, now, open_office, print_json, record_id, scope_of
from web.office import Office


@click.group()
def hold() -> None:
    """Legal holds: a hold blocks disposition until released."""


@hold.command("add")
@click.argument("record", required=False)
@click.option("--reason", required=True, help="The case, request or mandate behind the hold.")
@click.option("--class", "record_class", help="Matter hold: records of this class (and its subclasses).")
@click.option("--principal", help="Matter hold: records of this principal.")
@click.option("--party", help="Matter hold: records naming this party.")
@click.option("--from", "date_from", type=DAY, help="Matter hold: dated on or after.")
@click.option("--to", "date_to", type=DAY, help="Matter hold: dated on or before.")
@click.option("--words", help="Matter hold: records the search finds for these words.")
@click.option("--as", "as_user", metavar="USER", help="Act as this user (password asked).")
@click.pass_obj
def hold_add(obj: dict[str, object], record: str | None, reason: str, record_class: str | None,
             principal: str | None, party: str | None, date_from: datetime | None, date_to: datetime | None,
             words: str | None, as_user: str | None) -> None:
    """Place a legal hold on one record (id or registry number), or with query options a matter hold on
    every record, present and future, that matches."""
    query = matters.MatterQuery(record_class=record_class or "", principal=principal or "", party=party or "",
                                date_from=date_from.date() if date_from else None,
                                date_to=date_to.date() if date_to else None, words=words or "")
    if record is not None and not query.empty:
        raise click.UsageError("Give either a RECORD or query options (--class, --principal, ...), not both.")
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        if record is None:
            matter = matters.place(office.ports, office.plan, scope, query, reason, now=now())
            click.echo(f"Matter hold {matter.hold_id} placed on every record matching {matter.query.describe()}.")
            return
        placed = holds.place_hold(office.ports, scope, record_id(office, record), reason, now=now())
    click.echo(f"Hold {placed.hold_id} placed on {record}.")


@hold.command("release")
@click.argument("record", required=False)
@click.option("--hold", "hold_id", help="Which hold, when there are several; alone, a matter hold's id.")
@click.option("--reason", required=True, help="Why the hold ends (the case closed, the request withdrawn).")
@click.option("--as", "as_user", metavar="USER", help="Act as this user (password asked).")
@click.pass_obj
def hold_release(obj: dict[str, object], record: str | None, hold_id: str | None, reason: str,
                 as_user: str | None) -> None:
    """Release a legal hold (a record's, or with --hold alone a matter hold); retention applies again."""
    if record is None and hold_id is None:
        raise click.UsageError("Name the RECORD, or the matter hold with --hold.")
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        if record is None:
            matters.release(office.ports, scope, str(hold_id), reason=reason, now=now())
            click.echo(f"Matter hold {hold_id} released.")
            return
        released = holds.release_hold(office.ports, scope, record_id(office, record),
                                      now=now(), hold_id=hold_id, reason=reason)
    click.echo(f"Hold {released.hold_id} on {record} released.")


@hold.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def hold_list(obj: dict[str, object], as_json: bool) -> None:
    """Every record under a hold (its own or a matter's), permanent and waiting ones included, and the
    matter holds."""
    with open_office(obj) as office:
        found = disposition.held(office.ports, office.plan, jurisdiction=office.settings.jurisdiction,
                                 as_of=now().date())
        every = matters.all_holds(office.ports)
        numbers = casefiles.numbers(office.ports)  # a case file's hold is named by the case file's number
    rows = [dict(_decision_json(h.decision), holds=[x.hold_id for x in h.holds],
                 matter_holds=[m.hold_id for m in h.matter_holds],
                 casefiles=[numbers.get(m.query.casefile, m.query.casefile) for m in h.matter_holds
                            if m.query.casefile]) for h in found]
    if as_json:
        print_json({"records": rows, "matter_holds": [
            {"hold_id": m.hold_id, "query": m.query.describe(numbers), "reason": m.reason, "placed_by": m.placed_by,
             "placed_at": m.placed_at, "active": m.active, "released_by": m.released_by,
             "released_at": m.released_at, "casefile": numbers.get(m.query.casefile, m.query.casefile) or None}
            for m in every]})
        return
    for m in every:
        click.echo(f"matter {m.hold_id}  {'active' if m.active else 'released'}  {m.query.describe(numbers)}  "
                   f"({m.reason})")
    if not rows:
        click.echo("No record is on hold.")
    for h, row in zip(found, rows):
        by = ", ".join([*row["holds"], *(f"case file {numbers[m.query.casefile]}" if m.query.casefile in numbers
                                         else f"matter {m.hold_id}" for m in h.matter_holds)])
        click.echo(f"{h.decision.registry_number:<16} {_label(h.decision):<17} held by {by}")


@click.group()
def retention() -> None:
    """Retention: what is due, what lacks its trigger event, destruction certificates."""


def _decision_json(d: Decision) -> dict[str, Any]:
    return {"id": d.record_id, "registry_number": d.registry_number, "record_class": d.record_class,
            "status": str(d.status), "trigger": d.trigger, "retention_until": d.until,
            "action": str(d.action) if d.action else None, "basis": d.basis, "reason": d.reason,
            "plan_note": d.plan_note or None}


_LABELS = {"due": "due", "permanent": "permanent", "missing_trigger": "waiting for event", "on_hold": "on hold",
           "not_yet": "not yet due"}


def _label(d: Decision) -> str:
    return _LABELS.get(str(d.status), str(d.status))


def _print_decisions(decisions: list[Decision], as_json: bool, empty: str) -> None:
    if as_json:
        print_json([_decision_json(d) for d in decisions])
    elif not decisions:
        click.echo(empty)
    for d in decisions if not as_json else []:
        click.echo(f"{d.registry_number:<16} {_label(d):<17} {d.record_id}  {d.reason}")


@retention.command("due")
@click.option("--as-of", "--by", "as_of", type=DAY,
              help="Evaluate on this day (default today): a later day lists what falls due by then.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def retention_due(obj: dict[str, object], as_of: datetime | None, as_json: bool) -> None:
    """Records whose retention has run out and that no hold blocks, then the permanent records and those
    waiting for their trigger event (status in each row)."""
    with open_office(obj) as office:
        found = disposition.due_list(office.ports, office.plan, jurisdiction=office.settings.jurisdiction,
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


@retention.command("proposals")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def retention_proposals(obj: dict[str, object], as_json: bool) -> None:
    """Open destruction proposals, each record with title, class, basis and keep-until, and the justification."""
    with open_office(obj) as office:
        found = [(p, disposition.proposal_rows(office.ports, office.plan, AccessScope.system(ACTOR), p,
                                               jurisdiction=office.settings.jurisdiction))
                 for p in disposition.proposals(office.ports)]
    if as_json:
        print_json([_proposal_json(p, rows) for p, rows in found])
        return
    if not found:
        click.echo("No destruction proposal is waiting for approval.")
    for p, rows in found:
        _print_proposal(p, rows)


def _proposal_json(p: disposition.Proposal, rows: list[disposition.ProposalRow]) -> dict[str, Any]:
    return {"proposal_id": p.proposal_id, "proposed_by": p.proposed_by, "proposed_at": p.proposed_at,
            "as_of": p.as_of, "justification": p.reason,
            "records": [{"id": r.record_id, "registry_number": r.registry_number, "title": r.title,
                         "record_class": r.record_class, "class_name": r.class_name, "basis": r.basis,
                         "retention_until": r.until, "status": r.status} for r in rows]}


def _print_proposal(p: disposition.Proposal, rows: list[disposition.ProposalRow]) -> None:
    click.echo(f"Proposal {p.proposal_id} by {p.proposed_by} on {p.proposed_at.date()}: {p.reason}")
    for r in rows:
        click.echo(f"  {r.registry_number:<16} {r.record_class:<6} until {r.until or '-'}  {r.basis}  {r.title}")


def _approve(obj: dict[str, object], proposal_id: str, as_user: str | None) -> None:
    with open_office(obj) as office:
        result = disposition.approve(office.ports, office.plan, scope_of(office, as_user),
                                     proposal_id, jurisdiction=office.settings.jurisdiction, now=now())
    _print_result(result)


@retention.command("approve")
@click.argument("proposal_id")
@click.option("--as", "as_user", metavar="USER", help="The approving user (password asked).")
@click.pass_obj
def retention_approve(obj: dict[str, object], proposal_id: str, as_user: str | None) -> None:
    """The same as `strongroom approve` (kept for scripts)."""
    _approve(obj, proposal_id, as_user)


@click.command("approve")
@click.argument("proposal_id")
@click.option("--as", "as_user", metavar="USER", help="The approving user (password asked).")
@click.pass_obj
def approve(obj: dict[str, object], proposal_id: str, as_user: str | None) -> None:
    """A second person (not the proposer) approves a destruction proposal, which carries it out."""
    _approve(obj, proposal_id, as_user)


@click.command()
@click.argument("records", nargs=-1, required=True)
@click.option("--reason", default="", help="The written justification: why these records may be destroyed now.")
@click.option("--as-of", type=DAY, help="Check due-ness on this day (default today).")
@click.option("--as", "as_user", metavar="USER", help="Act as this user (password asked).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def dispose(obj: dict[str, object], records: tuple[str, ...], reason: str, as_of: datetime | None,
            as_user: str | None, yes: bool) -> None:
    """Propose the destruction of due, unheld records with a justification (a second person approves with
    `strongroom approve`); with the two-person rule off, destroy them at once."""
    with open_office(obj) as office:
        ports = office.ports
        ids = [record_id(office, r) for r in records]
        if day(as_of) > now().date():  # --as-of may look back, never bring destruction forward
            raise DispositionRefused("Records cannot be destroyed as of a future day: use today's date "
                                     "or an earlier one (`retention due --as-of` previews the future).")
        if not yes and reason.strip() and not office.safeguards.require_second_approver:
            click.confirm(f"Destroy {len(ids)} record(s) irrecoverably?", abort=True)
        result = disposition.dispose(ports, office.plan, scope_of(office, as_user), ids, reason=reason,
                                     jurisdiction=office.settings.jurisdiction, as_of=day(as_of), now=now())
        rows = (disposition.proposal_rows(ports, office.plan, AccessScope.system(ACTOR), result.proposal,
                                          jurisdiction=office.settings.jurisdiction) if result.proposal else [])
    if result.proposal is not None:
        _print_proposal(result.proposal, rows)
    _print_result(result)


def _print_result(result: disposition.DispositionResult) -> None:
    if result.proposal is not None:
        click.echo(f"Proposed for destruction as {result.proposal.proposal_id}: a second person approves with "
                   f"`strongroom approve {result.proposal.proposal_id} --as NAME`.")
    elif result.certificate is not None:
        click.echo(f"Destroyed {len(result.record_ids)} record(s); certificate "
                   f"{result.certificate.certificate_id}:")
        print_json(result.certificate.to_json())


# ---- review and transfer --------------------------------------------------------------------------------


@click.group("review")
def review_group() -> None:
    """The review queue: due records whose class asks a person to decide."""


@review_group.command("list")
@click.option("--as-of", type=DAY, help="Evaluate on this day (default today).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def review_list(obj: dict[str, object], as_of: datetime | None, as_json: bool) -> None:
    """Records waiting for a review decision."""
    with open_office(obj) as office:
        found = review.queue(office.ports, office.plan, jurisdiction=office.settings.jurisdiction, as_of=day(as_of))
    _print_decisions(found, as_json, "No record is waiting for a review.")


@review_group.command("decide")
@click.argument("record")
@click.argument("choice", type=click.Choice([c.value for c in review.Choice]))
@click.option("--reason", required=True, help="Why (audited).")
@click.option("--years", type=int, help="keep: how many more years.")
@click.option("--class", "new_class", help="reclassify: the new class.")
@click.option("--as-of", type=DAY, help="Evaluate on this day (default today).")
@click.option("--as", "as_user", metavar="USER", help="Act as this user (password asked).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def review_decide(obj: dict[str, object], record: str, choice: str, reason: str, years: int | None,
                  new_class: str | None, as_of: datetime | None, as_user: str | None, as_json: bool) -> None:
    """Decide a reviewed record: keep (--years N), reclassify (--class C), transfer or destroy."""
    if day(as_of) > now().date():
        raise DispositionRefused("A review cannot be decided as of a future day: use today's date or an earlier one.")
    with open_office(obj) as office:
        outcome = review.decide(office.ports, office.plan, scope_of(office, as_user), record_id(office, record),
                                review.Choice(choice), reason=reason, years=years, new_class=new_class or "",
                                jurisdiction=office.settings.jurisdiction, as_of=day(as_of), now=now())
    if as_json:
        print_json({"id": outcome.record_id, "registry_number": outcome.registry_number, "decision": str(outcome.choice),
                    "status": outcome.status, "retention_until_old": outcome.old_until,
                    "retention_until_new": outcome.new_until, "class_old": outcome.old_class,
                    "class_new": outcome.new_class,
                    "proposal": outcome.disposal.proposal.proposal_id
                    if outcome.disposal and outcome.disposal.proposal else None})
        return
    click.echo(f"{outcome.registry_number}: {outcome.status} (keep-until {outcome.old_until or '-'} -> "
               f"{outcome.new_until or '-'}).")
    if outcome.disposal is not None:
        _print_result(outcome.disposal)


@click.command("transfer")
@click.argument("items", nargs=-1, required=True, metavar="RECORD... | receipt RECORD")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="The folder the E-ARK packages are written to (outside the home).")
@click.option("--ref", help="With `receipt`: the archive's receipt or accession reference.")
@click.option("--as", "as_user", metavar="USER", help="Act as this user (password asked).")
@click.pass_obj
def transfer_cmd(obj: dict[str, object], items: tuple[str, ...], output: Path | None, ref: str | None,
                 as_user: str | None) -> None:
    """Hand due records whose action is transfer to an archive: `transfer RECORD... -o DIR` writes one E-ARK
    SIP per record and marks it transferred; `transfer receipt RECORD --ref TEXT` records the archive's
    receipt and crypto-shreds the record (with a signed certificate)."""
    if items[0] == "receipt":
        if len(items) != 2 or not ref:
            raise click.UsageError("Use `strongroom transfer receipt RECORD --ref TEXT`.")
        with open_office(obj) as office:
            cert = transfer.receipt(office.ports, office.plan, scope_of(office, as_user), record_id(office, items[1]),
                                    ref, jurisdiction=office.settings.jurisdiction, as_of=now().date(), now=now())
        click.echo(f"Receipt recorded and the record shredded; certificate {cert.certificate_id}:")
        print_json(cert.to_json())
        return
    if output is None:
        raise click.UsageError("Name the folder for the packages with -o DIR.")
    with open_office(obj) as office:
        target = _outside_home(office, output)
        done = transfer.transfer(office.ports, office.plan, scope_of(office, as_user),
                                 [record_id(office, r) for r in items], write=_package_writer(target),
                                 office=office.path.name, jurisdiction=office.settings.jurisdiction,
                                 as_of=now().date(), now=now())
    for t in done:
        click.echo(f"{t.registry_number}: package {target / t.package_id} written and the record marked "
                   f"transferred; after the archive confirms, run `strongroom transfer receipt {t.record_id} "
                   "--ref TEXT`.")


def _outside_home(office: Office, output: Path) -> Path:
    target = output.expanduser().resolve()
    home = office.path.resolve()
    if target == home or home in target.parents:
        raise DispositionRefused("The packages hold the documents in plain form, so they cannot be written inside "
                                 "the home: choose a folder outside it.")
    return target


def _package_writer(target: Path) -> transfer.PackageWriter:
    """Writes a package into target/.<id>.part, fsyncs it, then renames it to target/<id>: a package either
    exists whole or not at all."""
    def write(package_id: str, files: list[tuple[str, bytes]]) -> None:
        partial = target / f".{package_id}.part"
        try:
            target.mkdir(parents=True, exist_ok=True)
            for rel, data in files:
                path = partial / rel.removeprefix(package_id + "/")
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "wb") as sink:
                    sink.write(data)
                    sink.flush()
                    os.fsync(sink.fileno())
            os.replace(partial, target / package_id)
        except OSError as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise RecordsError(f"Writing the package to {target} failed ({exc.strerror}); nothing was marked "
                               "transferred. Free some space or choose another folder.") from None
    return write


COMMANDS = (hold, retention, dispose, approve, review_group, transfer_cmd)
