"""`strongroom export audit|public-key` (needs the home) and `verify-export` (needs only the ZIP)."""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path

import click

from records.access import AccessScope
from records.export import AuditExport, ExportRequest, ExportSummary, export_to, start_export
from records.plan import Plan
from web.cli.common import ACTOR, DAY, open_office
from web.office import Office
from web.verify_export import EXIT_UNUSABLE, UnusableExport, load_public_key, public_key_text, verify_export


@click.group(invoke_without_command=True)
@click.option("--public-key", "show_key", is_flag=True,
              help="Print the home's audit public key (same as `export public-key`).")
@click.pass_context
def export(ctx: click.Context, show_key: bool) -> None:
    """Audit exports an auditor can verify offline."""
    if show_key:
        ctx.invoke(public_key)
    elif ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@export.command("public-key")
@click.pass_obj
def public_key(obj: dict[str, object]) -> None:
    """Print the audit public key for the auditor to keep (PEM, base64 and fingerprint)."""
    with open_office(obj) as office:
        click.echo(public_key_text(office.ports.signer.public_key()), nl=False)


@export.command("audit")
@click.option("--from", "date_from", type=DAY, help="First day (2025-01-31 or 31.1.2025; UTC).")
@click.option("--to", "date_to", type=DAY, help="Last day (2025-12-31 or 31.12.2025; UTC).")
@click.option("--class", "record_class", metavar="CODE", help="Only records of this class.")
@click.option("--principal", metavar="P", help="Only records of this principal.")
@click.option("--with-documents", is_flag=True, help="Include the originals (checked against their fixity).")
@click.option("--as", "as_user", metavar="USER", help="Export as this user (their role and clearance apply).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The ZIP file to write.")
@click.option("--json", "as_json", is_flag=True, help="Print a summary as JSON.")
@click.pass_obj
def export_audit(obj: dict[str, object], date_from: datetime | None, date_to: datetime | None,
                 record_class: str | None, principal: str | None, with_documents: bool,
                 as_user: str | None, output: Path, as_json: bool) -> None:
    """Write a signed ZIP: registers (CSV), the period's audit trail, manifest and signature."""
    with open_office(obj) as office:
        request = ExportRequest(date_from=_day(date_from), date_to=_day(date_to),
                                record_class=_class_code(office.plan, record_class), principal=principal,
                                with_documents=with_documents)
        job = start_export(office.ports, _scope(office, as_user), request, now=office.now())
        summary = _write(output, job)
    if as_json:
        click.echo(json.dumps({"file": str(output), "manifest_sha256": summary.manifest_sha256,
                               "head": {"seq": summary.head.seq, "hash": summary.head.hash},
                               "entries": summary.entries, "records": summary.records,
                               "documents": summary.documents, "fingerprint": summary.fingerprint},
                              indent=2))
        return
    click.echo(f"Wrote {output}: {summary.records} records, {summary.entries} audit entries"
               + (f", {summary.documents} documents" if with_documents else "") + ".")
    click.echo(f"Chain head: entry {summary.head.seq}, {summary.head.hash}")
    click.echo(f"Signed with key {summary.fingerprint}")


@click.command("verify-export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--public-key", "key_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The office's audit public key (from `strongroom export public-key`).")
@click.option("--previous", type=click.Path(dir_okay=False, path_type=Path),
              help="The earlier export this one should continue.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def verify_export_cmd(ctx: click.Context, file: Path, key_file: Path | None, previous: Path | None,
                      as_json: bool) -> None:
    """Check an audit export, or a destruction certificate (JSON), offline (no home, no passphrase). Exit 0
    verified, 1 changed, 2 unusable."""
    try:
        key = load_public_key(key_file) if key_file is not None else None
    except UnusableExport as exc:
        click.echo(f"strongroom: {exc}", err=True)
        ctx.exit(EXIT_UNUSABLE)
    result = verify_export(file, public_key=key, previous=previous)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    elif result.unusable:
        click.echo(f"strongroom: {result.unusable}", err=True)
    elif result.problems:
        click.echo(f"NOT VERIFIED: {file}")
        for problem in result.problems:
            click.echo(f"  {problem}")
    elif result.kind == "certificate":
        body = result.section("certificate")
        click.echo(f"VERIFIED: {file}: destruction certificate {body.get('certificate_id')} of {body.get('time')}, "
                   f"{len(body.get('records') or [])} record(s), two-person rule {body.get('two_person_rule', '?')}.")
    else:
        chain = result.section("chain")
        period = result.section("period")
        click.echo(f"VERIFIED: {file}: {chain.get('entries')} audit entries up to entry "
                   f"{chain.get('head', {}).get('seq')}, period {period.get('from') or 'start'} to "
                   f"{period.get('to') or 'export'}, key {result.section('key').get('fingerprint')}.")
    if not as_json and not result.unusable:
        for note in result.notes:
            click.echo(f"  note: {note}")
    ctx.exit(result.exit_code)


def _class_code(plan: Plan, value: str | None) -> str | None:
    """`--class` takes a code or a slug of the home's plan."""
    return plan.resolve(value).code if value is not None else None


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _scope(office: Office, as_user: str | None) -> AccessScope:
    if as_user is None:
        return AccessScope.system(ACTOR)  # the passphrase holder: the home's owner
    user = office.ports.catalog.get_user(as_user)
    if user is None or user.disabled:
        raise click.BadParameter(f"there is no active user named {as_user}.", param_hint="--as")
    return AccessScope.of(user)


def _write(output: Path, job: AuditExport) -> ExportSummary:
    """Write to OUTPUT.part and rename when complete; a failed export leaves no file behind."""
    partial = output.with_name(output.name + ".part")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # may hold confidential data
    except OSError as exc:
        raise click.ClickException(f"Cannot write {output} ({exc.strerror}); choose another place.") from None
    try:
        with os.fdopen(fd, "wb") as sink:
            summary = export_to(sink, job)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(partial, output)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"Writing {output} failed ({exc.strerror}); nothing was kept. "
                                   "Free some space or choose another place.") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return summary


COMMANDS = (export, verify_export_cmd)
