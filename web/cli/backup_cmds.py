"""`strongroom backup DEST`, `verify-backup DEST` and `restore SRC --home NEW`."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

from records import checkpoints
from records.events import event
from vault import backup_home, restore_backup, verify_backup
from web.cli.common import ACTOR, EXIT_INTEGRITY, open_office, progress_bar, settings_of
from web.cli.keys_cmds import print_verdict, verify_audited
from web.office import Office, furnish
from web.settings import Settings
from web.unlock import passphrase_from, read_secret_file
_RECOVERY_HELP = "Unlock with the recovery key in this file instead of a passphrase."


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--full", is_flag=True, help="Also re-read every object already in DEST and copy again any "
              "that changed (repairs a damaged backup; reads the whole backup).")
@click.pass_obj
def backup(obj: dict[str, object], dest: Path, full: bool) -> None:
    """Bring the encrypted backup in folder DEST up to date (only new objects are copied; objects of
    disposed records are removed from it)."""
    with open_office(obj) as office:
        with progress_bar("Backing up") as progress:
            result = backup_home(office.home, dest, full=full, progress=progress)
        _audit(office, "vault.backup", ("objects", str(result.objects)), ("copied", str(result.copied)),
               ("removed", str(result.removed)))
    click.echo(f"Backed up to {dest}: {result.objects} objects, {result.copied} new "
               f"({result.bytes_copied} bytes), {result.removed} removed.")


@click.command("verify-backup")
@click.argument("src", type=click.Path(file_okay=False, path_type=Path))
@click.option("--recovery-key-file", type=click.Path(dir_okay=False, path_type=Path), help=_RECOVERY_HELP)
@click.pass_context
def verify_backup_cmd(ctx: click.Context, src: Path, recovery_key_file: Path | None) -> None:
    """Check a backup with its own keys.json: the manifest's authentication, then every file's size
    and SHA-256 (exit 3 on damage, one sentence per problem)."""
    passphrase, recovery_key = _secrets(settings_of(ctx.obj), recovery_key_file)
    with progress_bar("Checking") as progress:
        report = verify_backup(src, passphrase, recovery_key=recovery_key, progress=progress)
    for problem in report.problems:
        click.echo(problem)
    if report.problems:
        click.echo(f"{len(report.problems)} problem(s): `strongroom backup --full {src}` repairs the backup "
                   "from the home; if the home is lost, restore from another backup.")
        ctx.exit(EXIT_INTEGRITY)
    click.echo(f"The backup is sound: taken {report.created}, {report.objects} objects, every file "
               "matches its authenticated manifest.")


@click.command()
@click.argument("src", type=click.Path(file_okay=False, path_type=Path))
@click.option("--home", "home_dir", type=click.Path(file_okay=False), help="Folder for the restored home "
              "(absent or empty).")
@click.option("--recovery-key-file", type=click.Path(dir_okay=False, path_type=Path), help=_RECOVERY_HELP)
@click.pass_context
def restore(ctx: click.Context, src: Path, home_dir: str | None, recovery_key_file: Path | None) -> None:
    """Restore the backup SRC into a new home: copy and check every file, rebuild the index,
    recreate the drop folders and web key, then verify (exit 3 on damage)."""
    settings = settings_of(ctx.obj, home=home_dir)
    passphrase, recovery_key = _secrets(settings, recovery_key_file)
    with progress_bar("Restoring") as progress:
        restored = restore_backup(src, settings.home, passphrase, recovery_key=recovery_key, progress=progress)
    settings = settings_of(ctx.obj, home=home_dir)  # now with the restored strongroom.toml
    with Office.open(settings, actor=ACTOR, passphrase=passphrase, recovery_key=recovery_key,
                     restored=True) as office:
        _audit(office, "vault.restore", ("backup_taken", restored.created), ("objects", str(restored.objects)),
               ("anchor", "new"))  # the rollback anchor starts again from the restored catalogue
        furnish(office.home, settings)  # what a backup leaves out: the web key, the drop folders, the index
        with progress_bar("Indexing") as progress:
            count = office.reindex(actor=ACTOR, progress=progress)
        problems = verify_audited(office)
    click.echo(f"Restored the backup taken {restored.created} into {settings.home}; indexed {count} records.")
    if recovery_key is not None:
        click.echo(f"Next: strongroom --home {settings.home} passphrase add --recovery-key-file "
                   f"{recovery_key_file}")
    print_verdict(problems)
    if problems:
        ctx.exit(EXIT_INTEGRITY)


def _secrets(settings: Settings, recovery_key_file: Path | None) -> tuple[str | None, str | None]:
    """(passphrase, recovery key): the recovery key from its file when given, else the passphrase."""
    if recovery_key_file is not None:
        return None, read_secret_file(recovery_key_file, "recovery key")
    return passphrase_from(settings), None


def _audit(office: Office, action: str, *details: tuple[str, str]) -> None:
    with office.ports.catalog.transaction() as tx:
        checkpoints.append(tx, office.ports.signer, event(action, actor=ACTOR, now=datetime.now(timezone.utc),
                                                          details=details))


COMMANDS = (backup, verify_backup_cmd, restore)
