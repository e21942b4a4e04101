"""`strongroom backup [DEST]`, `backup status`, `verify-backup DEST` and `restore SRC --home NEW`.

DEST and SRC are a folder or a remote target named as restic names them (s3:..., sftp:...)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from records import checkpoints
from records.events import event
from vault import (BackupError, BackupTarget, TargetOptions, VaultError, backup_status, open_target, restore_backup,
                   run_backup, verify_backup)
from web.cli.common import ACTOR, EXIT_ERROR, EXIT_INTEGRITY, open_office, print_json, progress_bar, settings_of
from web.cli.keys_cmds import print_verdict, verify_audited
from web.office import Office, furnish, target_options
from web.settings import Settings
from web.unlock import passphrase_from, read_secret_file
SCHEDULE_ACTOR = "system:schedule"
_RECOVERY_HELP = "Unlock with the recovery key in this file instead of a passphrase."


class _BackupGroup(click.Group):
    """`strongroom backup status` is a subcommand; anything else is `strongroom backup [DEST] [--full]`."""

    def __init__(self, *args: Any, default: click.Command, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._default = default

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = [_RUN, *args]
        return super().parse_args(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._default if cmd_name == _RUN else super().get_command(ctx, cmd_name)


_RUN = "run"


@click.command(_RUN)
@click.argument("dest", required=False)
@click.option("--full", is_flag=True, help="Also re-read every object already in DEST and store again any "
              "that changed (repairs a damaged backup; reads the whole backup).")
@click.pass_context
def _backup_run(ctx: click.Context, dest: str | None, full: bool) -> None:
    """Bring the encrypted backup at DEST (a folder, s3:http://HOST:PORT/BUCKET/PREFIX or
    sftp:USER@HOST:/PATH; default: every target in backup_targets) up to date: only new objects
    are copied; objects of disposed records are removed from it."""
    failed: list[VaultError] = []
    with open_office(ctx.obj) as office:
        targets = [dest] if dest else list(office.settings.backup_targets)
        if not targets:
            raise BackupError("No backup target: give one (`strongroom backup /media/usb/strongroom`) or set "
                              "backup_targets in strongroom.toml.")
        for spec in targets:
            try:
                with progress_bar("Backing up") as progress:
                    result = run_backup(office.home, spec, target_options(office.settings), actor=ACTOR,
                                        channel="cli", now=_now, full=full, progress=progress)
            except VaultError as exc:  # recorded (status and audit entry); the other targets go on
                if len(targets) == 1:
                    raise
                click.echo(f"strongroom: {exc}", err=True)
                failed.append(exc)
                continue
            resumed = f", {result.resumed} kept from an interrupted run" if result.resumed else ""
            click.echo(f"Backed up to {spec}: {result.objects} objects, {result.copied} new "
                       f"({result.bytes_copied} bytes), {result.removed} removed{resumed}.")
    if failed:
        ctx.exit(max(getattr(exc, "exit_code", EXIT_ERROR) for exc in failed))


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def backup_status_cmd(obj: dict[str, object], as_json: bool) -> None:
    """Each backup target's last success (time, objects, size) and last failure."""
    with open_office(obj) as office:
        found = backup_status(office.home, office.settings.backup_targets)
    if as_json:
        print_json([dataclasses.asdict(s) | {"failing": s.failing} for s in found])
        return
    if not found:
        click.echo("No backup yet: run `strongroom backup DEST` or set backup_targets and backup_at.")
    for status in found:
        click.echo(status.target)
        if status.last_success:
            click.echo(f"  last success  {status.last_success}  {status.objects} objects, {_size(status.size)}")
        else:
            click.echo("  last success  never")
        if status.last_failure:
            click.echo(f"  last failure  {status.last_failure}  {status.failure}")


backup = _BackupGroup("backup", default=_backup_run, commands=[backup_status_cmd],
                      help="Back the home up to DEST (`strongroom backup [DEST] [--full]`), or show each "
                      "target's status (`strongroom backup status`).")


def scheduled_backups(office: Office, *, echo: Callable[[str], None]) -> Callable[[], None]:
    """The job `serve` runs on schedule: every configured target in turn; a failure is recorded
    (status, audit entry) and reported in one line, and the next target still runs."""
    def job() -> None:
        for spec in office.settings.backup_targets:
            try:
                result = run_backup(office.home, spec, target_options(office.settings), actor=SCHEDULE_ACTOR,
                                    channel="schedule", now=_now)
                echo(f"Scheduled backup to {spec}: {result.objects} objects, {result.copied} new.")
            except VaultError as exc:
                echo(f"Scheduled backup to {spec} failed: {exc}")
    return job


def _size(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} bytes"


def _now() -> datetime:
    return datetime.now(timezone.utc)


@click.command("verify-backup")
@click.argument("src")
@click.option("--recovery-key-file", type=click.Path(dir_okay=False, path_type=Path), help=_RECOVERY_HELP)
@click.pass_context
def verify_backup_cmd(ctx: click.Context, src: str, recovery_key_file: Path | None) -> None:
    """Check a backup with its own keys.json: the manifest's authentication, then every file's size
    and SHA-256 (exit 3 on damage, one sentence per problem)."""
    settings = settings_of(ctx.obj)
    passphrase, recovery_key = _secrets(settings, recovery_key_file)
    with _opened(src, settings) as target, progress_bar("Checking") as progress:
        report = verify_backup(target, passphrase, recovery_key=recovery_key, progress=progress)
    for problem in report.problems:
        click.echo(problem)
    if report.problems:
        click.echo(f"{len(report.problems)} problem(s): `strongroom backup --full {src}` repairs the backup "
                   "from the home; if the home is lost, restore from another backup.")
        ctx.exit(EXIT_INTEGRITY)
    click.echo(f"The backup is sound: taken {report.created}, {report.objects} objects, every file "
               "matches its authenticated manifest.")


@click.command()
@click.argument("src")
@click.option("--home", "home_dir", type=click.Path(file_okay=False), help="Folder for the restored home "
              "(absent or empty).")
@click.option("--recovery-key-file", type=click.Path(dir_okay=False, path_type=Path), help=_RECOVERY_HELP)
@click.option("--take-over-objects", is_flag=True, help="When the backed-up home kept its objects in a bucket "
              "(setting objects), make the restored home use that bucket from now on (the old computer is gone "
              "for good) and move the restored objects into it; without it the restored home keeps its objects "
              "in its own objects/ folder.")
@click.pass_context
def restore(ctx: click.Context, src: str, home_dir: str | None, recovery_key_file: Path | None,
            take_over_objects: bool) -> None:
    """Restore the backup SRC into a new home: copy and check every file, rebuild the index,
    recreate the drop folders and web key, then verify (exit 3 on damage)."""
    settings = settings_of(ctx.obj, home=home_dir)
    passphrase, recovery_key = _secrets(settings, recovery_key_file)
    with _opened(src, settings) as target, progress_bar("Restoring") as progress:
        restored = restore_backup(target, settings.home, passphrase, recovery_key=recovery_key, progress=progress)
    settings = settings_of(ctx.obj, home=home_dir)  # now with the restored strongroom.toml
    bucket = settings.objects not in ("", "local")
    if bucket and not take_over_objects:
        settings = _objects_kept_locally(settings)
    with Office.open(settings, actor=ACTOR, passphrase=passphrase, recovery_key=recovery_key,
                     restored=True, take_over_objects=take_over_objects and bucket) as office:
        _audit(office, "vault.restore", ("backup_taken", restored.created), ("objects", str(restored.objects)),
               ("anchor", "new"))  # the rollback anchor starts again from the restored catalogue
        if bucket and take_over_objects:
            moved = office.adopt_objects()
            click.echo(f"The restored home now keeps its objects in {settings.objects} ({moved} uploaded).")
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


def _objects_kept_locally(settings: Settings) -> Settings:
    """A restore that does not take the bucket over keeps the objects it copied into objects/: its
    strongroom.toml loses the `objects` line (the bucket stays the other home's)."""
    path = settings.settings_file
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(line for line in lines if line.split("=")[0].strip() != "objects"),
                        encoding="utf-8")
    click.echo(f"The backed-up home kept its objects in {settings.objects}; the restored home keeps them in "
               f"{settings.home / 'objects'} (restore with --take-over-objects to use the bucket instead).")
    return dataclasses.replace(settings, objects="")


def _secrets(settings: Settings, recovery_key_file: Path | None) -> tuple[str | None, str | None]:
    """(passphrase, recovery key): the recovery key from its file when given, else the passphrase."""
    if recovery_key_file is not None:
        return None, read_secret_file(recovery_key_file, "recovery key")
    return passphrase_from(settings), None


@contextlib.contextmanager
def _opened(spec: str, settings: Settings) -> Iterator[BackupTarget]:
    target = open_target(spec, target_options(settings))
    try:
        yield target
    finally:
        target.close()


def _audit(office: Office, action: str, *details: tuple[str, str]) -> None:
    with office.ports.catalog.transaction() as tx:
        checkpoints.append(tx, office.ports.signer, event(action, actor=ACTOR, now=_now(), details=details))


COMMANDS = (backup, verify_backup_cmd, restore)
