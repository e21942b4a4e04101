"""The classification plan: the shipped default is valid and complete; bad plans fail with one clear sentence."""

from __future__ import annotations

import pytest

from records.errors import PlanError
from records.model import Confidentiality
from records.plan import Action, TriggerKind, load_default, parse_plan, parse_trigger

MINIMAL = '''
schema = "strongroom-plan/v1"
{extra}
[[class]]
code = "09"
slug = "unsorted"
names = {{ sl = "Nerazvrščeno", et = "Klassifitseerimata", en = "Unsorted" }}
trigger = "permanent"
action = "permanent"
unsorted = true
retention.SI = {{ years = "permanent", basis = "MoReq" }}
retention.EE = {{ years = "permanent", basis = "MoReq" }}

[[class]]
code = "{code}"
slug = "{slug}"
names = {{ sl = "Pogodbe", et = "Lepingud", en = "Contracts" }}
trigger = "{trigger}"
action = "{action}"
{retention}
'''
GOOD_RETENTION = ('retention.SI = { years = 10, basis = "policy", policy = true }\n'
                  'retention.EE = { years = 7, basis = "RPS § 12" }')


def _plan(code: str = "03.1", slug: str = "contracts", trigger: str = "event:contract_end",
          action: str = "destroy", retention: str = GOOD_RETENTION, extra: str = "") -> str:
    return MINIMAL.format(code=code, slug=slug, trigger=trigger, action=action, retention=retention, extra=extra)


def test_default_plan_is_valid_and_covers_the_secretariat() -> None:
    plan = load_default()
    assert 15 <= len(plan.classes) <= 40
    slugs = {c.slug for c in plan.classes}
    assert {"minutes", "contracts", "correspondence", "invoices", "hr", "finance", "general"} <= slugs
    assert all(c.slug.isascii() for c in plan.classes)
    assert plan.unsorted.code == "09" and plan.resolve(None) is plan.unsorted
    for cls in plan.classes:  # every period cites a basis
        assert all(p.basis for _, p in cls.retention)


def test_resolve_accepts_code_or_slug() -> None:
    plan = load_default()
    assert plan.resolve("03.1") is plan.resolve("contracts")
    assert plan.resolve("INVOICES").code == "01.1"


def test_unknown_class_lists_the_valid_choices() -> None:
    with pytest.raises(PlanError, match=r"no record class 'letters'.*03\.1 \(contracts\)"):
        load_default().resolve("letters")


def test_jurisdictions_longer_period_wins() -> None:
    plan = load_default()
    invoices = plan.resolve("invoices")
    assert invoices.period("SI").years == 10
    assert invoices.period("EE").years == 7
    assert invoices.period("SI+EE").years == 10
    hr = plan.resolve("hr")
    assert hr.period("EE").years == 10 and hr.period("SI+EE").permanent
    with pytest.raises(PlanError, match="jurisdiction 'LV'"):
        invoices.period("LV")


def test_minutes_permanent_everywhere_and_invoices_cut_off_at_the_later_year_end() -> None:
    plan = load_default()
    minutes = plan.resolve("minutes")
    assert minutes.action is Action.PERMANENT and minutes.period("SI+EE").permanent
    assert minutes.confidentiality is Confidentiality.CONFIDENTIAL and minutes.detail == "minutes"
    assert plan.resolve("invoices").trigger.kind is TriggerKind.LATER_YEAR_END


def test_policy_periods_are_marked() -> None:
    contracts = load_default().resolve("contracts")
    assert all(p.policy for _, p in contracts.retention)


def test_fiscal_year_end_is_configurable() -> None:
    assert parse_plan(_plan(extra='fiscal_year_end = "03-31"')).fiscal_year_end == (3, 31)
    with pytest.raises(PlanError, match="fiscal_year_end"):
        parse_plan(_plan(extra='fiscal_year_end = "02-29"'))


@pytest.mark.parametrize("text, kind, of", [
    ("document_date", TriggerKind.DOCUMENT_DATE, "document_date"),
    ("filing_date", TriggerKind.FILING_DATE, "filing_date"),
    ("calendar_year_end(document_date)", TriggerKind.CALENDAR_YEAR_END, "document_date"),
    ("fiscal_year_end(document_date)", TriggerKind.FISCAL_YEAR_END, "document_date"),
    ("calendar_year_end(employment_end)", TriggerKind.CALENDAR_YEAR_END, "employment_end"),
    ("event:contract_end", TriggerKind.EVENT, "contract_end"),
    ("permanent", TriggerKind.PERMANENT, ""),
])
def test_trigger_syntax(text: str, kind: TriggerKind, of: str) -> None:
    trigger = parse_trigger(text)
    assert (trigger.kind, trigger.of) == (kind, of)
    assert str(trigger) == text


@pytest.mark.parametrize("kwargs, message", [
    (dict(trigger="when_i_feel_like_it"), "trigger 'when_i_feel_like_it' is unknown"),
    (dict(retention='retention.SI = { years = 10, basis = "x" }'), "retention for EE is missing"),
    (dict(retention='retention.SI = { years = 10, basis = "x" }\nretention.EE = { years = 7 }'),
     "needs a basis"),
    (dict(retention='retention.SI = { years = -1, basis = "x" }\nretention.EE = { years = 7, basis = "y" }'),
     "whole number of years"),
    (dict(retention=GOOD_RETENTION + '\nretention.LV = { years = 1, basis = "x" }'), "unknown jurisdictions"),
    (dict(slug="unsorted"), "slug 'unsorted' is used twice"),
    (dict(code="09"), "code 09 is used twice"),
    (dict(slug="Pogodbe Šef"), "lower-case ASCII"),
    (dict(code="3-1"), "the code must look like"),
    (dict(action="shred"), "action must be one of"),
    (dict(action="permanent"), "action permanent needs permanent periods"),
    (dict(trigger="permanent"), "permanent trigger needs permanent periods"),
])
def test_invalid_plans_fail_with_one_sentence(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(PlanError, match=message) as info:
        parse_plan(_plan(**kwargs), source="plan.toml")
    assert str(info.value).startswith("plan.toml") and "\n" not in str(info.value)


def test_missing_schema_and_bad_toml() -> None:
    with pytest.raises(PlanError, match="schema"):
        parse_plan("[[class]]\ncode = '09'\n")
    with pytest.raises(PlanError, match="not valid TOML"):
        parse_plan("schema = ")


def test_exactly_one_unsorted_class() -> None:
    text = _plan().replace("unsorted = true\n", "")
    with pytest.raises(PlanError, match="exactly one class must be marked unsorted"):
        parse_plan(text)
