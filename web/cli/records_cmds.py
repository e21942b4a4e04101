"""`strongroom import|list|show|get|edit|user|audit|hold|retention|dispose|registers`: the records commands.

Each command parses, opens the home, calls one use case in `records`, prints. `--class`
takes a code or a slug; ID arguments take a record id or a registry number.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import click

from records import accounts, amendment, certificates, disposition, holds, registers, retrieval
from records.access import AccessScope
from records.errors import AccessDenied, DispositionRefused, RecordNotFound
from records.filing import FilingRequest
from records.model import Confidentiality, Direction, Record, RecordId, Role, details_to_dict
from records.plan import Plan, default_plan_text, load_plan
from records.ports import Ports, RecordFilter
from records.retention import Decision, missing_trigger
from vault import Home, check_password, hash_password
from vault.passwords import MIN_PASSWORD_LENGTH
from web.cli import cli
from web.cli.keys_cmds import INIT_STEPS
from web.home import open_from_settings, ports_of, settings_from_cli
from web.intake import bulk_import, import_sources
from web.settings import Settings

ACTOR = "system:cli"


# ---- wiring (reused by other shells: build the ports and plan of an open home) -----------------


def ports_for(home: Home, extractor: Any = None) -> Ports:
    return ports_of(home, extractor)


def plan_for(settings: Settings) -> Plan:
    """The home's own plan (plan.toml, editable), as the settings name it."""
    return load_plan(settings.plan_file)


def _copy_default_plan(home: Home, settings: Settings) -> None:
    path = settings.plan_file
    if not path.exists():
        path.write_text(default_plan_text(), encoding="utf-8")


INIT_STEPS.append(_copy_default_plan)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _open(obj: dict[str, object]) -> tuple[Settings, Home]:
    settings = settings_from_cli(obj)
    return settings, open_from_settings(settings, actor=ACTOR)


def _scope(home: Home, settings: Settings, as_user: str | None) -> AccessScope:
    """The person at the terminal holds the passphrase (full power); `--as` acts as a named user."""
    if as_user is None:
        return AccessScope.system(ACTOR)
    user = home.catalog.get_user(as_user)
    password = settings.user_password or str(click.prompt(f"Password for {as_user}", hide_input=True))
    if user is None or user.disabled or not check_password(user.password_hash, password):
        raise AccessDenied(f"The user name or password for {as_user} is wrong.")
    return AccessScope.of(user)


def _record_id(ports: Ports, text: str) -> RecordId:
    """A record id, or the id of the record with this registry number."""
    if "/" in text:
        match = [r.id for r in ports.catalog.find() if r.registry_number == text]
        if match:
            return match[0]
        raise RecordNotFound(f"There is no record {text}: check the registry number (`strongroom list`).")
    return RecordId(text)


def _day(value: datetime | None) -> date:
    return value.date() if value else _now().date()


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def record_json(record: Record) -> dict[str, Any]:
    return {
        "id": record.id, "registry_number": record.registry_number, "title": record.title,
        "record_class": record.record_class, "principal": record.principal,
        "confidentiality": str(record.confidentiality),
        "document_date": record.document_date.isoformat() if record.document_date else None,
        "filed_at": record.filed_at.isoformat(), "filed_by": record.filed_by,
        "retention_trigger": record.retention_trigger.isoformat() if record.retention_trigger else None,
        "retention_until": record.retention_until.isoformat() if record.retention_until else None,
        "state": str(record.state), "on_hold": record.on_hold,
        "holds": [{"id": h.hold_id, "reason": h.reason, "placed_by": h.placed_by,
                   "placed_at": h.placed_at.isoformat(), "released_at":
                   h.released_at.isoformat() if h.released_at else None} for h in record.holds],
        "sha256": record.sha256, "size": record.size, "media_type": record.media_type,
        "original_name": record.original_name, "parties": list(record.parties), "tags": list(record.tags),
        "details": details_to_dict(record.details), "parent_id": record.parent_id,
        "text_note": record.text_note, "extra": dict(record.extra),
        "disposed_at": record.disposed_at.isoformat() if record.disposed_at else None,
    }


# ---- import, list, show, get, edit -------------------------------------------------------------


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--class", "record_class", metavar="C", help="Class code or slug (default: unsorted).")
@click.option("--principal", default="", help="The manager or employer the documents belong to.")
@click.option("--confidentiality", type=click.Choice([c.value for c in Confidentiality]),
              help="Default: the class's level.")
@click.option("--title", help="Title (default: the document's own title or its file name).")
@click.option("--document-date", type=click.DateTime(["%Y-%m-%d"]), help="Date of the document.")
@click.option("--json", "as_json", is_flag=True, help="Print [{path, id, status, reason}] as JSON.")
@click.pass_obj
def import_(obj: dict[str, object], paths: tuple[Path, ...], record_class: str | None, principal: str,
            confidentiality: str | None, title: str | None, document_date: datetime | None,
            as_json: bool) -> None:
    """File documents (files, or folders recursively): seal, catalogue, audit, index."""
    settings, home = _open(obj)
    with home:
        plan = plan_for(settings)
        plan.resolve(record_class)  # an unknown class fails before any file is touched
        files = list(import_sources(paths))
        template = FilingRequest(
            original_name="", record_class=record_class, principal=principal,
            confidentiality=Confidentiality(confidentiality) if confidentiality else None,
            title=title, document_date=document_date.date() if document_date else None,
            actor=ACTOR, channel="import")
        show_bar = sys.stderr.isatty() and not as_json and len(files) > 1
        with click.progressbar(length=len(files), label="Filing", file=sys.stderr, show_pos=True,
                               hidden=not show_bar) as bar:
            summary = bulk_import(ports_for(home), plan, settings, files, template,
                                  progress=lambda done, total: bar.update(1))
    results = [{"path": f"{i.path} (attachment)" if i.attachment else i.path, "id": i.record_id,
                "registry_number": i.registry_number or None, "status": i.status, "reason": i.reason}
               for i in summary.items]
    if as_json:
        _print_json(results)
    else:
        for r in results:
            click.echo(f"{r['status']:<9} {r['registry_number'] or '-':<16} {r['path']}  {r['reason']}")
        click.echo(f"{summary.filed} filed, {summary.duplicates} duplicates, {len(summary.rejected)} rejected "
                   f"in {summary.seconds:.1f} s. {summary.note}".rstrip(), err=True)
    if summary.rejected:
        sys.exit(1)


@cli.command("list")
@click.option("--class", "record_class", metavar="C", help="Class code or slug.")
@click.option("--principal", help="Only this principal's records.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(obj: dict[str, object], record_class: str | None, principal: str | None, as_json: bool) -> None:
    """List records (registry number, class, state, title)."""
    settings, home = _open(obj)
    with home:
        code = plan_for(settings).resolve(record_class).code if record_class else None
        found = home.catalog.find(RecordFilter(record_class=code, principal=principal))
    if as_json:
        _print_json([record_json(r) for r in found])
        return
    for r in found:
        click.echo(f"{r.registry_number:<16} {r.id}  {r.state:<8} {r.title}")


@cli.command()
@click.argument("record")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show(obj: dict[str, object], record: str, as_json: bool) -> None:
    """Show one record's metadata (the view is audited)."""
    settings, home = _open(obj)
    with home:
        ports = ports_for(home)
        found = retrieval.view_record(ports, _scope(home, settings, None), _record_id(ports, record), now=_now())
    data = record_json(found)
    if as_json:
        _print_json(data)
        return
    for key, value in data.items():
        if value not in (None, "", [], {}):
            click.echo(f"{key:<18} {value}")


@cli.command()
@click.argument("record")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the original (it is plaintext there: choose the place with care).")
@click.pass_obj
def get(obj: dict[str, object], record: str, output: Path) -> None:
    """Write a record's original, byte for byte (the download is audited)."""
    settings, home = _open(obj)
    with home:
        ports = ports_for(home)
        found, stream = retrieval.read_original(ports, _scope(home, settings, None), _record_id(ports, record),
                                                now=_now())
        part = output.with_name(output.name + ".part")
        with open(part, "wb") as fh:
            for chunk in stream:
                fh.write(chunk)
        part.replace(output)
    click.echo(f"Wrote {found.registry_number} to {output}.")


@cli.command()
@click.argument("record")
@click.option("--set", "changes", multiple=True, metavar="KEY=VALUE", required=True,
              help="A field and its new value (repeat); e.g. expiry=2027-06-30, event.superseded=2026-01-01.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def edit(obj: dict[str, object], record: str, changes: tuple[str, ...], as_json: bool) -> None:
    """Change a record's metadata (a new audited version; retention is recomputed)."""
    parsed: dict[str, str] = {}
    for change in changes:
        key, sep, value = change.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--set needs KEY=VALUE, not {change!r}.")
        parsed[key.strip()] = value
    settings, home = _open(obj)
    with home:
        ports = ports_for(home)
        updated, note = amendment.edit_metadata(ports, plan_for(settings), _scope(home, settings, None),
                                                _record_id(ports, record), parsed,
                                                jurisdiction=settings.jurisdiction, now=_now())
    if as_json:
        _print_json(record_json(updated))
    else:
        click.echo(f"Updated {updated.registry_number}: {', '.join(sorted(parsed))}.")
    if note:
        click.echo(note, err=True)


# ---- users and the audit log ---------------------------------------------------------------------


@cli.group()
def user() -> None:
    """Local user accounts for the web UI."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--clearance", type=click.Choice([c.value for c in Confidentiality]),
              help="Highest confidentiality the user may see (default internal; admins secret).")
@click.option("--principal", "principals", multiple=True, help="Limit to this principal (repeat); none: all.")
@click.pass_obj
def user_add(obj: dict[str, object], name: str, role: str, clearance: str | None,
             principals: tuple[str, ...]) -> None:
    """Add a user; the password comes from a prompt or STRONGROOM_USER_PASSWORD."""
    settings = settings_from_cli(obj)
    password = settings.user_password or str(
        click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.UsageError(f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters.")
    with open_from_settings(settings, actor=ACTOR) as home:
        made = accounts.add_user(ports_for(home), AccessScope.system(ACTOR), name=name, role=Role(role),
                                 password_hash=hash_password(password),
                                 clearance=Confidentiality(clearance) if clearance else None,
                                 principals=principals, now=_now())
    click.echo(f"Added {made.role} {made.name} (clearance {made.clearance}).")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def user_list(obj: dict[str, object], as_json: bool) -> None:
    """List users (never their password hashes)."""
    with open_from_settings(settings_from_cli(obj), actor=ACTOR) as home:
        found = accounts.list_users(ports_for(home), AccessScope.system(ACTOR))
    rows = [{"name": u.name, "role": str(u.role), "clearance": str(u.clearance),
             "principals": list(u.principals), "disabled": u.disabled} for u in found]
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        click.echo(f"{r['name']:<16} {r['role']:<10} {r['clearance']:<13} {','.join(r['principals']) or '(all)'}")


@cli.group()
def audit() -> None:
    """The audit trail."""


@audit.command("log")
@click.option("--limit", type=int, default=0, help="Only the last N entries.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one entry each, with hashes.")
@click.pass_obj
def audit_log(obj: dict[str, object], limit: int, as_json: bool) -> None:
    """Print the audit trail (actor, action, record, outcome; never document text)."""
    with open_from_settings(settings_from_cli(obj), actor=ACTOR) as home:
        head = home.catalog.audit_head()
        since = max(0, head.seq - limit) if head and limit else 0
        entries = list(home.catalog.audit_entries(since))
    for e in entries:
        if as_json:
            click.echo(json.dumps(e.to_json(), ensure_ascii=False, sort_keys=True))
        else:
            details = " ".join(f"{k}={v}" for k, v in e.event.details)
            click.echo(f"{e.seq:>6} {e.event.ts:%Y-%m-%d %H:%M:%S} {e.event.actor:<14} {e.event.action:<18} "
                       f"{e.event.outcome:<9} {e.event.record_id or '-'} {details}".rstrip())


# ---- holds, retention, disposition -----------------------------------------------------------------


@cli.group()
def hold() -> None:
    """Legal holds: a hold blocks disposition until released."""


@hold.command("add")
@click.argument("record")
@click.option("--reason", required=True, help="The case, request or mandate behind the hold.")
@click.pass_obj
def hold_add(obj: dict[str, object], record: str, reason: str) -> None:
    settings, home = _open(obj)
    with home:
        ports = ports_for(home)
        placed = holds.place_hold(ports, _scope(home, settings, None), _record_id(ports, record), reason,
                                  now=_now())
    click.echo(f"Hold {placed.hold_id} placed on {record}.")


@hold.command("release")
@click.argument("record")
@click.option("--hold", "hold_id", help="Which hold, when there are several.")
@click.pass_obj
def hold_release(obj: dict[str, object], record: str, hold_id: str | None) -> None:
    settings, home = _open(obj)
    with home:
        ports = ports_for(home)
        released = holds.release_hold(ports, _scope(home, settings, None), _record_id(ports, record),
                                      now=_now(), hold_id=hold_id)
    click.echo(f"Hold {released.hold_id} on {record} released.")


@cli.group()
def retention() -> None:
    """Retention: what is due, what lacks its trigger event, destruction certificates."""


def _decision_json(d: Decision) -> dict[str, Any]:
    return {"id": d.record_id, "registry_number": d.registry_number, "record_class": d.record_class,
            "status": str(d.status), "trigger": d.trigger, "retention_until": d.until,
            "action": str(d.action) if d.action else None, "basis": d.basis, "reason": d.reason}


def _print_decisions(decisions: list[Decision], as_json: bool, empty: str) -> None:
    if as_json:
        _print_json([_decision_json(d) for d in decisions])
    elif not decisions:
        click.echo(empty)
    for d in decisions if not as_json else []:
        click.echo(f"{d.registry_number:<16} {d.record_id}  {d.reason}")


@retention.command("due")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Evaluate on this day (default today).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def retention_due(obj: dict[str, object], as_of: datetime | None, as_json: bool) -> None:
    """Records whose retention has run out and that no hold blocks."""
    settings, home = _open(obj)
    with home:
        found = disposition.due(ports_for(home), plan_for(settings), jurisdiction=settings.jurisdiction,
                                as_of=_day(as_of))
    _print_decisions(found, as_json, "No record is due for disposition.")


@retention.command("missing-trigger")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def retention_missing(obj: dict[str, object], as_json: bool) -> None:
    """Records whose retention clock waits for an event date (e.g. a contract's expiry)."""
    settings, home = _open(obj)
    with home:
        found = missing_trigger(disposition.review(ports_for(home), plan_for(settings),
                                                   jurisdiction=settings.jurisdiction, as_of=_now().date()))
    _print_decisions(found, as_json, "Every record's retention clock has started.")


@retention.command("certificates")
@click.argument("certificate_id", required=False)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def retention_certificates(obj: dict[str, object], certificate_id: str | None, as_json: bool) -> None:
    """List destruction certificates, or show one (signed JSON)."""
    with open_from_settings(settings_from_cli(obj), actor=ACTOR) as home:
        found = ([certificates.load(home.catalog, certificate_id)] if certificate_id
                 else certificates.all_certificates(home.catalog))
    if as_json or certificate_id:
        _print_json([c.to_json() for c in found] if not certificate_id else found[0].to_json())
        return
    for c in found:
        numbers = ", ".join(r["registry_number"] for r in c.body["records"])
        click.echo(f"{c.certificate_id}  {c.body['time']}  {numbers}")


@retention.command("approve")
@click.argument("proposal_id")
@click.option("--as", "as_user", required=True, metavar="USER", help="The approving user (password asked).")
@click.pass_obj
def retention_approve(obj: dict[str, object], proposal_id: str, as_user: str) -> None:
    """Approve a destruction proposal as a second person, which carries it out."""
    settings, home = _open(obj)
    with home:
        result = disposition.approve(ports_for(home), plan_for(settings), _scope(home, settings, as_user),
                                     proposal_id, jurisdiction=settings.jurisdiction, now=_now())
    _print_result(result)


@cli.command()
@click.argument("records", nargs=-1, required=True)
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Check due-ness on this day (default today).")
@click.option("--as", "as_user", metavar="USER", help="Act as this user (password asked).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def dispose(obj: dict[str, object], records: tuple[str, ...], as_of: datetime | None, as_user: str | None,
            yes: bool) -> None:
    """Destroy due, unheld records: shred keys, delete content, keep stubs and a signed certificate."""
    settings, home = _open(obj)
    with home:
        ports = ports_for(home)
        ids = [_record_id(ports, r) for r in records]
        if _day(as_of) > _now().date():  # --as-of may look back, never bring destruction forward
            raise DispositionRefused("Records cannot be destroyed as of a future day: use today's date "
                                     "or an earlier one (`retention due --as-of` previews the future).")
        if not yes:
            click.confirm(f"Destroy {len(ids)} record(s) irrecoverably?", abort=True)
        result = disposition.dispose(ports, plan_for(settings), _scope(home, settings, as_user), ids,
                                     jurisdiction=settings.jurisdiction, as_of=_day(as_of), now=_now(),
                                     require_second_approver=settings.require_second_approver)
    _print_result(result)


def _print_result(result: disposition.DispositionResult) -> None:
    if result.proposal is not None:
        click.echo(f"Proposed for destruction as {result.proposal.proposal_id}: a second person approves with "
                   f"`strongroom retention approve {result.proposal.proposal_id} --as NAME`.")
    elif result.certificate is not None:
        click.echo(f"Destroyed {len(result.record_ids)} record(s); certificate "
                   f"{result.certificate.certificate_id}:")
        _print_json(result.certificate.to_json())


# ---- registers ------------------------------------------------------------------------------------------


@cli.group("registers")
def registers_group() -> None:
    """The contracts register and the correspondence book."""


@registers_group.command("contracts")
@click.option("--expiring-within", type=int, metavar="DAYS", help="Only expiries or notice deadlines within N days.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def registers_contracts(obj: dict[str, object], expiring_within: int | None, as_json: bool) -> None:
    with open_from_settings(settings_from_cli(obj), actor=ACTOR) as home:
        found = registers.contracts(home.catalog, AccessScope.system(ACTOR), today=_now().date(),
                                    expiring_within=expiring_within)
    rows = [{"id": e.record.id, "registry_number": e.record.registry_number, "title": e.record.title,
             "parties": list(e.fields.parties), "expiry": e.fields.expiry, "notice_days": e.fields.notice_days,
             "notice_deadline": e.notice_deadline, "days_to_expiry": e.days_to_expiry} for e in found]
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        click.echo(f"{r['registry_number']:<16} expiry {r['expiry'] or '-':<10} notice by "
                   f"{r['notice_deadline'] or '-':<10} {r['title']}")


@registers_group.command("correspondence")
@click.option("--direction", type=click.Choice(["in", "out"]))
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def registers_correspondence(obj: dict[str, object], direction: str | None, as_json: bool) -> None:
    with open_from_settings(settings_from_cli(obj), actor=ACTOR) as home:
        found = registers.correspondence(home.catalog, AccessScope.system(ACTOR),
                                         direction=Direction(direction) if direction else None)
    rows = [{"id": e.record.id, "registry_number": e.record.registry_number,
             "direction": str(e.direction) if e.direction else None, "sender": e.fields.sender,
             "recipients": list(e.fields.recipients), "subject": e.fields.subject,
             "date": e.record.document_date or e.record.filed_at.date()} for e in found]
    if as_json:
        _print_json(rows)
        return
    for r in rows:
        who = r["sender"] if r["direction"] == "in" else ", ".join(r["recipients"])
        click.echo(f"{r['registry_number']:<16} {r['direction'] or '-':<3} {r['date']} {who}  {r['subject']}")


