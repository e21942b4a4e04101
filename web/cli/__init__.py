"""The `strongroom` command line: a click group; each area's commands live in their own module
and are added to the group here, explicitly (no registration by import side effect).

Every command parses, makes one call into a use case, prints. Errors a user can cause are
mapped to one sentence on stderr and a documented exit code in `main()`; never a traceback.
"""

from __future__ import annotations

import sys

import click

from indexer.errors import IndexerError
from records.errors import RecordsError
from vault.errors import VaultError
from web.cli import (accounts_cmds, backup_cmds, capture_cmds, casefile_cmds, export_cmds, intake_cmds, keys_cmds,
                     lifecycle_cmds, meetings_cmds, objects_cmds, plan_cmds, records_cmds, registers_cmds, retention_cmds, search_cmds,
                     serve_cmds, settings_cmds, tls_cmds)
from web.cli.common import EXIT_ERROR, EXIT_INTEGRITY, EXIT_USAGE

USER_ERRORS: tuple[type[BaseException], ...] = (RecordsError, VaultError, IndexerError)
"""The error roots that are the user's to fix: one sentence, no traceback."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", envvar="STRONGROOM_HOME", type=click.Path(file_okay=False),
              help="The Strongroom home folder (or STRONGROOM_HOME).")
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """Strongroom: an offline, encrypted records system."""
    ctx.ensure_object(dict)
    ctx.obj["home"] = home


for _module in (keys_cmds, records_cmds, lifecycle_cmds, search_cmds, intake_cmds, retention_cmds, registers_cmds,
                accounts_cmds, export_cmds, backup_cmds, serve_cmds, settings_cmds, tls_cmds, capture_cmds, plan_cmds,
                meetings_cmds, casefile_cmds, objects_cmds):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    try:
        rv = cli.main(args=argv, prog_name="strongroom", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_ERROR)
    except click.exceptions.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except USER_ERRORS as exc:
        click.echo(f"strongroom: {exc}", err=True)
        sys.exit(getattr(exc, "exit_code", EXIT_ERROR))
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


__all__ = ["cli", "main", "EXIT_ERROR", "EXIT_USAGE", "EXIT_INTEGRITY", "USER_ERRORS"]
