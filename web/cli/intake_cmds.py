"""`strongroom watch` and `strongroom inbox list|classify`: the drop folders from the command line."""

from __future__ import annotations

import signal
import time

import click

from records.filing import FilingOutcome, FilingStatus
from vault.inbox import classify_pending, list_pending
from web.cli.common import ACTOR, open_office, settings_of


@click.command()
@click.option("--polling", is_flag=True, help="Poll instead of inotify (network shares: SMB, NFS).")
@click.pass_obj
def watch(obj: dict[str, object], polling: bool) -> None:
    """File what is dropped into <home>/inbox/<class>/ until Ctrl-C (files already there first)."""
    with open_office(obj) as office:
        watcher = office.start_watcher(polling=polling, on_result=_report)
        office.start_capture(on_error=_capture_error)  # previews and OCR of what was filed
        click.echo(f"Watching {office.path / 'inbox'} ({watcher.mode}); Ctrl-C stops.", err=True)
        # The signal handler only flips a flag: raising KeyboardInterrupt, or calling Event.set()
        # from a handler, can land inside threading's own lock handling and hang the stop.
        stop_requested: list[int] = []
        previous = {sig: signal.signal(sig, lambda n, _f: stop_requested.append(n))
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not stop_requested and watcher.running:
                time.sleep(0.2)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            click.echo("Stopping after the file in hand...", err=True)
            watcher.stop()
        if watcher.error is not None:
            raise watcher.error
    click.echo("Stopped.", err=True)


def _capture_error(error: BaseException) -> None:
    click.echo(f"Capture (previews, OCR) stopped on an error and will try again: {error}", err=True)


def _report(result: FilingOutcome) -> None:
    where = result.registry_number or "-"
    click.echo(f"{result.status:<9} {where:<16} {result.source}  {result.reason}")
    for child in result.children:
        click.echo(f"{'  ' + str(child.status):<9} {child.registry_number or '-':<16} (attachment)  {child.reason}")


@click.group()
def inbox() -> None:
    """The unsorted queue: files in inbox/_unsorted waiting for a person to classify them."""


@inbox.command("list")
@click.pass_obj
def inbox_list(obj: dict[str, object]) -> None:
    """List files waiting in inbox/_unsorted."""
    settings = settings_of(obj)
    for item in list_pending(settings.home, settle_seconds=settings.stability_seconds):
        click.echo(f"{item.received_at:%Y-%m-%d %H:%M}  {item.size:>10}  {item.original_name}  {item.note}")


@inbox.command("classify")
@click.argument("name")
@click.option("--class", "record_class", required=True, metavar="C", help="Class code or slug.")
@click.option("--principal", help="The manager or employer the document belongs to.")
@click.option("--title", help="Title (default: the document's own title or its file name).")
@click.pass_obj
def inbox_classify(obj: dict[str, object], name: str, record_class: str, principal: str | None,
                   title: str | None) -> None:
    """File the unsorted file NAME into a class."""
    with open_office(obj) as office:
        intake = office.intake(actor=ACTOR)
        overrides = {k: v for k, v in (("principal", principal), ("title", title)) if v is not None}
        result = classify_pending(intake, name, record_class, channel="cli", **overrides)
    _report(result)
    if result.status is FilingStatus.REJECTED:
        raise SystemExit(1)


COMMANDS = (watch, inbox)
