"""Lifecycle events and local dates in the records core (issue 18 items 2 and 9)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from records.dates import parse_amount, parse_day
from records.errors import RecordsError
from records.model import ContractFields
from records.plan import Plan
from records.retention import apply_schedule, event_date
from tests.vault.test_catalog import make_record


@pytest.mark.parametrize("typed", ["2031-12-31", "31.12.2031", "31. 12. 2031", "31.12.2031."])
def test_a_day_in_iso_or_the_local_form(typed: str) -> None:
    assert parse_day(typed) == date(2031, 12, 31)


@pytest.mark.parametrize("typed", ["31.13.2031", "12/31/2031", "", "31.12.31"])
def test_a_bad_day_is_one_sentence(typed: str) -> None:
    with pytest.raises(RecordsError, match="31.12.2031"):
        parse_day(typed)


def test_amounts_with_a_decimal_comma_or_point() -> None:
    assert parse_amount("1.234,56") == parse_amount("1234.56") == parse_amount("1 234,56") == Decimal("1234.56")
    with pytest.raises(RecordsError):
        parse_amount("-5")


def test_a_recorded_termination_wins_over_the_foreseen_expiry(plan: Plan) -> None:
    record = make_record(record_class="03.1", details=ContractFields(expiry=date(2031, 12, 31)))
    assert event_date(record, "contract_end") == date(2031, 12, 31)
    ended = replace(record, extra=(("event.contract_end", "2026-03-15"),))
    assert event_date(ended, "contract_end") == date(2026, 3, 15)
    assert apply_schedule(ended, plan, "SI").retention_trigger == date(2026, 3, 15)
