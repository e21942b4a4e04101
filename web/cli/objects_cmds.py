"""`strongroom objects move-to`: where the home's sealed objects live."""

from __future__ import annotations

import click

from web.cli.common import open_office, os_user, progress_bar, settings_of


@click.group("objects")
def objects_group() -> None:
    """Where the home's sealed objects live: objects/ or a bucket (the setting `objects`)."""


@objects_group.command("move-to")
@click.argument("target")
@click.pass_obj
def move_to(obj: dict[str, object], target: str) -> None:
    """Move the sealed objects from objects/ into the bucket TARGET (s3:http://HOST:PORT/BUCKET/PREFIX):
    upload what the bucket lacks, read every object back and authenticate it, then set `objects` in
    strongroom.toml (audited) and remove the local copies. Stop `serve` and `watch` first; an
    interrupted move resumes when run again."""
    with open_office(obj) as office, progress_bar("Moving") as progress:
        moved = office.move_objects(target, actor=f"os:{os_user()}", progress=progress)
    click.echo(f"{moved.objects} objects are in {target}, each read back and authenticated ({moved.uploaded} "
               f"uploaded now); {moved.removed} local copies removed.")
    if moved.switched:
        click.echo(f"strongroom.toml now says objects = \"{target}\".")
    if settings_of(obj).objects != target:
        click.echo(f"STRONGROOM_OBJECTS overrides strongroom.toml here: set it to {target} or unset it.")


COMMANDS = (objects_group,)
