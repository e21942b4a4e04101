"""`strongroom settings show|set`: the security-relevant settings sealed in the catalogue.

They are changed here, audited with their old and new value, and never by editing strongroom.toml
(records.safeguards says why and which they are).
"""

from __future__ import annotations

import click

from records import safeguards
from web.cli.common import now, open_office, print_json, scope_of


@click.group("settings")
def settings_group() -> None:
    """Sealed settings: the two-person rule and the sign-in limits (strongroom.toml cannot change them)."""


@settings_group.command("show")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def settings_show(obj: dict[str, object], as_json: bool) -> None:
    """Show the sealed settings in force and what each means."""
    with open_office(obj) as office:
        sealed = office.safeguards
    rows = [{"setting": s.option, "value": s.text(getattr(sealed, s.name)), "meaning": s.meaning}
            for s in safeguards.SAFEGUARDS]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['setting']:<26} {row['value']:<6} {row['meaning']}")


@settings_group.command("set")
@click.argument("name")
@click.argument("value")
@click.option("--as", "as_user", metavar="USER", help="Act as this user (an admin; password asked).")
@click.pass_obj
def settings_set(obj: dict[str, object], name: str, value: str, as_user: str | None) -> None:
    """Change a sealed setting, e.g. `settings set require-second-approver on` (audited: old and new value)."""
    with open_office(obj) as office:
        change = safeguards.change(office.ports, scope_of(office, as_user), name, value, now=now())
    if change.changed:
        click.echo(f"{change.name} is now {change.new} (was {change.old}).")
    else:
        click.echo(f"{change.name} is already {change.new}: nothing changed.")


COMMANDS = (settings_group,)
