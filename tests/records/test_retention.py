"""Golden cases for retention: every trigger type, leap days, fiscal-year ends, jurisdictions, holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from records.model import (Confidentiality, ContractFields, HRFields, Hold, Record, RecordId, State)
from records.plan import TriggerKind, parse_plan
from records.retention import (Status, add_years, apply_schedule, decide, evaluate, fiscal_year_end_of,
                               missing_trigger, planned, retention_trigger, retention_until)

FILED = datetime(2026, 1, 15, 10, 0, tzinfo=timezone.utc)

PLAN = '''
schema = "strongroom-plan/v1"
fiscal_year_end = "{fy}"

[[class]]
code = "09"
slug = "unsorted"
names = {{ sl = "N", et = "K", en = "Unsorted" }}
trigger = "permanent"
action = "permanent"
unsorted = true
retention.SI = {{ years = "permanent", basis = "MoReq" }}
retention.EE = {{ years = "permanent", basis = "MoReq" }}
{classes}
'''
CLASSES = {
    "01": ("document_date", 5, 3),
    "02": ("filing_date", 2, 2),
    "03": ("calendar_year_end(document_date)", 10, 7),
    "04": ("fiscal_year_end(document_date)", 10, 7),
    "05": ("event:contract_end", 10, 7),
    "06": ("event:employment_end", "permanent", 10),
    "07": ("event:superseded", 3, 3),
    "08": ("calendar_year_end(employment_end)", 1, 1),
}


def _plan(fy: str = "12-31"):  # type: ignore[no-untyped-def]
    blocks = []
    for code, (trigger, si, ee) in CLASSES.items():
        si_text = f'"{si}"' if si == "permanent" else si
        blocks.append(f'''
[[class]]
code = "{code}"
slug = "c{code}"
names = {{ sl = "s", et = "e", en = "class {code}" }}
trigger = "{trigger}"
action = "destroy"
retention.SI = {{ years = {si_text}, basis = "SI law" }}
retention.EE = {{ years = {ee}, basis = "EE law" }}''')
    return parse_plan(PLAN.format(fy=fy, classes="\n".join(blocks)))


def _record(cls: str, *, document_date: date | None = None, details=None, extra=(), holds=(),  # type: ignore[no-untyped-def]
            filed_at: datetime = FILED) -> Record:
    return Record(id=RecordId(f"r{cls}"), registry_number=f"{cls}-1/2026", title="t", record_class=cls,
                  principal="ceo", confidentiality=Confidentiality.INTERNAL, document_date=document_date,
                  filed_at=filed_at, filed_by="tina", original_name="x.txt", media_type="text/plain", size=1,
                  sha256="0" * 64, details=details, extra=tuple(extra), holds=tuple(holds))


# ---- arithmetic ------------------------------------------------------------------------------

@pytest.mark.parametrize("start, years, expected", [
    (date(2024, 2, 29), 1, date(2025, 2, 28)),   # leap day -> 28 Feb in a common year
    (date(2024, 2, 29), 4, date(2028, 2, 29)),   # ... and stays 29 Feb in a leap year
    (date(2024, 2, 29), 10, date(2034, 2, 28)),
    (date(2023, 3, 1), 1, date(2024, 3, 1)),
    (date(2025, 12, 31), 10, date(2035, 12, 31)),
    (date(2025, 6, 1), 0, date(2025, 6, 1)),
])
def test_add_years(start: date, years: int, expected: date) -> None:
    assert add_years(start, years) == expected


@pytest.mark.parametrize("day, fy, expected", [
    (date(2025, 3, 31), (3, 31), date(2025, 3, 31)),  # the last day belongs to the year it closes
    (date(2025, 4, 1), (3, 31), date(2026, 3, 31)),
    (date(2025, 1, 10), (3, 31), date(2025, 3, 31)),
    (date(2025, 6, 30), (6, 30), date(2025, 6, 30)),
    (date(2025, 7, 1), (6, 30), date(2026, 6, 30)),
    (date(2025, 12, 31), (12, 31), date(2025, 12, 31)),
    (date(2025, 1, 1), (12, 31), date(2025, 12, 31)),
])
def test_fiscal_year_end(day: date, fy: tuple[int, int], expected: date) -> None:
    assert fiscal_year_end_of(day, fy) == expected


# ---- one golden case per trigger ---------------------------------------------------------------

def test_document_date_trigger_and_leap_day() -> None:
    plan = _plan()
    record = _record("01", document_date=date(2024, 2, 29))
    assert retention_trigger(record, plan.resolve("01")) == date(2024, 2, 29)
    assert retention_until(record, plan, "SI") == date(2029, 2, 28)
    assert retention_until(record, plan, "EE") == date(2027, 2, 28)
    # kept through the last day, due from the day after
    assert decide(record, plan, jurisdiction="SI", now=date(2029, 2, 28)).status is Status.NOT_YET
    assert decide(record, plan, jurisdiction="SI", now=date(2029, 3, 1)).status is Status.DUE


def test_document_date_falls_back_to_filing_date() -> None:
    plan = _plan()
    assert retention_until(_record("01"), plan, "SI") == date(2031, 1, 15)


def test_filing_date_trigger_ignores_document_date() -> None:
    plan = _plan()
    record = _record("02", document_date=date(2001, 1, 1))
    assert retention_until(record, plan, "SI") == date(2028, 1, 15)


def test_calendar_year_end_cutoff() -> None:
    plan = _plan()
    jan = _record("03", document_date=date(2025, 1, 1))
    dec = _record("03", document_date=date(2025, 12, 31))
    assert retention_trigger(jan, plan.resolve("03")) == date(2025, 12, 31)
    assert retention_until(jan, plan, "SI") == retention_until(dec, plan, "SI") == date(2035, 12, 31)
    assert decide(dec, plan, jurisdiction="SI", now=date(2035, 12, 31)).status is Status.NOT_YET
    assert decide(dec, plan, jurisdiction="SI", now=date(2036, 1, 1)).status is Status.DUE


@pytest.mark.parametrize("fy, doc, until_si, until_ee", [
    ("12-31", date(2025, 7, 1), date(2035, 12, 31), date(2032, 12, 31)),
    ("03-31", date(2025, 3, 31), date(2035, 3, 31), date(2032, 3, 31)),
    ("03-31", date(2025, 4, 1), date(2036, 3, 31), date(2033, 3, 31)),
    ("06-30", date(2024, 2, 29), date(2034, 6, 30), date(2031, 6, 30)),
    ("06-30", date(2024, 7, 1), date(2035, 6, 30), date(2032, 6, 30)),
])
def test_fiscal_year_end_trigger(fy: str, doc: date, until_si: date, until_ee: date) -> None:
    plan = _plan(fy)
    record = _record("04", document_date=doc)
    assert retention_until(record, plan, "SI") == until_si
    assert retention_until(record, plan, "EE") == until_ee
    assert retention_until(record, plan, "SI+EE") == until_si


def test_event_trigger_contract_end() -> None:
    plan = _plan()
    open_ended = _record("05", details=ContractFields(parties=("Acme d.o.o.",)))
    decision = decide(open_ended, plan, jurisdiction="SI", now=date(2090, 1, 1))
    assert decision.status is Status.MISSING_TRIGGER and "contract end" in decision.reason
    assert retention_until(open_ended, plan, "SI") is None
    ended = replace(open_ended, details=ContractFields(expiry=date(2028, 2, 29)))
    assert retention_until(ended, plan, "SI") == date(2038, 2, 28)
    assert retention_until(ended, plan, "EE") == date(2035, 2, 28)
    assert decide(ended, plan, jurisdiction="SI+EE", now=date(2038, 3, 1)).due


def test_event_trigger_employment_end_permanent_in_si() -> None:
    plan = _plan()
    record = _record("06", details=HRFields(employee="Ana", employment_end=date(2026, 6, 30)))
    assert retention_until(record, plan, "EE") == date(2036, 6, 30)
    assert retention_until(record, plan, "SI") is None
    assert decide(record, plan, jurisdiction="SI+EE", now=date(2200, 1, 1)).status is Status.PERMANENT
    assert decide(record, plan, jurisdiction="EE", now=date(2036, 7, 1)).due


def test_event_recorded_by_hand_in_extra() -> None:
    plan = _plan()
    record = _record("07", extra=(("event.superseded", "2026-03-01"),))
    assert retention_until(record, plan, "SI") == date(2029, 3, 1)
    broken = _record("07", extra=(("event.superseded", "soon"),))
    assert decide(broken, plan, jurisdiction="SI", now=date(2090, 1, 1)).status is Status.MISSING_TRIGGER


def test_year_end_of_an_event() -> None:
    plan = _plan()
    record = _record("08", details=HRFields(employment_end=date(2026, 2, 1)))
    assert retention_until(record, plan, "SI") == date(2027, 12, 31)


def test_permanent_unsorted_hold_and_disposed() -> None:
    plan = _plan()
    far = date(2300, 1, 1)
    assert decide(_record("09"), plan, jurisdiction="SI", now=far).status is Status.UNSORTED
    held = _record("01", document_date=date(2000, 1, 1),
                   holds=(Hold("h1", "tax audit 2026", "tina", FILED),))
    decision = decide(held, plan, jurisdiction="SI", now=far)
    assert decision.status is Status.ON_HOLD and decision.until == date(2005, 1, 1)
    released = replace(held, holds=(replace(held.holds[0], released_by="ana", released_at=FILED),))
    assert decide(released, plan, jurisdiction="SI", now=far).due
    gone = replace(released, state=State.DISPOSED)
    assert decide(gone, plan, jurisdiction="SI", now=far).status is Status.DISPOSED


def test_evaluate_gives_a_reason_for_every_record_and_a_missing_trigger_report() -> None:
    plan = _plan()
    records = [_record("01", document_date=date(2000, 1, 1)), _record("05"), _record("09"),
               _record("03", document_date=date(2025, 5, 5))]
    decisions = evaluate(records, plan, jurisdiction="SI", now=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert [d.status for d in decisions] == [Status.DUE, Status.MISSING_TRIGGER, Status.UNSORTED,
                                             Status.NOT_YET]
    assert all(d.reason.endswith(".") for d in decisions)
    assert [d.record_id for d in missing_trigger(decisions)] == ["r05"]


def test_apply_schedule_stamps_the_record() -> None:
    plan = _plan()
    record = apply_schedule(_record("03", document_date=date(2025, 5, 5)), plan, "EE")
    assert (record.retention_trigger, record.retention_until) == (date(2025, 12, 31), date(2032, 12, 31))


def test_the_stored_schedule_is_a_floor_a_plan_edit_cannot_lower() -> None:
    """Issue 17 item 2: retention_until stored at filing outlives a plan cut short; a longer plan applies."""
    plan = _plan()
    filed = apply_schedule(_record("03", document_date=date(2020, 5, 5)), plan, "SI")  # kept to 2030-12-31
    assert filed.retention_basis == "10 years (SI law)"
    cut = _plan()
    cut = replace(cut, classes=tuple(replace(c, retention=(("SI", replace(dict(c.retention)["SI"], years=1)),
                                                           ("EE", dict(c.retention)["EE"])))
                                     if c.code in ("03", "06") else c for c in cut.classes))
    decision = decide(filed, cut, jurisdiction="SI", now=date(2026, 1, 1))
    assert decision.status is Status.NOT_YET and decision.until == date(2030, 12, 31)
    assert decision.basis == "10 years (SI law)" and "earlier than the 2030-12-31" in decision.plan_note
    assert decide(filed, cut, jurisdiction="SI", now=date(2031, 1, 1)).due
    longer = replace(cut, classes=tuple(replace(c, retention=(("SI", replace(dict(c.retention)["SI"], years=20)),
                                                              ("EE", dict(c.retention)["EE"])))
                                        if c.code == "03" else c for c in cut.classes))
    lengthened = decide(filed, longer, jurisdiction="SI", now=date(2031, 1, 1))
    assert lengthened.until == date(2040, 12, 31) and not lengthened.shortened_by_plan
    # A permanent record (06 in SI) stays permanent when the plan gives the class a period.
    permanent = apply_schedule(_record("06", details=HRFields(employment_end=date(2000, 1, 1))), plan, "SI")
    assert permanent.retention_until is None and permanent.retention_basis.startswith("permanent")
    kept = decide(permanent, cut, jurisdiction="SI", now=date(2090, 1, 1))
    assert kept.status is Status.PERMANENT and kept.shortened_by_plan
    # A record that waited for its event does not start a clock because the plan changed its trigger.
    waiting = apply_schedule(_record("05"), plan, "SI")
    by_date = replace(plan, classes=tuple(
        replace(c, trigger=replace(c.trigger, kind=TriggerKind.DOCUMENT_DATE, of="document_date"))
        if c.code == "05" else c for c in plan.classes))
    assert planned(waiting, by_date, jurisdiction="SI", now=date(2090, 1, 1)).due
    assert decide(waiting, by_date, jurisdiction="SI", now=date(2090, 1, 1)).status is Status.MISSING_TRIGGER
