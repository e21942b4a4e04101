"""`strongroom backup DEST`, `verify-backup DEST` and `restore SRC --home NEW`."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

from records import checkpoints
from records.events import event
from vault import Home, backup_home, restore_backup, verify_backup
from web.cli import EXIT_INTEGRITY, cli, progress_bar
from web.cli.keys_cmds import INIT_STEPS, print_verdict, verify_audited
from web.cli.search_cmds import rebuild_index
from web.home import open_from_settings, passphrase_from, read_secret_file, settings_from_cli, write_secret_key
from web.settings import Settings

ACTOR = "system:cli"
_RECOVERY_HELP = "Unlock with the recovery key in this file instead of a passphrase."


@cli.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--full", is_flag=True, help="Also re-read every object already in DEST and copy again any "
              "that changed (repairs a damaged backup; reads the whole backup).")
@click.pass_obj
def backup(obj: dict[str, object], dest: Path, full: bool) -> None:
    """Bring the encrypted backup in folder DEST up to date (only new objects are copied; objects of
    disposed records are removed from it)."""
    settings = settings_from_cli(obj)
    with open_from_settings(settings, actor=ACTOR) as home:
        with progress_bar("Backing up") as progress:
            result = backup_home(home, dest, full=full, progress=progress)
        _audit(home, "vault.backup", ("objects", str(result.objects)), ("copied", str(result.copied)),
               ("removed", str(result.removed)))
    click.echo(f"Backed up to {dest}: {result.objects} objects, {result.copied} new "
               f"({result.bytes_copied} bytes), {result.removed} removed.")


@cli.command("verify-backup")
@click.argument("src", type=click.Path(file_okay=False, path_type=Path))
@click.option("--recovery-key-file", type=click.Path(dir_okay=False, path_type=Path), help=_RECOVERY_HELP)
@click.pass_context
def verify_backup_cmd(ctx: click.Context, src: Path, recovery_key_file: Path | None) -> None:
    """Check a backup with its own keys.json: the manifest's authentication, then every file's size
    and SHA-256 (exit 3 on damage, one sentence per problem)."""
    passphrase, recovery_key = _secrets(settings_from_cli(ctx.obj), recovery_key_file)
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


@cli.command()
@click.argument("src", type=click.Path(file_okay=False, path_type=Path))
@click.option("--home", "home_dir", type=click.Path(file_okay=False), help="Folder for the restored home "
              "(absent or empty).")
@click.option("--recovery-key-file", type=click.Path(dir_okay=False, path_type=Path), help=_RECOVERY_HELP)
@click.pass_context
def restore(ctx: click.Context, src: Path, home_dir: str | None, recovery_key_file: Path | None) -> None:
    """Restore the backup SRC into a new home: copy and check every file, rebuild the index,
    recreate the drop folders and web key, then verify (exit 3 on damage)."""
    settings = settings_from_cli(ctx.obj, home=home_dir)
    passphrase, recovery_key = _secrets(settings, recovery_key_file)
    with progress_bar("Restoring") as progress:
        restored = restore_backup(src, settings.home, passphrase, recovery_key=recovery_key, actor=ACTOR,
                                  progress=progress)
    with restored.home as home:
        settings = settings_from_cli(ctx.obj, home=home_dir)  # now with the restored strongroom.toml
        _audit(home, "vault.restore", ("backup_taken", restored.created), ("objects", str(restored.objects)))
        _recreate(home, settings)
        count = rebuild_index(home)
        problems = verify_audited(home)
    click.echo(f"Restored the backup taken {restored.created} into {settings.home}; indexed {count} records.")
    if recovery_key is not None:
        click.echo(f"Next: strongroom --home {settings.home} passphrase add --recovery-key-file "
                   f"{recovery_key_file}")
    print_verdict(problems)
    if problems:
        ctx.exit(EXIT_INTEGRITY)


def _recreate(home: Home, settings: Settings) -> None:
    """What a backup leaves out and `init` makes: the web secret key, the empty index, the drop folders."""
    write_secret_key(settings)
    for step in INIT_STEPS:
        step(home, settings)


def _secrets(settings: Settings, recovery_key_file: Path | None) -> tuple[str | None, str | None]:
    """(passphrase, recovery key): the recovery key from its file when given, else the passphrase."""
    if recovery_key_file is not None:
        return None, read_secret_file(recovery_key_file, "recovery key")
    return passphrase_from(settings), None


def _audit(home: Home, action: str, *details: tuple[str, str]) -> None:
    with home.catalog.transaction() as tx:
        checkpoints.append(tx, home.signer, event(action, actor=ACTOR, now=datetime.now(timezone.utc),
                                                  details=details))
