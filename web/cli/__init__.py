"""The `strongroom` command line: a click group; each area's commands live in their own module.

Every command parses, makes one call into a use case, prints. Errors a user can cause are
mapped to one sentence on stderr and a documented exit code in `main()`; never a traceback.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click

from records.errors import RecordsError

EXIT_ERROR = 1  # a problem with the request or the data (wrong passphrase, unknown record, ...)
EXIT_USAGE = 2  # click's own code for bad arguments
EXIT_INTEGRITY = 3  # verification found damage


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", envvar="STRONGROOM_HOME", type=click.Path(file_okay=False),
              help="The Strongroom home folder (or STRONGROOM_HOME).")
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """Strongroom: an offline, encrypted records system."""
    ctx.ensure_object(dict)
    ctx.obj["home"] = home


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A `(done, total)` callback that draws a bar on stderr when it is a terminal (else nothing),
    so long work shows progress without mixing into a command's output or its error sentence."""
    with contextlib.ExitStack() as stack:
        bars: list[Any] = []

        def update(done: int, total: int) -> None:
            if not bars:
                bars.append(stack.enter_context(click.progressbar(
                    length=total, label=label, file=sys.stderr, show_pos=True, hidden=not sys.stderr.isatty())))
            bars[0].update(done - bars[0].pos)
        yield update


def _register_commands() -> None:
    # Each module adds its commands to `cli` when imported.
    from web.cli import (  # noqa: F401
        accounts_cmds,
        backup_cmds,
        export_cmds,
        keys_cmds,
        records_cmds,
        retention_cmds,
        search_cmds,
        serve_cmds,
    )
    from web.cli import intake_cmds  # noqa: F401  (after records_cmds: its init step copies the plan first)


def user_errors() -> tuple[type[BaseException], ...]:
    """The error roots that are the user's to fix: one sentence, no traceback."""
    roots: list[type[BaseException]] = [RecordsError]
    try:
        from vault.errors import VaultError
        roots.append(VaultError)
    except ImportError:
        pass
    try:
        from indexer.errors import IndexerError
        roots.append(IndexerError)
    except ImportError:
        pass
    return tuple(roots)


def main(argv: list[str] | None = None) -> None:
    _register_commands()
    try:
        rv = cli.main(args=argv, prog_name="strongroom", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_ERROR)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except user_errors() as exc:
        click.echo(f"strongroom: {exc}", err=True)
        sys.exit(getattr(exc, "exit_code", EXIT_ERROR))
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
