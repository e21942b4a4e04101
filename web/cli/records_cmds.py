"""`strongroom import|list|show|get|edit|edits`: the records commands.

Each command parses, opens the home (an Office), calls one use case in `records`, prints. `--class`
takes a code or a slug; ID arguments take a record id or a registry number.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from records import amendment, retrieval
from records.filing import FilingOutcome, FilingRequest
from records.model import Confidentiality, Integrity, Record, SignatureFact, Trust, details_to_dict
from records.ports import RecordFilter
from web.cli.common import ACTOR, DAY, now, open_office, print_json, record_id, scope_of, settings_of
from web.intake import bulk_import, import_sources
from web.office import Office, shared_extractor


def record_json(record: Record) -> dict[str, Any]:
    return {
        "id": record.id, "registry_number": record.registry_number, "title": record.title,
        "record_class": record.record_class, "principal": record.principal,
        "confidentiality": str(record.confidentiality),
        "document_date": record.document_date.isoformat() if record.document_date else None,
        "filed_at": record.filed_at.isoformat(), "filed_by": record.filed_by,
        "retention_trigger": record.retention_trigger.isoformat() if record.retention_trigger else None,
        "retention_until": record.retention_until.isoformat() if record.retention_until else None,
        "retention_basis": record.retention_basis or None,
        "state": str(record.state), "on_hold": record.on_hold,
        "holds": [{"id": h.hold_id, "reason": h.reason, "placed_by": h.placed_by,
                   "placed_at": h.placed_at.isoformat(), "released_at":
                   h.released_at.isoformat() if h.released_at else None} for h in record.holds],
        "sha256": record.sha256, "size": record.size, "media_type": record.media_type,
        "original_name": record.original_name, "parties": list(record.parties), "tags": list(record.tags),
        "details": details_to_dict(record.details), "parent_id": record.parent_id,
        "text_note": record.text_note, "extra": dict(record.extra),
        "disposed_at": record.disposed_at.isoformat() if record.disposed_at else None,
        "signatures": [{"signer": f.signer, "identity_code": f.identity_code,
                        "signed_at": f.signed_at.isoformat() if f.signed_at else None,
                        "integrity": str(f.integrity), "trust": str(f.trust), "kind": f.kind, "problem": f.problem}
                       for f in record.signatures],
    }


_INTEGRITY = {Integrity.INTACT: "intact", Integrity.ALTERED: "altered since signing",
              Integrity.UNKNOWN: "could not be checked"}
_TRUST = {Trust.UNCHECKED: "certificate not checked against a trusted list",
          Trust.TRUSTED: "certificate issued by a certificate the office trusts",
          Trust.UNTRUSTED: "certificate NOT issued by any certificate the office trusts"}


def signature_line(fact: SignatureFact) -> str:
    """One signature in plain words, e.g. for `strongroom show`."""
    who = f"{fact.signer} ({fact.identity_code})" if fact.identity_code else fact.signer or "unknown signer"
    when = (f", signed {fact.signed_at.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC as the signer claims"
            if fact.signed_at else "")
    problem = f" ({fact.problem.rstrip('.')})" if fact.problem else ""
    return f"{who}{when}: {_INTEGRITY[fact.integrity]}{problem}; {_TRUST[fact.trust]}"


# ---- import, list, show, get, edit -------------------------------------------------------------


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--class", "record_class", metavar="C", help="Class code or slug (default: unsorted).")
@click.option("--principal", default="", help="The manager or employer the documents belong to.")
@click.option("--confidentiality", type=click.Choice([c.value for c in Confidentiality]),
              help="Default: the class's level.")
@click.option("--title", help="Title (default: the document's own title or its file name).")
@click.option("--document-date", type=DAY, help="Date of the document.")
@click.option("--batch", type=click.IntRange(1, 10_000), default=100, show_default=True,
              help="Files per group commit (one fsync of the objects' folder, one catalogue transaction, "
                   "one index commit).")
@click.option("--json", "as_json", is_flag=True, help="Print [{path, id, status, reason}] as JSON.")
@click.pass_obj
def import_(obj: dict[str, object], paths: tuple[Path, ...], record_class: str | None, principal: str,
            confidentiality: str | None, title: str | None, document_date: datetime | None,
            batch: int, as_json: bool) -> None:
    """File documents (files, or folders recursively): seal, catalogue, audit, index."""
    settings = settings_of(obj)
    shared_extractor(settings).warm()  # the sandbox workers start while the passphrase is stretched
    with Office.open(settings, actor=ACTOR) as office:
        office.plan.resolve(record_class)  # an unknown class fails before any file is touched
        files = list(import_sources(paths))
        template = FilingRequest(
            original_name="", record_class=record_class, principal=principal,
            confidentiality=Confidentiality(confidentiality) if confidentiality else None,
            title=title, document_date=document_date.date() if document_date else None,
            actor=ACTOR, channel="import")
        show_bar = sys.stderr.isatty() and not as_json and len(files) > 1
        with click.progressbar(length=len(files), label="Filing", file=sys.stderr, show_pos=True,
                               hidden=not show_bar) as bar:
            summary = bulk_import(office, files, template, batch=batch,
                                  progress=lambda done, total: bar.update(1))
    results = [{"path": o.source if o is item else f"{item.source} (attachment)", "id": o.record_id,
                "registry_number": o.registry_number or None, "status": str(o.status),
                "reason": " ".join(x for x in (o.reason, _unread(o), o.note) if x), "text_not_read": o.unread or None}
               for item in summary.items for o in item.flattened()]
    if as_json:
        print_json(results)
    else:
        for r in results:
            click.echo(f"{r['status']:<9} {r['registry_number'] or '-':<16} {r['path']}  {r['reason']}")
        click.echo(f"{summary.filed} filed, {summary.duplicates} duplicates, {len(summary.rejected)} rejected "
                   f"in {summary.seconds:.1f} s. {summary.note}".rstrip(), err=True)
    if summary.rejected:
        sys.exit(1)


def _unread(outcome: FilingOutcome) -> str:
    return f"Its text could not be read: {outcome.unread}." if outcome.unread else ""


@click.command("list")
@click.option("--class", "record_class", metavar="C", help="Class code or slug.")
@click.option("--principal", help="Only this principal's records.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(obj: dict[str, object], record_class: str | None, principal: str | None, as_json: bool) -> None:
    """List records (registry number, class, state, title)."""
    with open_office(obj) as office:
        code = office.plan.resolve(record_class).code if record_class else None
        found = office.ports.catalog.find(RecordFilter(record_class=code, principal=principal))
    if as_json:
        print_json([record_json(r) for r in found])
        return
    for r in found:
        click.echo(f"{r.registry_number:<16} {r.id}  {r.state:<8} {r.title}")


@click.command()
@click.argument("record")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show(obj: dict[str, object], record: str, as_json: bool) -> None:
    """Show one record's metadata (the view is audited)."""
    with open_office(obj) as office:
        found = retrieval.view_record(office.ports, scope_of(office, None), record_id(office, record), now=now())
    data = record_json(found)
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        if key == "signatures":
            for fact in found.signatures:
                click.echo(f"{'signature':<18} {signature_line(fact)}")
        elif value not in (None, "", [], {}):
            click.echo(f"{key:<18} {value}")


@click.command()
@click.argument("record")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the original (it is plaintext there: choose the place with care).")
@click.pass_obj
def get(obj: dict[str, object], record: str, output: Path) -> None:
    """Write a record's original, byte for byte (the download is audited)."""
    with open_office(obj) as office:
        found, stream = retrieval.read_original(office.ports, scope_of(office, None), record_id(office, record),
                                                now=now())
        part = output.with_name(output.name + ".part")
        with open(part, "wb") as fh:
            for chunk in stream:
                fh.write(chunk)
        part.replace(output)
    click.echo(f"Wrote {found.registry_number} to {output}.")


@click.command()
@click.argument("record")
@click.option("--set", "changes", multiple=True, metavar="KEY=VALUE", required=True,
              help="A field and its new value (repeat); e.g. expiry=2027-06-30, event.superseded=2026-01-01.")
@click.option("--reason", default="", help="Why: required when the edit moves the record's retention earlier.")
@click.option("--as", "as_user", metavar="USER", help="Act as this user (password asked).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def edit(obj: dict[str, object], record: str, changes: tuple[str, ...], reason: str, as_user: str | None,
         as_json: bool) -> None:
    """Change a record's metadata (a new audited version, with each field's old and new value)."""
    parsed: dict[str, str] = {}
    for change in changes:
        key, sep, value = change.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--set needs KEY=VALUE, not {change!r}.")
        parsed[key.strip()] = value
    with open_office(obj) as office:
        result = amendment.edit_metadata(office.ports, office.plan, scope_of(office, as_user),
                                         record_id(office, record), parsed, jurisdiction=office.settings.jurisdiction,
                                         now=now(), reason=reason,
                                         require_second_approver=office.safeguards.require_second_approver)
    print_edit(result, as_json)


def print_edit(result: amendment.EditResult, as_json: bool) -> None:
    if as_json:
        print_json({**record_json(result.record), "edit_status": result.status,
                    "edit_id": result.pending.edit_id if result.pending else None,
                    "changes": [{"field": f.name, "old": f.old, "new": f.new} for f in result.fields]})
    elif result.pending is not None:
        click.echo(f"{result.shortening}: proposed as edit {result.pending.edit_id}; a second person approves it with "
                   f"`strongroom edits approve {result.pending.edit_id} --as NAME`.")
    else:
        click.echo(f"Updated {result.record.registry_number}: "
                   + ", ".join(f"{f.name} {f.old or '-'} -> {f.new or '-'}" for f in result.fields) + ".")
    if result.note:
        click.echo(result.note, err=True)


@click.group()
def edits() -> None:
    """Edits that move retention earlier and wait for a second person's approval."""


@edits.command("pending")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def edits_pending(obj: dict[str, object], as_json: bool) -> None:
    """List the edits waiting for approval, with their justification."""
    with open_office(obj) as office:
        found = amendment.pending_edits(office.ports)
    rows = [{"id": p.edit_id, "record": p.record_id, "changes": dict(p.changes), "reason": p.reason,
             "proposed_by": p.proposed_by, "proposed_at": p.proposed_at.isoformat(), "effect": p.shortening}
            for p in found]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("No edit waits for approval.")
    for p in found:
        changes = ", ".join(f"{k}={v}" for k, v in p.changes)
        click.echo(f"{p.edit_id}  {p.record_id}  by {p.proposed_by}: {changes}  ({p.shortening}; reason: {p.reason})")


@edits.command("approve")
@click.argument("edit_id")
@click.option("--as", "as_user", required=True, metavar="USER", help="The approving user (password asked).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def edits_approve(obj: dict[str, object], edit_id: str, as_user: str, as_json: bool) -> None:
    """Approve a pending edit as a second person, which applies it."""
    with open_office(obj) as office:
        result = amendment.approve_edit(office.ports, office.plan, scope_of(office, as_user), edit_id,
                                        jurisdiction=office.settings.jurisdiction, now=now())
    print_edit(result, as_json)


COMMANDS = (import_, list_, show, get, edit, edits)
