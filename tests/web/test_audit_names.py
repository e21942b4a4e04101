"""Every kind of audit entry the code can write has a human name in sl, et and en (issue 18, item 7).

The kinds come from the one registry, records.audit_actions.KINDS; a walk of the source finds every
action the code hands to an audit event (a literal, or a module constant) and fails when one is missing
from the registry, so a new kind cannot reach the audit page as a raw "record.something"."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask

from records.audit import AuditEvent
from records.audit_actions import KINDS, OUTCOMES
from web import audit_names

ROOT = Path(__file__).resolve().parents[2]
# The functions that take the action as their first argument (or `action=`), and where it is the n-th.
AUDIT_CALLS = {"event": 0, "_event": 0, "_audited": 3, "_put": 3, "_save_audited": 1, "audit": 0, "change": 4,
               "_change": 4, "_store_audited": 5}
# Keyword arguments that name an action (a case file's closing writes one kind for itself, one per record).
ACTION_KEYWORDS = ("action", "record_action")
# Call sites that pass the action on from their own parameter (checked where their callers name it).
PASS_THROUGH = {("records/events.py", "action"), ("records/accounts.py", "action"), ("vault/home.py", "action"),
                ("records/retrieval.py", "action"), ("records/filing.py", "action"), ("web/blueprints/guard.py", "action"),
                ("vault/slotstate.py", "recorded"), ("records/meetings.py", "action"),  # another function named _event (its kinds are constants)
                ("records/casefile_closing.py", "action"), ("records/casefile_closing.py", "record_action")}


def _constants(tree: ast.Module) -> dict[str, str]:
    return {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
            and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
            for t in n.targets if isinstance(t, ast.Name)}


def emitted_kinds() -> tuple[set[str], set[tuple[str, str]]]:
    """(every action the code names at an audit call, the call sites it could not read)."""
    kinds: set[str] = set()
    unknown: set[tuple[str, str]] = set()
    for package in ("records", "vault", "indexer", "web"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text())
            constants = _constants(tree)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                args = [k.value for k in node.keywords if k.arg in ACTION_KEYWORDS]
                if name in AUDIT_CALLS and len(node.args) > AUDIT_CALLS[name]:
                    args.append(node.args[AUDIT_CALLS[name]])
                if name == "AuditEvent" or name in AUDIT_CALLS:
                    for arg in args:
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            kinds.add(arg.value)
                        elif isinstance(arg, ast.Name) and arg.id in constants:
                            kinds.add(constants[arg.id])
                        else:
                            unknown.add((str(path.relative_to(ROOT)), ast.unparse(arg)))
    return kinds, unknown


def test_every_action_the_code_writes_is_in_the_registry() -> None:
    kinds, unknown = emitted_kinds()
    assert len(kinds) > 30  # the walk really finds the call sites
    assert sorted(kinds - KINDS) == []
    assert {"casefile.close.record", "casefile.reopen.record"} <= kinds  # named by keyword, one call apart
    assert {u for u in unknown if u not in PASS_THROUGH and not u[0].startswith("web/cli")} <= {
        ("web/blueprints/record_edit.py", "request.path"), ("records/retention.py", "cls.action"),
        ("records/disposition.py", "action"), ("records/audit.py", "doc['action']")}, unknown


@pytest.mark.parametrize("lang", ["sl", "et"])
def test_every_action_and_outcome_has_a_translated_name(lang: str) -> None:
    with (ROOT / "web" / "translations" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        translated = {m.id: m.string for m in read_po(fh) if m.id}
    for kind in sorted(KINDS):
        assert kind in audit_names.ACTIONS, kind
        assert translated.get(str(audit_names.ACTIONS[kind]._args[0])), (lang, kind)  # type: ignore[attr-defined]
    for outcome in sorted(OUTCOMES):
        assert outcome in audit_names.OUTCOMES, outcome
        assert translated.get(str(audit_names.OUTCOMES[outcome]._args[0])), (lang, outcome)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("lang", "kind", "expected"), [("sl", "hold.add", "Uničenje zadržano"),
                                                         ("et", "record.view", "Avatud"),
                                                         ("en", "record.download", "Downloaded")])
def test_names_in_each_language(app: Flask, lang: str, kind: str, expected: str) -> None:
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        assert audit_names.action(kind) == expected
        assert audit_names.outcome("denied") != "denied"


def test_details_are_named_and_paired(app: Flask) -> None:
    from datetime import datetime, timezone
    edit = AuditEvent(ts=datetime.now(timezone.utc), actor="anna", action="record.edit", details=(
        ("fields", "notice_days,expiry"), ("notice_days.old", "10"), ("notice_days.new", "30"),
        ("expiry.new", "2031-12-31"), ("title.old", "hmac:ab12")))
    with app.test_request_context("/", headers={"Accept-Language": "sl"}):
        assert audit_names.details(edit) == ["Odpovedni rok (dni): 10 → 30", "Poteče: — → 31. 12. 2031"]


def test_case_file_details_are_named_and_ids_hidden(app: Flask) -> None:
    """A case file and a decision are named by their numbers; their internal ids are never shown, while a
    review's "decision" (a verdict, not an id) still is."""
    from datetime import datetime, timezone
    now = datetime.now(timezone.utc)
    issued = AuditEvent(ts=now, actor="anna", action="decision.issue", details=(
        ("decision", "124909f01005"), ("number", "Z-02.6-1/2026-1"), ("casefile", "084efeb26245"),
        ("issued_on", "2026-12-04"), ("joined_casefile", "yes"), ("identified_by", "os-user")))
    reopened = AuditEvent(ts=now, actor="anna", action="casefile.reopen", details=(
        ("casefile", "084efeb26245"), ("number", "Z-02.6-1/2026"), ("was_closed_on", "2026-03-01"),
        ("restamped", "1"), ("retention", "earlier")))
    review = AuditEvent(ts=now, actor="anna", action="review.decide", details=(("decision", "keep"),))
    with app.test_request_context("/", headers={"Accept-Language": "sl"}):
        assert audit_names.details(issued) == ["Številka: Z-02.6-1/2026-1", "Izdana dne: 4. 12. 2026",
                                               "Dodana v zadevo: da",
                                               "Istovetnost potrjena z: uporabniški račun računalnika"]
        assert audit_names.details(reopened) == ["Številka: Z-02.6-1/2026", "Prej zaključena dne: 1. 3. 2026",
                                                 "Zapisi z novim rokom hrambe: 1", "Sprememba roka hrambe: prej kot doslej"]
        assert audit_names.details(review) == [f"{audit_names.DETAILS['decision']}: {audit_names.VALUES['keep']}"]
        assert audit_names.action("casefile.close.record") == "Hramba se je začela z zaključkom zadeve"
