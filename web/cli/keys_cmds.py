"""`strongroom init`, `passphrase add|remove|change|list|new-recovery-key` and `verify`.

`init` makes the home through the composition root (`web.office.create_home`, which also
furnishes it: plan, drop folders, empty index, web key) and then adds the first admin.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from records.checkpoints import SignatureCheck
from records import accounts
from vault.passwords import MIN_PASSWORD_LENGTH, hash_password
from vault.signing import signature_valid
from web.cli.common import ACTOR, EXIT_INTEGRITY, open_office, settings_of
from web.office import Office, create_home
from web.settings import JURISDICTIONS, Settings
from web.unlock import ask_secret, passphrase_from, read_secret_file


@click.command()
@click.option("--home", "home_dir", type=click.Path(file_okay=False), help="Folder for the new home.")
@click.option("--admin", metavar="NAME", help="Create the first admin user (password prompted or "
              "STRONGROOM_ADMIN_PASSWORD).")
@click.option("--jurisdiction", type=click.Choice(JURISDICTIONS), help="Retention law: SI, EE or SI+EE.")
@click.pass_obj
def init(obj: dict[str, object], home_dir: str | None, admin: str | None, jurisdiction: str | None) -> None:
    """Create a new home: keys, catalogue, folders; prints the recovery key once."""
    init_home_from(settings_of(obj, home=home_dir, jurisdiction=jurisdiction), admin)


def init_home_from(settings: Settings, admin: str | None = None) -> None:
    """`init` for these settings; the passphrase and admin password come from them, else a prompt."""
    passphrase = passphrase_from(settings, confirm=True, label="New passphrase")
    password = _admin_password(settings) if admin else None
    office, recovery_key = create_home(settings, passphrase)
    with office:
        _print_recovery_key(office.path, recovery_key)
        if admin and password:
            _create_admin(office, admin, password)
    click.echo(f"Ready. Next: strongroom --home {settings.home} serve")


@click.group()
def passphrase() -> None:
    """Manage the passphrases that unlock the home (no data is re-encrypted)."""


@passphrase.command("add")
@click.option("--new-passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read the new passphrase from this file's first line (else prompt).")
@click.option("--recovery-key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Unlock with the recovery key in this file instead of a passphrase.")
@click.pass_obj
def passphrase_add(obj: dict[str, object], new_passphrase_file: Path | None,
                   recovery_key_file: Path | None) -> None:
    """Add a passphrase (e.g. for a second person, or after recovery)."""
    settings = settings_of(obj)
    with _unlock(settings, recovery_key_file) as office:
        new = _new_passphrase(new_passphrase_file)
        slot_id = office.home.add_passphrase(new, actor=ACTOR)
    click.echo(f"Added passphrase slot {slot_id}.")


@passphrase.command("remove")
@click.option("--slot", "slot_id", help="The slot to remove (default: the one the passphrase opens).")
@click.pass_obj
def passphrase_remove(obj: dict[str, object], slot_id: str | None) -> None:
    """Remove a passphrase slot; the last passphrase cannot be removed."""
    with open_office(obj) as office:
        removed = office.home.remove_passphrase(slot_id, actor=ACTOR)
    click.echo(f"Removed passphrase slot {removed}.")


@passphrase.command("change")
@click.option("--new-passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read the new passphrase from this file's first line (else prompt).")
@click.option("--slot", "slot_id", help="The slot to change (default: the one the passphrase opens).")
@click.pass_obj
def passphrase_change(obj: dict[str, object], new_passphrase_file: Path | None, slot_id: str | None) -> None:
    """Replace a passphrase with a new one in one atomic step."""
    with open_office(obj) as office:
        new = _new_passphrase(new_passphrase_file)
        new_id = office.home.change_passphrase(new, actor=ACTOR, slot_id=slot_id)
    click.echo(f"Changed the passphrase (now slot {new_id}).")


@passphrase.command("list")
@click.pass_obj
def passphrase_list(obj: dict[str, object]) -> None:
    """List the key slots (ids, kinds, creation times; never any key)."""
    with open_office(obj) as office:
        for slot in office.home.slots():
            mark = " (opened now)" if slot.slot_id == office.home.unlocked_with else ""
            click.echo(f"{slot.slot_id}  {slot.kind:<10}  {slot.created}{mark}")


@passphrase.command("new-recovery-key")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def passphrase_new_recovery_key(obj: dict[str, object], yes: bool) -> None:
    """Replace the recovery key; the old printed key stops working."""
    with open_office(obj) as office:
        if not yes:
            click.confirm("The old recovery key will stop working. Continue?", abort=True)
        key = office.home.new_recovery_key(actor=ACTOR)
        _print_recovery_key(office.path, key)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print {ok, problems} as JSON.")
@click.option("--accept-rollback", is_flag=True, help="Open a catalogue older than the home's anchor "
              "(an older catalog.db put back on purpose): audited, and the anchor starts again from it.")
@click.pass_context
def verify(ctx: click.Context, as_json: bool, accept_rollback: bool) -> None:
    """Authenticate every object and check the catalogue and audit trail (exit 3 on damage)."""
    with open_office(ctx.obj, accept_rollback=accept_rollback) as office:
        accepted = office.home.accepted_rollback
        report = office.verify(signature_valid=SIGNATURE_CHECK)
    problems, notes = list(report.problems), list(report.notes)
    if as_json:
        click.echo(json.dumps({"ok": not problems, "problems": problems, "notes": notes,
                               "accepted_rollback": accepted}, ensure_ascii=False, indent=2))
    else:
        if accepted:
            click.echo(f"Accepted the rollback (audited as vault.rollback.accept): {accepted}.")
        print_verdict(problems)
        for note in notes:
            click.echo(f"Note: {note}")
    if problems:
        ctx.exit(EXIT_INTEGRITY)


# The Ed25519 check handed to the verify use case (the vault's). Without one (a test sets None to
# stand for a missing `cryptography`) verify stops with an error; it never passes unchecked.
SIGNATURE_CHECK: SignatureCheck | None = signature_valid


def verify_audited(office: Office) -> list[str]:
    """Verify the open home and audit the run (and each damaged record); the problems, one sentence each."""
    return list(office.verify(signature_valid=SIGNATURE_CHECK).problems)


def print_verdict(problems: list[str]) -> None:
    for problem in problems:
        click.echo(problem)
    if not problems:
        click.echo("The home is sound: every object authenticates and the audit trail is intact.")


def _unlock(settings: Settings, recovery_key_file: Path | None) -> Office:
    if recovery_key_file is None:
        return Office.open(settings)
    return Office.open(settings, recovery_key=read_secret_file(recovery_key_file, "recovery key"))


def _new_passphrase(path: Path | None) -> str:
    if path is not None:
        return read_secret_file(path, "new passphrase")
    return ask_secret("New passphrase", "--new-passphrase-file", confirm=True)


def _admin_password(settings: Settings) -> str:
    password = settings.admin_password or ask_secret("Admin password", "STRONGROOM_ADMIN_PASSWORD", confirm=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.UsageError(f"The admin password is too short: use at least {MIN_PASSWORD_LENGTH} characters.")
    return password


def _create_admin(office: Office, name: str, password: str) -> None:
    accounts.create_first_admin(office.ports, name=name, password_hash=hash_password(password),
                                now=office.now(), actor=ACTOR)
    click.echo(f"Created admin user {name}.")


def _print_recovery_key(path: Path, key: str) -> None:
    groups = key.split("-")
    half = (len(groups) + 1) // 2
    click.echo(f"Strongroom home at {path}.\n")
    click.echo("RECOVERY KEY - write this down now and keep it somewhere safe (e.g. the office safe).")
    click.echo("It is shown only this once. With keys.json it opens the home if every passphrase is lost.\n")
    click.echo("    " + "-".join(groups[:half]))
    click.echo("    " + "-".join(groups[half:]) + "\n")


COMMANDS = (init, passphrase, verify)
