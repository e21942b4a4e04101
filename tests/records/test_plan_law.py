"""Issue 19 item 1: the default plan against the law check (docs/retention-law-check.md, a copy of the shared
reference), row by row, and one golden due date per corrected row in both countries, for a calendar and a
31 March financial year."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from records.model import Confidentiality, ContractFields, Record, RecordId
from records.plan import Plan, RecordClass, TriggerKind, load_default
from records.retention import Status, decide, retention_until

ROOT = Path(__file__).resolve().parents[2]
COPY = ROOT / "docs" / "retention-law-check.md"
SHARED = ROOT.parent / "shared" / "reference" / "retention-law-check.md"
REFERENCE = COPY.read_text(encoding="utf-8")
PLAN = load_default()

# ---- reading the reference -----------------------------------------------------------------------

_HEADER = re.compile(r"^\*\*(\d{2}(?:\.\d+)*)\s+`[^`]+`\*\*\s*$")
_COUNTRY = re.compile(r"^- (?:\*\*(SI|EE|SI / EE)\*\*:|(Both)\b|(Permanent until classified))(.*)$")
Period = int | str | None  # years, "permanent", or None when the reference names no period


def _section(title: str) -> str:
    start = REFERENCE.index(title)
    end = REFERENCE.find("\n## ", start + 1)
    return REFERENCE[start:end if end > 0 else None]


def class_blocks() -> dict[str, dict[str, str]]:
    """§1 as {code: {"SI": text, "EE": text}}: each country's bullet with its sub-bullets."""
    blocks: dict[str, dict[str, str]] = {}
    code, country = "", ""
    for line in _section("## 1. Class by class").splitlines():
        header = _HEADER.match(line.strip())
        if header:
            code, country = header.group(1), ""
            blocks[code] = {}
            continue
        found = _COUNTRY.match(line)
        if code and found:
            who, both, unsorted, rest = found.groups()
            countries = ["SI", "EE"] if (both or unsorted or who == "SI / EE") else [who]
            for name in countries:
                blocks[code][name] = (both or unsorted or "") + rest
            country = "+".join(countries)
        elif code and country and line.startswith("  "):
            for name in country.split("+"):
                blocks[code][name] += "\n" + line.strip()
    return blocks


def period_in(text: str) -> Period:
    """The corrected period where the reference gives one, else the period the bullet opens with."""
    corrected = re.search(r"Corrected: \*\*(permanent|\d+ y)", text, re.IGNORECASE)
    first = corrected or re.match(r"\s*(?:Both\s+)?(permanent|Permanent until classified|\d+ y)", text)
    return _period(first.group(1)) if first else None


def _period(text: str) -> Period:
    return "permanent" if text.lower().startswith("permanent") else int(text.split()[0])


TRIGGER_PHRASES = (
    (r"later[ -]of", "later_year_end"),
    (r"`fiscal_year_end`", "fiscal_year_end"),
    (r"`calendar_year_end|end of the calendar year|calendar year end", "calendar_year_end"),
    (r"end of the calendar year|calendar year end", "later_year_end"),  # never earlier than the calendar year end
    (r"Trigger: permanent", "permanent"),
    (r"Trigger `document_date`|document date", "document_date"),
    (r"judgment's finality|judgment .{0,40}takes effect|decision becomes final", "event:judgment_final"),
    (r"after the contract ends", "event:employment_end"),
)


def triggers_in(text: str) -> set[str]:
    """The triggers the reference names for a row ("" when it names none)."""
    found = {f"event:{name}" for name in re.findall(r"`event:(\w+)`", text)}
    found |= {f"event:{name}" for name in re.findall(r"`(\w+_end)`", text) if not name.endswith("year_end")}
    found |= {trigger for pattern, trigger in TRIGGER_PHRASES if re.search(pattern, text)}
    return found


def _trigger_matches(cls: RecordClass, jurisdiction: str, expected: set[str]) -> bool:
    trigger = cls.trigger_in(jurisdiction)
    names = {str(trigger), str(trigger.kind)}
    return bool(names & expected)


# ---- the row-by-row check --------------------------------------------------------------------------


def test_the_copy_in_docs_is_the_shared_reference() -> None:
    if not SHARED.exists():
        pytest.skip("the shared reference is not beside this checkout")
    assert SHARED.read_text(encoding="utf-8") == REFERENCE, "copy the updated reference to docs/"


def test_the_reference_parses_into_every_class_block() -> None:
    blocks = class_blocks()
    assert len(blocks) >= 25 and {"00.5", "02.1", "03.3", "09"} <= set(blocks)
    assert all(set(b) == {"SI", "EE"} for b in blocks.values()), blocks
    assert period_in(blocks["00.5"]["SI"]) == "permanent"  # "Corrected: **permanent (A)**"
    assert period_in(blocks["02.5"]["EE"]) == 55 and period_in(blocks["00.3"]["EE"]) is None


@pytest.mark.parametrize("code", sorted(class_blocks()))
def test_each_class_of_the_reference_has_its_period_and_trigger(code: str) -> None:
    cls = PLAN.by_code()[code]
    for jurisdiction, text in class_blocks()[code].items():
        period = dict(cls.retention)[jurisdiction]
        expected = period_in(text)
        if expected is None:  # "policy" without a period: the plan must say it is policy
            assert period.policy, f"{code} {jurisdiction}: the reference gives no period, so it must be policy"
        else:
            assert (period.years or "permanent") == expected, f"{code} {jurisdiction}: {text[:80]}"
        wanted = triggers_in(text)
        if wanted and not period.permanent:
            assert _trigger_matches(cls, jurisdiction, wanted), (code, jurisdiction, wanted)


def table_rows() -> list[tuple[str, str, str]]:
    """§2's proposed classes as (code, SI cell, EE cell)."""
    rows = []
    for line in _section("## 2. Classes").splitlines():
        cells = [c.strip() for c in line.split("|")]
        found = re.match(r"\*\*(\d{2}\.\d+[a-z]?)\s", cells[1]) if len(cells) > 3 else None
        if found:
            rows.append((found.group(1), cells[2], cells[3]))
    return rows


FAMILIES = {"02.1a": ("02.1.1",), "02.7": ("02.5", "02.7", "02.7.1", "02.7.2")}  # the OSH records by kind


def cell_periods(cell: str) -> set[Period]:
    bold = re.findall(r"\*\*(Permanent|\d+ y)\*\*", cell, re.IGNORECASE)
    if bold:
        return {_period(bold[0])}
    every = re.findall(r"(permanent|\d+ y)\b", cell, re.IGNORECASE)
    if ";" in cell and len(every) > 1:
        return {_period(p) for p in every}
    return {_period(every[0])} if every else set()


@pytest.mark.parametrize(("code", "si", "ee"), table_rows())
def test_each_missing_class_of_the_reference_is_in_the_plan(code: str, si: str, ee: str) -> None:
    classes = [PLAN.by_code()[c] for c in FAMILIES.get(code, (code,))]
    for jurisdiction, cell in (("SI", si), ("EE", ee)):
        periods = [dict(c.retention)[jurisdiction] for c in classes]
        wanted = cell_periods(cell)
        if not wanted:
            assert all(p.policy for p in periods) or cell.startswith("n/a"), f"{code} {jurisdiction}: policy"
            continue
        assert wanted <= {p.years or "permanent" for p in periods}, (code, jurisdiction, wanted)
        trigger_text = cell.split("·")[1] if cell.count("·") >= 2 else ""
        for cls, period in zip(classes, periods):
            if triggers_in(trigger_text) and not period.permanent and len(classes) == 1:
                assert _trigger_matches(cls, jurisdiction, triggers_in(trigger_text)), (code, jurisdiction)
    assert len(table_rows()) == 8


def test_the_later_year_end_serves_exactly_the_classes_the_reference_names() -> None:
    recommendation = _section("## 4. Trigger semantics")
    line = next(line for line in recommendation.splitlines() if "Use it for" in line)
    use, _, keep = line[line.index("Use it for"):].partition("Keep `fiscal_year_end`")
    later, fiscal = re.findall(r"\d{2}\.\d", use), re.findall(r"\d{2}\.\d", keep)
    assert later == ["01.1", "01.2", "01.3", "01.6", "01.8", "02.2"] and fiscal == ["01.4", "01.5"]
    for code in later:
        cls = PLAN.by_code()[code]
        assert {cls.trigger_in(j).kind for j, p in cls.retention if not p.permanent} == {TriggerKind.LATER_YEAR_END}
    assert PLAN.by_code()["01.4"].trigger_in("EE").kind is TriggerKind.FISCAL_YEAR_END


def test_policy_flags_and_bases_follow_section_5() -> None:
    other = _section("## 5. Other corrections")
    policy_true = other[other.index("Set **policy = true**"):other.index("Set **policy = false**")]
    for country_line in policy_true.splitlines()[1:]:
        country, _, codes = country_line.strip("- ").partition(":")
        for code in re.findall(r"\d{2}\.\d", codes):
            assert dict(PLAN.by_code()[code].retention)[country.strip()].policy, (code, country)
    for code, citation in (("02.1", "ZEPDSV Art. 14(3)"), ("02.5", "ZVZD-1 Art. 61")):
        si = dict(PLAN.by_code()[code].retention)["SI"]
        assert not si.policy and citation in si.basis


def test_every_basis_is_a_citation_or_says_policy_and_why() -> None:
    for cls in PLAN.classes:
        for jurisdiction, period in cls.retention:
            where = f"{cls.code} {jurisdiction}: {period.basis}"
            assert not re.search(r"\bverify\b|\babout\b|ZR (Art\. )?30", period.basis), where
            if period.policy:
                assert period.basis.startswith("policy") and len(period.basis) > len("policy: ") + 10, where
            else:
                assert re.search(r"(Art\. \d+|§ \d+)", period.basis), where
    assert dict(PLAN.by_code()["05.3"].retention)["SI"].basis != "ZAL"


def test_the_missing_classes_are_there_with_names_in_three_languages() -> None:
    wanted = {"01.2": "property-invoices", "02.3": "working-time", "02.7": "osh", "02.7.1": "health-checks",
              "02.7.2": "exposure", "02.1.1": "hr-before-2009", "01.8": "travel", "04.4": "decisions",
              "04.5": "press", "04.6": "contacts"}
    for code, slug in wanted.items():
        cls = PLAN.by_code()[code]
        assert cls.slug == slug and all(dict(cls.names).get(lang) for lang in ("sl", "et", "en"))


# ---- golden due dates per corrected row ------------------------------------------------------------

FILED = datetime(2026, 1, 15, 10, 0, tzinfo=timezone.utc)
DOC = date(2025, 2, 10)  # February: inside a financial year that ends on 31 March
MAY = date(2025, 5, 10)  # May: its financial year (to 31 March) ends in the next calendar year


def _record(code: str, *, document_date: date = DOC, event: str = "", details: object = None) -> Record:
    extra = ((f"event.{event}", DOC.isoformat()),) if event else ()
    return Record(id=RecordId(f"r{code}"), registry_number=f"{code}-1/2026", title="t", record_class=code,
                  principal="ceo", confidentiality=Confidentiality.INTERNAL, document_date=document_date,
                  filed_at=FILED, filed_by="tina", original_name="x.txt", media_type="text/plain", size=1,
                  sha256="0" * 64, details=details, extra=extra)  # type: ignore[arg-type]


def _plan(fy: str) -> Plan:
    month, day = fy.split("-")
    return replace(PLAN, fiscal_year_end=(int(month), int(day)))


D = date.fromisoformat
# code, document date, event, financial year end, SI keep-until, EE keep-until (None: permanent)
GOLDEN = [
    ("01.1", DOC, "", "12-31", D("2035-12-31"), D("2032-12-31")),
    ("01.1", DOC, "", "03-31", D("2035-12-31"), D("2032-12-31")),  # the law check §4: not 2035-03-31 / 2032-03-31
    ("01.1", MAY, "", "03-31", D("2036-03-31"), D("2033-03-31")),  # the financial year ends later: RPS § 12
    ("01.2", DOC, "", "12-31", D("2045-12-31"), D("2032-12-31")),
    ("01.2", MAY, "", "03-31", D("2046-03-31"), D("2033-03-31")),
    ("01.3", DOC, "", "03-31", D("2035-12-31"), D("2032-12-31")),
    ("01.4", DOC, "", "12-31", None, D("2032-12-31")),
    ("01.4", DOC, "", "03-31", None, D("2032-03-31")),  # RPS alone: from the financial year end
    ("01.6", DOC, "", "03-31", D("2035-12-31"), D("2032-12-31")),
    ("01.6", MAY, "", "03-31", D("2036-03-31"), D("2033-03-31")),
    ("01.7", DOC, "asset_disposed", "03-31", D("2045-02-10"), D("2032-02-10")),
    ("01.8", DOC, "", "03-31", D("2035-12-31"), D("2032-12-31")),
    ("01.8", MAY, "", "12-31", D("2035-12-31"), D("2032-12-31")),
    ("00.5", DOC, "superseded", "12-31", None, D("2032-02-10")),
    ("00.6", DOC, "superseded", "03-31", None, D("2035-02-10")),
    ("02.1", DOC, "employment_end", "12-31", None, D("2035-02-10")),
    ("02.1.1", DOC, "employment_end", "03-31", None, D("2075-02-10")),
    ("02.2", DOC, "", "03-31", None, D("2032-12-31")),
    ("02.2", MAY, "", "03-31", None, D("2033-03-31")),
    ("02.3", DOC, "employment_end", "03-31", None, D("2032-12-31")),  # EE counts from the document
    ("02.4", DOC, "", "03-31", D("2030-12-31"), D("2032-12-31")),
    ("02.5", DOC, "", "03-31", None, D("2080-02-10")),
    ("02.7", DOC, "", "12-31", None, D("2035-02-10")),
    ("02.7.1", DOC, "employment_end", "12-31", None, D("2035-02-10")),
    ("02.7.2", DOC, "last_exposure", "12-31", None, D("2065-02-10")),
    ("03.2", DOC, "contract_end", "12-31", D("2045-02-10"), D("2035-02-10")),
    ("03.3", DOC, "judgment_final", "12-31", D("2035-02-10"), D("2035-02-10")),
    ("03.3", DOC, "judgment_final", "03-31", D("2035-02-10"), D("2035-02-10")),
    ("04.1", DOC, "", "03-31", D("2030-12-31"), D("2030-12-31")),
    ("04.2", DOC, "", "03-31", D("2035-12-31"), D("2032-12-31")),
    ("04.3", DOC, "", "03-31", D("2027-12-31"), D("2027-12-31")),
    ("04.4", DOC, "", "03-31", D("2035-12-31"), D("2032-12-31")),
    ("04.5", DOC, "", "12-31", D("2030-12-31"), D("2030-12-31")),
    ("04.6", DOC, "relationship_end", "12-31", D("2027-02-10"), D("2027-02-10")),
]


@pytest.mark.parametrize(("code", "doc", "event", "fy", "si", "ee"), GOLDEN,
                         ids=[f"{g[0]}-{g[1]}-{g[2] or 'doc'}-fy{g[3]}" for g in GOLDEN])
def test_due_date_per_corrected_row(code: str, doc: date, event: str, fy: str, si: date | None,
                                    ee: date | None) -> None:
    plan, record = _plan(fy), _record(code, document_date=doc, event=event)
    assert retention_until(record, plan, "SI") == si
    assert retention_until(record, plan, "EE") == ee
    both = None if si is None or ee is None else max(si, ee)
    assert retention_until(record, plan, "SI+EE") == both
    for jurisdiction, until in (("SI", si), ("EE", ee)):
        if until is not None:  # kept through its last day, due the day after
            assert decide(record, plan, jurisdiction=jurisdiction, now=until).status is Status.NOT_YET
            assert decide(record, plan, jurisdiction=jurisdiction, now=date.fromordinal(until.toordinal() + 1)).due


def test_litigation_counts_from_the_judgment_becoming_final_not_the_case_closing() -> None:
    closed = _record("03.3", event="case_closed")
    decision = decide(closed, PLAN, jurisdiction="SI", now=D("2090-01-01"))
    assert decision.status is Status.MISSING_TRIGGER and "judgment final" in decision.reason


def test_a_property_purchase_counts_from_its_contract_end() -> None:
    record = _record("03.2", details=ContractFields(expiry=D("2030-06-30")))
    assert retention_until(record, PLAN, "SI") == D("2050-06-30")
