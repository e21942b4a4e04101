"""Safeguards: the security-relevant settings, kept sealed in the catalogue and changed only by an audited use case.

`strongroom.toml` is plaintext that anyone with the disk can edit without the passphrase, so it
must not decide whether destruction needs a second person, how long an idle web session lives,
how many sign-in attempts a minute allows, or on which day the financial year ends (an invoice's
retention counts from it: moving it can bring a due date months forward). These live in the catalogue's settings table
(`safeguard.<name>`); `change` alters one with an audit entry holding the old and new value in
the same transaction. A home that has no stored value takes the one its settings give, once, and
says so in a `settings.seed` audit entry (`seed`; the composition root calls it on every open).
After that the file's value is ignored, and `verify` reports a file that disagrees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from records import checkpoints
from records.access import AccessScope, Permission
from records.audit import AuditEvent
from records.errors import AccessDenied, PlanError, SettingRefused
from records.events import event
from records.plan import parse_month_day
from records.ports import Catalog, Ports, Signer

KEY_PREFIX = "safeguard."
_TRUE = ("on", "true", "yes", "1")
_FALSE = ("off", "false", "no", "0")


@dataclass(frozen=True, slots=True)
class Safeguard:
    """One sealed setting: its name (as in strongroom.toml), default and bounds."""

    name: str
    default: bool | int | str  # a str default is a month-day such as "12-31"
    meaning: str
    low: int = 1
    high: int = 1_000_000

    @property
    def option(self) -> str:
        """The command-line spelling, e.g. require-second-approver."""
        return self.name.replace("_", "-")

    def parse(self, value: object) -> bool | int | str:
        """The value as this setting's type, or SettingRefused with one sentence."""
        if isinstance(self.default, str):
            try:
                month, day = parse_month_day(value, self.option)
            except PlanError as exc:
                raise SettingRefused(str(exc)) from None
            return f"{month:02d}-{day:02d}"
        if isinstance(self.default, bool):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE or text in _FALSE:
                return text in _TRUE
            raise SettingRefused(f"{self.option} takes on or off, not {value!r}.")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise SettingRefused(f"{self.option} takes a whole number, not {value!r}.") from None
        if not self.low <= number <= self.high:
            raise SettingRefused(f"{self.option} must lie between {self.low} and {self.high}, not {number}.")
        return number

    def text(self, value: bool | int | str) -> str:
        if isinstance(self.default, bool):
            return "on" if value else "off"
        return str(value)


SAFEGUARDS: tuple[Safeguard, ...] = (
    Safeguard("require_second_approver", True,
              "destruction, and an edit that moves retention earlier, need a second person's approval"),
    Safeguard("idle_lock_minutes", 15, "web sessions end after this many minutes of inactivity", high=24 * 60),
    Safeguard("login_attempts_per_minute", 5, "failed sign-ins allowed per minute before back-off"),
    Safeguard("backup_keep_days", 30, "every backup is brought up to date (or wiped) within this many days, so a "
              "destroyed record is gone from backups this long after its destruction (stated on certificates)",
              high=3650),
    Safeguard("financial_year_end", "12-31", "the day (MM-DD) the financial year ends; periods counted from the "
              "financial year start there"),
)
BY_NAME = {s.name: s for s in SAFEGUARDS}


@dataclass(frozen=True, slots=True)
class Safeguards:
    """The sealed values in force."""

    require_second_approver: bool = True
    idle_lock_minutes: int = 15
    login_attempts_per_minute: int = 5
    backup_keep_days: int = 30
    financial_year_end: str = "12-31"

    @property
    def fiscal_year_end(self) -> tuple[int, int]:
        """The financial year end as (month, day), as records.plan.Plan takes it."""
        return parse_month_day(self.financial_year_end)


@dataclass(frozen=True, slots=True)
class Change:
    name: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


def lookup(name: str) -> Safeguard:
    """The safeguard named `name` (require_second_approver or require-second-approver)."""
    found = BY_NAME.get(name.strip().replace("-", "_"))
    if found is None:
        raise SettingRefused(f"{name!r} is not a sealed setting: use one of "
                             f"{', '.join(s.option for s in SAFEGUARDS)}.")
    return found


def stored(catalog: Catalog, safeguard: Safeguard) -> bool | int | str | None:
    raw = catalog.get_setting(KEY_PREFIX + safeguard.name)
    return None if raw is None else safeguard.parse(raw)


def current(catalog: Catalog) -> Safeguards:
    """The sealed values, each safeguard's default where none is stored."""
    def value(name: str) -> bool | int | str:
        found = stored(catalog, BY_NAME[name])
        return BY_NAME[name].default if found is None else found
    return Safeguards(require_second_approver=bool(value("require_second_approver")),
                      idle_lock_minutes=int(value("idle_lock_minutes")),
                      login_attempts_per_minute=int(value("login_attempts_per_minute")),
                      backup_keep_days=int(value("backup_keep_days")),
                      financial_year_end=str(value("financial_year_end")))


def seed(catalog: Catalog, signer: Signer, offered: Mapping[str, object], *, actor: str, now: datetime,
         source: str) -> list[str]:
    """Store `offered` values for the safeguards that have none yet (once per home), each with a
    `settings.seed` audit entry naming its source; returns the names seeded."""
    missing = [s for s in SAFEGUARDS if stored(catalog, s) is None]
    if not missing:
        return []
    with catalog.transaction() as tx:
        for safeguard in missing:
            value = safeguard.parse(offered.get(safeguard.name, safeguard.default))
            tx.put_setting(KEY_PREFIX + safeguard.name, safeguard.text(value))
            checkpoints.append(tx, signer, AuditEvent(ts=now, actor=actor, action="settings.seed", channel="cli",
                                                      details=(("setting", safeguard.name),
                                                               ("value", safeguard.text(value)), ("source", source))))
    return [s.name for s in missing]


def change(ports: Ports, scope: AccessScope, name: str, value: str, *, now: datetime, channel: str = "cli") -> Change:
    """Set one sealed setting (admins only); the new value and its audit entry, with the old and new value,
    commit together. Setting the value it already has changes and audits nothing."""
    if not scope.may(Permission.ADMIN):
        raise AccessDenied(f"Your role ({scope.role}) may not change the home's settings.")
    safeguard = lookup(name)
    new = safeguard.parse(value)
    before = stored(ports.catalog, safeguard)
    old = safeguard.default if before is None else before
    result = Change(safeguard.name, safeguard.text(old), safeguard.text(new))
    if not result.changed:
        return result
    with ports.catalog.transaction() as tx:
        tx.put_setting(KEY_PREFIX + safeguard.name, result.new)
        checkpoints.append(tx, ports.signer, event("settings.change", actor=scope.actor, now=now, channel=channel, details=(
            ("setting", safeguard.name), ("old", result.old), ("new", result.new))))
    return result


def disagreements(catalog: Catalog, in_file: Mapping[str, object], file_name: str = "strongroom.toml") -> list[str]:
    """One sentence for each safeguard `in_file` (what the settings file sets) gives another value than the
    sealed one, which is the one that applies."""
    problems = []
    sealed = current(catalog)
    for safeguard in SAFEGUARDS:
        if safeguard.name not in in_file:
            continue
        try:
            given = safeguard.text(safeguard.parse(in_file[safeguard.name]))
        except SettingRefused:
            given = str(in_file[safeguard.name])
        value = safeguard.text(getattr(sealed, safeguard.name))
        if given != value:
            problems.append(f"{file_name} sets {safeguard.name} to {given}, but the sealed value is {value}, which "
                            f"applies: change it with `strongroom settings set {safeguard.option} {given}` or "
                            f"correct the file.")
    return problems
