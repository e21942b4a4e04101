"""What every `strongroom` command shares: exit codes, the Office from the group's options, the
person at the terminal, record ids, JSON output and a progress bar."""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import click

from records.access import AccessScope
from records.dates import parse_day
from records.errors import AccessDenied, RecordNotFound, RecordsError
from records.model import RecordId
from records.ports import RecordFilter
from vault import check_password
from web.office import Office, utcnow
from web.settings import Settings
from web.unlock import ask_secret

ACTOR = "system:cli"
EXIT_ERROR = 1  # a problem with the request or the data (wrong passphrase, unknown record, ...)
EXIT_USAGE = 2  # click's own code for bad arguments
EXIT_INTEGRITY = 3  # verification found damage


def settings_of(obj: dict[str, object] | None, **flags: object) -> Settings:
    """Settings for a command: the group's --home (in ctx.obj) plus the command's own flags."""
    overrides: dict[str, object] = dict(flags)
    if obj and obj.get("home") and overrides.get("home") is None:
        overrides["home"] = obj["home"]
    return Settings.load(overrides)


def open_office(obj: dict[str, object] | None, *, actor: str = ACTOR, channel: str = "cli",
                accept_rollback: bool = False, **flags: object) -> Office:
    """The command's home, unlocked (passphrase from the settings, else a prompt)."""
    return Office.open(settings_of(obj, **flags), actor=actor, channel=channel, accept_rollback=accept_rollback)


def os_user() -> str:
    """The operating-system account at the terminal ("unknown" when the system cannot say)."""
    try:
        return getpass.getuser() or "unknown"
    except (OSError, KeyError):
        return "unknown"


def scope_of(office: Office, as_user: str | None) -> AccessScope:
    """The person at the terminal holds the passphrase (full power) and is named by their OS account
    (`os:NAME`, identified_by "os-user"); `--as` acts as a named user whose password is checked
    (identified_by "password"). Audit entries of edits say which."""
    if as_user is None:
        return AccessScope.system(f"os:{os_user()}", identified_by="os-user")
    user = office.ports.catalog.get_user(as_user)
    password = office.settings.user_password or ask_secret(f"Password for {as_user}", "STRONGROOM_USER_PASSWORD")
    if user is None or user.disabled or not check_password(user.password_hash, password):
        raise AccessDenied(f"The user name or password for {as_user} is wrong.")
    return dataclasses.replace(AccessScope.of(user), identified_by="password")


class DayType(click.ParamType[datetime]):
    """A day typed as 2031-12-31, 31.12.2031 or 31. 12. 2031; a naive midnight datetime, as click.DateTime
    gives, so `day()` and the commands' `.date()` take it unchanged."""

    name = "DATE"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.combine(parse_day(str(value), "The date"), datetime.min.time())
        except RecordsError as exc:
            self.fail(str(exc), param, ctx)


DAY = DayType()


def record_id(office: Office, text: str) -> RecordId:
    """A record id, or the id of the record with this registry number."""
    if "/" in text:
        match = [r.id for r in office.ports.catalog.find(RecordFilter(registry_number=text.strip()))]
        if match:
            return match[0]
        raise RecordNotFound(f"There is no record {text}: check the registry number (`strongroom list`).")
    return RecordId(text)


def now() -> datetime:
    return utcnow()


def day(value: datetime | None) -> date:
    """A --date option's day, today when none was given."""
    return value.date() if value else now().date()


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A `(done, total)` callback that draws a bar on stderr when it is a terminal (else nothing),
    so long work shows progress without mixing into a command's output or its error sentence."""
    with contextlib.ExitStack() as stack:
        bars: list[Any] = []

        def update(done: int, total: int) -> None:
            if not bars:
                bars.append(stack.enter_context(click.progressbar(
                    length=total, label=label, file=sys.stderr, show_pos=True, show_eta=True,
                    hidden=not sys.stderr.isatty())))
            bars[0].update(done - bars[0].pos)
        yield update
