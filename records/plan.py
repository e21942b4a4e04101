"""The classification plan and retention schedule: record classes loaded from TOML and validated."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from records.errors import PlanError
from records.model import DETAIL_KINDS, Confidentiality

SCHEMA = "strongroom-plan/v1"
JURISDICTIONS = ("SI", "EE")
HOME_JURISDICTIONS = ("SI", "EE", "SI+EE")
DEFAULT_PLAN = "default_plan.toml"
_SLUG = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
_CODE = re.compile(r"^\d{2}(\.\d{1,2}){0,2}$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
# The date fields a trigger may name besides events: the document's own date and its filing date.
BASE_FIELDS = ("document_date", "filing_date")


class TriggerKind(StrEnum):
    DOCUMENT_DATE = "document_date"
    FILING_DATE = "filing_date"
    CALENDAR_YEAR_END = "calendar_year_end"
    FISCAL_YEAR_END = "fiscal_year_end"
    # The later of 31 December and the financial year end that follow the date: for laws that count from the
    # calendar year (ZDDV-1 Art. 141, MKS § 58) where the accounts count from the financial year (RPS § 12).
    LATER_YEAR_END = "later_year_end"
    EVENT = "event"
    PERMANENT = "permanent"


class Action(StrEnum):
    DESTROY = "destroy"
    REVIEW = "review"
    TRANSFER = "transfer"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class Trigger:
    """Where the retention clock starts: a date field, a year-end cutoff of one, or never."""

    kind: TriggerKind
    of: str = ""  # the date field (document_date, filing_date or an event name); "" for permanent

    def __str__(self) -> str:
        if self.kind in (TriggerKind.DOCUMENT_DATE, TriggerKind.FILING_DATE, TriggerKind.PERMANENT):
            return str(self.kind)
        if self.kind is TriggerKind.EVENT:
            return f"event:{self.of}"
        return f"{self.kind}({self.of})"

    @property
    def event(self) -> str | None:
        """The event a record must have recorded before its clock can start, if any."""
        return self.of if self.of and self.of not in BASE_FIELDS else None


@dataclass(frozen=True, slots=True)
class Period:
    """A retention period in one jurisdiction: whole years, or permanent (years is None)."""

    years: int | None
    basis: str
    policy: bool = False  # a business choice, not a statute: the office may change it
    trigger: Trigger | None = None  # this jurisdiction's own trigger; None: the class's

    @property
    def permanent(self) -> bool:
        return self.years is None

    def describe(self) -> str:
        length = "permanent" if self.years is None else f"{self.years} years"
        return f"{length} ({self.basis}{'; policy' if self.policy else ''})"


@dataclass(frozen=True, slots=True)
class RecordClass:
    code: str
    slug: str
    names: tuple[tuple[str, str], ...]  # (language, name) for sl, et, en
    confidentiality: Confidentiality
    detail: str | None  # contract | minutes | correspondence | invoice | hr, or None
    trigger: Trigger
    retention: tuple[tuple[str, Period], ...]  # (jurisdiction, period)
    action: Action
    unsorted: bool = False  # the class of documents that wait for a person; never disposed

    def name(self, language: str = "en") -> str:
        names = dict(self.names)
        return names.get(language) or names["en"]

    def trigger_in(self, jurisdiction: str) -> Trigger:
        """Where the clock starts in one jurisdiction (SI or EE): its period's own trigger, else the class's."""
        return dict(self.retention)[jurisdiction].trigger or self.trigger

    def period(self, jurisdiction: str) -> Period:
        """The period that applies to a home in `jurisdiction` (SI, EE or SI+EE: the longer wins)."""
        periods = dict(self.retention)
        wanted = jurisdictions_of(jurisdiction)
        chosen = [periods[j] for j in wanted]
        permanent = [p for p in chosen if p.permanent]
        if permanent:
            return permanent[0]
        return max(chosen, key=lambda p: p.years or 0)


def jurisdictions_of(jurisdiction: str) -> tuple[str, ...]:
    if jurisdiction not in HOME_JURISDICTIONS:
        raise PlanError(f"The jurisdiction {jurisdiction!r} is unknown: use SI, EE or SI+EE.")
    return tuple(jurisdiction.split("+"))


@dataclass(frozen=True, slots=True)
class Plan:
    classes: tuple[RecordClass, ...]
    fiscal_year_end: tuple[int, int] = (12, 31)  # (month, day) the financial year ends on
    source: str = ""
    # code or slug -> class, the first in plan order: resolve() runs once per record on every page that
    # reads them all (start page, calendar), and a walk through the plan each time cost ~0.9 s at 100k
    _names: dict[str, RecordClass] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names: dict[str, RecordClass] = {}
        for cls in self.classes:
            names.setdefault(cls.code, cls)
            names.setdefault(cls.slug, cls)
        object.__setattr__(self, "_names", names)

    def resolve(self, code_or_slug: str | None) -> RecordClass:
        """The class with this code or slug; None gives the unsorted class."""
        if code_or_slug is None or code_or_slug == "":
            return self.unsorted
        wanted = code_or_slug.strip()
        found = self._names.get(wanted)
        if found is not None:
            return found
        by_slug = self._names.get(wanted.lower())
        if by_slug is not None and by_slug.slug == wanted.lower():
            return by_slug
        choices = ", ".join(f"{c.code} ({c.slug})" for c in self.classes)
        raise PlanError(f"There is no record class {wanted!r} in the plan: use one of {choices}.")

    @property
    def unsorted(self) -> RecordClass:
        return next(c for c in self.classes if c.unsorted)

    def by_code(self) -> dict[str, RecordClass]:
        return {c.code: c for c in self.classes}


# ---- loading and validation ----------------------------------------------------------------


def default_plan_text() -> str:
    """The shipped default plan (copied into each new home as plan.toml)."""
    return resources.files("records").joinpath(DEFAULT_PLAN).read_text(encoding="utf-8")


def load_default() -> Plan:
    return parse_plan(default_plan_text(), source="the default plan")


def load_plan(path: Path) -> Plan:
    """Read and validate a plan file; every problem is one PlanError sentence naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanError(f"The classification plan {path} is missing: restore it from a backup or copy "
                        "records/default_plan.toml there.") from None
    except OSError as exc:
        raise PlanError(f"The classification plan {path} cannot be read ({exc.strerror}).") from None
    return parse_plan(text, source=str(path))


def parse_plan(text: str, *, source: str = "the plan") -> Plan:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{source} is not valid TOML ({exc}): fix the file.") from None
    if doc.get("schema") != SCHEMA:
        raise PlanError(f"{source} must start with schema = \"{SCHEMA}\".")
    fy_end = _month_day(doc.get("fiscal_year_end", "12-31"), f"{source}: fiscal_year_end")
    raw_classes = doc.get("class")
    if not isinstance(raw_classes, list) or not raw_classes:
        raise PlanError(f"{source} defines no [[class]] entries: add at least the unsorted class.")
    classes = tuple(_record_class(raw, source) for raw in raw_classes)
    _check_unique(classes, source)
    return Plan(classes=classes, fiscal_year_end=fy_end, source=source)


def parse_month_day(raw: object, what: str = "the financial year end") -> tuple[int, int]:
    """A month-day such as "03-31" as (3, 31); PlanError naming `what` otherwise (29 February is refused:
    a year end must exist every year)."""
    return _month_day(raw, what)


def _month_day(raw: Any, what: str) -> tuple[int, int]:
    match = _MONTH_DAY.match(str(raw).strip())
    month, day = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    days_in = {1: 31, 2: 28, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
    if month not in days_in or not 1 <= day <= days_in[month]:
        raise PlanError(f"{what} {raw!r} is not a month-day such as \"12-31\" or \"03-31\" "
                        "(February 29 is not allowed).")
    return month, day


def _record_class(raw: Any, source: str) -> RecordClass:
    if not isinstance(raw, dict):
        raise PlanError(f"{source}: every [[class]] must be a table.")
    code = str(raw.get("code", ""))
    where = f"{source}, class {code or '(no code)'}"
    if not _CODE.match(code):
        raise PlanError(f"{where}: the code must look like \"03\", \"03.1\" or \"03.1.2\".")
    slug = str(raw.get("slug", ""))
    if not _SLUG.match(slug):
        raise PlanError(f"{where}: the slug {slug!r} must be short lower-case ASCII (letters, digits, '-'); "
                        "it names the drop folder.")
    names = raw.get("names", {})
    if not isinstance(names, dict) or any(not names.get(lang) for lang in ("sl", "et", "en")):
        raise PlanError(f"{where}: names needs sl, et and en.")
    try:
        confidentiality = Confidentiality(raw.get("confidentiality", "internal"))
    except ValueError:
        raise PlanError(f"{where}: confidentiality must be one of "
                        f"{', '.join(c.value for c in Confidentiality)}.") from None
    detail = raw.get("detail", "none")
    if detail != "none" and detail not in DETAIL_KINDS:
        raise PlanError(f"{where}: detail {detail!r} is unknown: use none, {', '.join(DETAIL_KINDS)}.")
    trigger = parse_trigger(str(raw.get("trigger", "")), where)
    try:
        action = Action(raw.get("action", ""))
    except ValueError:
        raise PlanError(f"{where}: action must be one of {', '.join(a.value for a in Action)}.") from None
    retention = _retention(raw.get("retention"), where)
    unsorted = bool(raw.get("unsorted", False))
    _check_consistency(where, trigger, retention, action, unsorted)
    return RecordClass(code=code, slug=slug, names=tuple(sorted((k, str(v)) for k, v in names.items())),
                       confidentiality=confidentiality, detail=None if detail == "none" else str(detail),
                       trigger=trigger, retention=retention, action=action, unsorted=unsorted)


def parse_trigger(text: str, where: str = "the plan") -> Trigger:
    """`document_date`, `filing_date`, `calendar_year_end(F)`, `fiscal_year_end(F)`, `later_year_end(F)`,
    `event:E`, `permanent`."""
    text = text.strip()
    if text in (TriggerKind.DOCUMENT_DATE, TriggerKind.FILING_DATE):
        return Trigger(TriggerKind(text), text)
    if text == TriggerKind.PERMANENT:
        return Trigger(TriggerKind.PERMANENT)
    if text.startswith("event:") and _is_name(text[6:]):
        return Trigger(TriggerKind.EVENT, text[6:])
    match = re.fullmatch(r"(calendar_year_end|fiscal_year_end|later_year_end)\((?:event:)?([a-z_]+)\)", text)
    if match and _is_name(match.group(2)):
        return Trigger(TriggerKind(match.group(1)), match.group(2))
    raise PlanError(f"{where}: the trigger {text!r} is unknown: use document_date, filing_date, "
                    "calendar_year_end(FIELD), fiscal_year_end(FIELD), later_year_end(FIELD), event:NAME or permanent.")


def _is_name(text: str) -> bool:
    return re.fullmatch(r"[a-z][a-z_]{1,40}", text) is not None


def _retention(raw: Any, where: str) -> tuple[tuple[str, Period], ...]:
    if not isinstance(raw, dict):
        raise PlanError(f"{where}: retention needs a period for each of {', '.join(JURISDICTIONS)}.")
    unknown = set(raw) - set(JURISDICTIONS)
    if unknown:
        raise PlanError(f"{where}: retention names unknown jurisdictions {sorted(unknown)}: use SI and EE.")
    out = []
    for jurisdiction in JURISDICTIONS:
        entry = raw.get(jurisdiction)
        if not isinstance(entry, dict):
            raise PlanError(f"{where}: retention for {jurisdiction} is missing: add "
                            f"retention.{jurisdiction} = {{ years = N, basis = \"...\" }}.")
        years = entry.get("years")
        if years == "permanent":
            years = None
        elif not isinstance(years, int) or isinstance(years, bool) or not 0 <= years <= 200:
            raise PlanError(f"{where}: retention.{jurisdiction}.years must be a whole number of years "
                            "(0-200) or \"permanent\".")
        basis = str(entry.get("basis", "")).strip()
        if not basis:
            raise PlanError(f"{where}: retention.{jurisdiction} needs a basis (the law, or why it is policy).")
        own = entry.get("trigger")
        trigger = None if own is None else parse_trigger(str(own), f"{where}, retention.{jurisdiction}")
        out.append((jurisdiction, Period(years=years, basis=basis, policy=bool(entry.get("policy", False)),
                                         trigger=trigger)))
    return tuple(out)


def _check_consistency(where: str, trigger: Trigger, retention: tuple[tuple[str, Period], ...],
                       action: Action, unsorted: bool) -> None:
    all_permanent = all(p.permanent for _, p in retention)
    for jurisdiction, period in retention:
        if (period.trigger or trigger).kind is TriggerKind.PERMANENT and not period.permanent:
            raise PlanError(f"{where}: a permanent trigger needs permanent periods everywhere"
                            f" (retention.{jurisdiction} has {period.years} years).")
    if action is Action.PERMANENT and not all_permanent:
        raise PlanError(f"{where}: action permanent needs permanent periods everywhere; use review "
                        "where one jurisdiction allows destruction.")
    if unsorted and not all_permanent:
        raise PlanError(f"{where}: the unsorted class can never be disposed, so its periods must be permanent.")


def _check_unique(classes: tuple[RecordClass, ...], source: str) -> None:
    seen_codes: set[str] = set()
    seen_slugs: set[str] = set()
    for cls in classes:
        if cls.code in seen_codes:
            raise PlanError(f"{source}: the class code {cls.code} is used twice; codes must be unique.")
        if cls.slug in seen_slugs:
            raise PlanError(f"{source}: the slug {cls.slug!r} is used twice; slugs name drop folders "
                            "and must be unique.")
        seen_codes.add(cls.code)
        seen_slugs.add(cls.slug)
    if sum(1 for c in classes if c.unsorted) != 1:
        raise PlanError(f"{source}: exactly one class must be marked unsorted = true (for documents "
                        "that wait for a person).")
