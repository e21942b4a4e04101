"""`strongroom user add|list|disable|set-role|reset-password` and `strongroom audit log`: accounts and the audit trail."""

from __future__ import annotations

import json

import click

from records import accounts
from records.access import AccessScope
from records.model import Confidentiality, Role
from vault import hash_password
from vault.passwords import MIN_PASSWORD_LENGTH
from web.cli.common import ACTOR, now, open_office, print_json, settings_of
from web.office import Office
from web.settings import Settings
from web.unlock import ask_secret


@click.group()
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
    settings = settings_of(obj)
    password = _user_password(settings, f"Password for {name}")
    with Office.open(settings, actor=ACTOR) as office:
        made = accounts.add_user(office.ports, AccessScope.system(ACTOR), name=name, role=Role(role),
                                 password_hash=hash_password(password),
                                 clearance=Confidentiality(clearance) if clearance else None,
                                 principals=principals, now=now())
    click.echo(f"Added {made.role} {made.name} (clearance {made.clearance}).")


@user.command("disable")
@click.argument("name")
@click.pass_obj
def user_disable(obj: dict[str, object], name: str) -> None:
    """Disable an account: it can no longer sign in; its history stays."""
    with open_office(obj) as office:
        accounts.disable_user(office.ports, AccessScope.system(ACTOR), name, now=office.now())
    click.echo(f"Disabled {name}.")


@user.command("set-role")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--clearance", type=click.Choice([c.value for c in Confidentiality]),
              help="Highest confidentiality the user may see (default: unchanged; admins secret).")
@click.option("--principal", "principals", multiple=True,
              help="Limit to this principal (repeat); default: unchanged.")
@click.option("--all-principals", is_flag=True, help="Remove every principal limit.")
@click.pass_obj
def user_set_role(obj: dict[str, object], name: str, role: str, clearance: str | None,
                  principals: tuple[str, ...], all_principals: bool) -> None:
    """Change a user's role, and optionally clearance and principals."""
    if principals and all_principals:
        raise click.UsageError("Give --principal or --all-principals, not both.")
    with open_office(obj) as office:
        changed = accounts.change_role(office.ports, AccessScope.system(ACTOR), name, role=Role(role),
                                       clearance=Confidentiality(clearance) if clearance else None,
                                       principals=() if all_principals else (principals or None),
                                       now=office.now())
    click.echo(f"{changed.name} is now {changed.role} (clearance {changed.clearance}, principals "
               f"{','.join(changed.principals) or 'all'}).")


@user.command("reset-password")
@click.argument("name")
@click.pass_obj
def user_reset_password(obj: dict[str, object], name: str) -> None:
    """Set a temporary password (a forgotten one, or a locked-out administrator's); the user must change
    it at the next sign-in. The passphrase unlocks the home, so its holder may do this; the password comes
    from a prompt or STRONGROOM_USER_PASSWORD."""
    settings = settings_of(obj)
    password = _user_password(settings, f"Temporary password for {name}")
    with Office.open(settings, actor=ACTOR) as office:
        accounts.reset_password(office.ports, AccessScope.system(ACTOR), name, hash_password(password),
                                now=office.now())
    click.echo(f"The password of {name} was reset; {name} must choose a new one at the next sign-in.")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def user_list(obj: dict[str, object], as_json: bool) -> None:
    """List users (never their password hashes)."""
    with open_office(obj) as office:
        found = accounts.list_users(office.ports, AccessScope.system(ACTOR))
    rows = [{"name": u.name, "role": str(u.role), "clearance": str(u.clearance),
             "principals": list(u.principals), "disabled": u.disabled,
             "must_change_password": u.must_change_password} for u in found]
    if as_json:
        print_json(rows)
        return
    for u in found:
        click.echo(f"{u.name:<16} {str(u.role):<10} {str(u.clearance):<13} {','.join(u.principals) or '(all)'}")


@click.group()
def audit() -> None:
    """The audit trail."""


@audit.command("log")
@click.option("--limit", type=int, default=0, help="Only the last N entries.")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one entry each, with hashes.")
@click.pass_obj
def audit_log(obj: dict[str, object], limit: int, as_json: bool) -> None:
    """Print the audit trail (actor, action, record, outcome; never document text)."""
    with open_office(obj) as office:
        head = office.ports.catalog.audit_head()
        since = max(0, head.seq - limit) if head and limit else 0
        entries = list(office.ports.catalog.audit_entries(since))
    for e in entries:
        if as_json:
            click.echo(json.dumps(e.to_json(), ensure_ascii=False, sort_keys=True))
        else:
            details = " ".join(f"{k}={v}" for k, v in e.event.details)
            click.echo(f"{e.seq:>6} {e.event.ts:%Y-%m-%d %H:%M:%S} {e.event.actor:<14} {e.event.action:<18} "
                       f"{e.event.outcome:<9} {e.event.record_id or '-'} {details}".rstrip())


def _user_password(settings: Settings, label: str) -> str:
    """A user's password from STRONGROOM_USER_PASSWORD or a prompt (typed twice), long enough."""
    password = settings.user_password or ask_secret(label, "STRONGROOM_USER_PASSWORD", confirm=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.UsageError(f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters.")
    return password


COMMANDS = (user, audit)

