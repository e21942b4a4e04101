"""`strongroom import|list|show|get|edit`: the records commands, and the wiring other command modules share.

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

from records import amendment, retrieval
from records.access import AccessScope
from records.errors import AccessDenied, RecordNotFound
from records.filing import FilingRequest
from records.model import Confidentiality, Record, RecordId, details_to_dict
from records.plan import Plan, default_plan_text, load_plan
from records.ports import Ports, RecordFilter
from vault import Home, check_password
from web.cli import cli
from web.cli.keys_cmds import INIT_STEPS
from web.home import ask_secret, open_from_settings, ports_of, settings_from_cli, shared_extractor
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
    password = settings.user_password or ask_secret(f"Password for {as_user}", "STRONGROOM_USER_PASSWORD")
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
    settings = settings_from_cli(obj)
    shared_extractor(settings).warm()  # the sandbox workers start while the passphrase is stretched
    home = open_from_settings(settings, actor=ACTOR)
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
