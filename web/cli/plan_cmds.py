"""`strongroom plan show|export|import|history`: the classification plan sealed in the catalogue.

A plan file is only the import and export format; the plan in force is the catalogue's newest
version (records.planstore says why). Each command parses, calls one use case, prints.
"""

from __future__ import annotations

from pathlib import Path

import click

from records import planstore, schedule
from records.errors import PlanError
from records.plan import Plan, RecordClass, default_plan_text
from records.planstore import PlanChange
from web.cli.common import now, open_office, print_json, scope_of
from web.office import Office, write_plan_copy

MAX_RECORD_LINES = 50


@click.group("plan")
def plan_group() -> None:
    """The classification plan and retention schedule: sealed in the catalogue, versioned, audited."""


@plan_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Every class with names, periods, triggers and bases as JSON.")
@click.pass_obj
def plan_show(obj: dict[str, object], as_json: bool) -> None:
    """Show the plan in force: each class with its periods (* = policy), triggers and action."""
    with open_office(obj) as office:
        version, plan, year_end = _in_force(office)
    if as_json:
        print_json({"version": version.version, "sha256": version.sha256, "financial_year_end": year_end,
                    "classes": schedule.document(plan)})
        return
    click.echo(f"Plan version {version.version} (sha256 {version.sha256[:16]}), financial year ends {year_end}; "
               "* marks a policy period.")
    for cls in plan.classes:
        click.echo(f"{cls.code:<8} {cls.slug:<20} {_period(cls, 'SI'):<40} {_period(cls, 'EE'):<40} "
                   f"{cls.action!s:<10} {cls.name('en')}")


def _period(cls: RecordClass, jurisdiction: str) -> str:
    period = dict(cls.retention)[jurisdiction]
    if period.permanent:
        return f"{jurisdiction} permanent{'*' if period.policy else ''}"
    return f"{jurisdiction} {period.years}{'*' if period.policy else ''} y from {cls.trigger_in(jurisdiction)}"


def _in_force(office: Office) -> tuple[planstore.PlanVersion, Plan, str]:
    version = planstore.current(office.home.catalog)
    if version is None:  # opening the office migrates the plan, so only a damaged catalogue gets here
        raise PlanError("The catalogue holds no classification plan: run `strongroom verify`.")
    return version, office.plan, office.safeguards.financial_year_end


@plan_group.command("export")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The TOML file to write.")
@click.option("--version", "number", type=int, help="An earlier version (see `strongroom plan history`).")
@click.option("--default", "shipped", is_flag=True, help="The default plan shipped with Strongroom instead.")
@click.pass_obj
def plan_export(obj: dict[str, object], output: Path, number: int | None, shipped: bool) -> None:
    """Write the plan in force (or an earlier version, or the shipped default) as a plan file to edit and import."""
    if shipped:
        text, label = planstore.split_fiscal_year_end(default_plan_text())[0], "the default plan"
    else:
        with open_office(obj) as office:
            version = planstore.stored(office.home.catalog, number) if number else \
                planstore.current(office.home.catalog)
        if version is None:
            raise click.BadParameter(f"there is no plan version {number} (see `strongroom plan history`).",
                                     param_hint="--version")
        text, label = version.text, f"plan version {version.version}"
    write_plan_copy(output, text)
    click.echo(f"Wrote {label} to {output}.")


@plan_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reason", default="", help="Why, when the plan shortens a period or any record's retention "
              "(required then).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--as", "as_user", metavar="USER", help="Act as this user (an admin; password asked).")
@click.option("--approved-by", "approved_by", metavar="USER", help="The second person (approval rights; password "
              "asked) a plan that shortens retention needs while the two-person rule is on.")
@click.pass_obj
def plan_import(obj: dict[str, object], file: Path, reason: str, yes: bool, as_user: str | None,
                approved_by: str | None) -> None:
    """Show what FILE changes (classes, fields, records) and, once confirmed, make it the plan's next version."""
    text = file.read_text(encoding="utf-8")
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        change = planstore.preview(office.ports, text, source=file.name, jurisdiction=office.settings.jurisdiction,
                                   today=now().date(), fiscal_year_end=office.plan.fiscal_year_end)
        if change.same_text:
            click.echo(f"{file} is the plan in force (version {change.base.version}): nothing changed.")
            return
        _print_change(change)
        if not yes and not (change.needs_reason and not reason.strip()):
            click.confirm(f"Make this plan version {change.base.version + 1}?", abort=True)
        approver = scope_of(office, approved_by) if approved_by else None
        version = planstore.import_plan(office.ports, scope, change, reason=reason, now=now(), approver=approver)
        office.plan_changed()
    if version is not None:
        click.echo(f"The plan is now version {version.version} (was {change.base.version}).")


def _print_change(change: PlanChange) -> None:
    click.echo(f"Plan version {change.base.version} -> {change.base.version + 1} ({change.plan.source}):")
    lines = change.diff.lines()
    for line in lines or ["  no class changes (only comments or layout)"]:
        click.echo(line)
    for cut in change.diff.shorter:
        click.echo(f"Shorter period: {cut}")
    if change.records:
        click.echo(f"Records whose retention changes ({len(change.records)}):")
        for effect in change.records[:MAX_RECORD_LINES]:
            click.echo(effect.line())
        if len(change.records) > MAX_RECORD_LINES:
            click.echo(f"  ... and {len(change.records) - MAX_RECORD_LINES} more")
    else:
        click.echo("No record's retention changes.")


@plan_group.command("history")
@click.option("--json", "as_json", is_flag=True, help="The versions as JSON.")
@click.pass_obj
def plan_history(obj: dict[str, object], as_json: bool) -> None:
    """List the plan's versions: number, time, who, source, hash and the reason given."""
    with open_office(obj) as office:
        versions = planstore.history(office.home.catalog)
    if as_json:
        print_json([planstore.version_document(v, with_reason=True) for v in versions])
        return
    for v in versions:
        reason = f"  {v.reason}" if v.reason else ""
        click.echo(f"v{v.version:<4} {v.at:%Y-%m-%d %H:%M}  {v.by:<16} {v.source:<24} {v.sha256[:16]}{reason}")


COMMANDS = (plan_group,)
