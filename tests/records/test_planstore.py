"""Issue 19 item 2: the plan sealed in the catalogue and versioned. Existing homes migrate on open (one audit
entry, nothing lost), changes come only through an audited import, and verify notices a stored plan its audit
trail does not confirm."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from records import planstore, safeguards
from records.access import AccessScope
from records.errors import PlanChangeRefused, PlanError
from records.model import Confidentiality, Role, User
from records.plan import default_plan_text
from tests.conftest import PASSPHRASE
from tests.records.conftest import NOW, PlainExtractor
from tests.records.test_cli import cli_home, run  # noqa: F401 - the fixture is used by name
from tests.records.test_tampering import _audit, _import
from vault import Home, open_home
from web.office import Office
from web.settings import Settings

TODAY = date.today()
LEGACY = default_plan_text().replace('schema = "strongroom-plan/v1"\n',
                                     'schema = "strongroom-plan/v1"\nfiscal_year_end = "03-31"\n')


def _office(home: Home) -> Office:
    return Office(home, Settings.load({"home": str(home.path)}, environ={}), extractor=PlainExtractor())


def _plan_entries(home: Home) -> list[dict[str, str]]:
    return [dict(e.event.details) for e in home.catalog.audit_entries() if e.event.action.startswith("plan.")]


def test_an_existing_home_migrates_its_plan_toml_once_with_its_financial_year(home: Home) -> None:
    (home.path / "plan.toml").write_text(LEGACY, encoding="utf-8")  # a home from before the sealed plan
    office = _office(home)
    version = planstore.current(home.catalog)
    assert version is not None and version.version == 1 and version.source == "plan.toml"
    assert "fiscal_year_end =" not in version.text and office.plan.fiscal_year_end == (3, 31)
    assert safeguards.current(home.catalog).financial_year_end == "03-31"  # sealed from the old plan
    assert office.plan.by_code() .keys() == planstore.current(home.catalog).plan().by_code().keys()  # type: ignore[union-attr]
    assert [(d["version"], d["source"]) for d in _plan_entries(home)] == [("1", "plan.toml")]
    _office(home)  # a second open migrates nothing
    assert len(_plan_entries(home)) == 1
    (home.path / "plan.toml").write_text(LEGACY.replace("years = 10,", "years = 1,"), encoding="utf-8")
    assert _office(home).plan.resolve("invoices").period("SI").years == 10  # the file is not the plan
    report = _office(home).verify(signature_valid=lambda *_: True)
    assert report.sound and any("plan.toml differs from the plan in force" in n for n in report.notes)


def test_a_home_without_plan_toml_starts_from_the_default(home: Home) -> None:
    _office(home)
    version = planstore.current(home.catalog)
    assert version is not None and version.source == "the default plan"
    assert version.sha256 == planstore.sha256_of(default_plan_text())


def test_verify_reports_a_stored_plan_its_audit_trail_does_not_confirm(home: Home) -> None:
    """Someone with the passphrase writes a plan straight into the catalogue, past `plan import`."""
    office = _office(home)
    assert office.verify(signature_valid=lambda *_: True).sound
    forged = planstore.PlanVersion(version=2, sha256=planstore.sha256_of("x"), text=default_plan_text().replace(
        'years = 5, policy = true, basis = "policy: no statute', 'years = 1, policy = true, basis = "policy: no statute'),
        at=NOW, by="mallory", source="plan.toml")
    with home.catalog.transaction() as tx:
        planstore._put(tx, forged)  # noqa: SLF001 - the attack bypasses the use case
    problems = office.verify(signature_valid=lambda *_: True).problems
    assert any("stored plan version 2 does not match its audit trail" in p for p in problems)
    assert any("newest plan version is 1" in p for p in problems)


def test_import_is_for_admins_refuses_a_class_in_use_and_a_stale_preview(home: Home, tmp_path: Path) -> None:
    office = _office(home)
    ports = office.ports
    from records.filing import FilingRequest, file_document
    source = tmp_path / "letter.txt"
    source.write_text("Dear Sir\n", encoding="utf-8")
    file_document(ports, office.plan, source, FilingRequest(original_name="letter.txt", actor="tina",
                                                            record_class="press"), jurisdiction="SI", now=NOW)
    text = planstore.current(home.catalog).text  # type: ignore[union-attr]
    start = text.index('[[class]]\ncode = "04.5"')
    without_press = text[:start] + text[text.index("[[class]]", start + 5):]
    with pytest.raises(PlanChangeRefused, match="drops class.*04.5.*still hold records"):
        planstore.preview(ports, without_press, source="p.toml", jurisdiction="SI", today=TODAY)
    with pytest.raises(PlanError, match="fiscal_year_end to 06-30"):
        planstore.preview(ports, "fiscal_year_end = \"06-30\"\n" + text, source="p.toml", jurisdiction="SI", today=TODAY)
    longer = text.replace('slug = "press"', 'slug = "press-and-pr"')
    change = planstore.preview(ports, longer, source="p.toml", jurisdiction="SI", today=TODAY)
    assert [c.line().strip() for c in change.diff.changes] == ["slug: press -> press-and-pr"]
    secretary = AccessScope.of(User("tina", Role.SECRETARY, Confidentiality.SECRET))
    with pytest.raises(Exception, match="may not change the classification plan"):
        planstore.import_plan(ports, secretary, change, now=NOW)
    other = planstore.preview(ports, text + "\n# a comment\n", source="q.toml", jurisdiction="SI", today=TODAY)
    assert other.diff.empty and planstore.import_plan(ports, AccessScope.system(), other, now=NOW) is not None
    with pytest.raises(PlanChangeRefused, match="changed while this import was prepared"):
        planstore.import_plan(ports, AccessScope.system(), change, now=NOW)
    assert planstore.version_in_force(home.catalog) == 2


def test_plan_commands_export_edit_import_history(cli_home: Path, tmp_path: Path,  # noqa: F811
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    contract = _import(tmp_path, capsys, "pogodba.txt", "04.1", f"{TODAY.year - 1}-03-03")
    exported = tmp_path / "plan.toml"
    code, out, err = run(["plan", "export", "-o", str(exported)], capsys)
    assert code == 0 and "Wrote plan version 1" in out, err
    text = exported.read_text(encoding="utf-8")
    start = text.index('code = "04.1"')
    block_end = text.index("[[class]]", start)
    edited = text[:start] + text[start:block_end].replace("years = 5,", "years = 7,") + text[block_end:]
    edited += ('\n[[class]]\ncode = "05.7"\nslug = "visitors"\nnames = { sl = "Knjiga obiskov", '
               'et = "Külastajate raamat", en = "Visitor book" }\ntrigger = "calendar_year_end(document_date)"\n'
               'action = "destroy"\nretention.SI = { years = 1, policy = true, basis = "policy: security" }\n'
               'retention.EE = { years = 1, policy = true, basis = "policy: security" }\n')
    exported.write_text(edited, encoding="utf-8")

    code, out, err = run(["plan", "import", str(exported), "--yes"], capsys)
    assert code == 0, err
    assert "Plan version 1 -> 2 (plan.toml):" in out and "~ 04.1" in out and "+ 05.7" in out
    assert "    retention.SI.years: 5 -> 7" in out and "    slug: - -> visitors" in out
    assert f"[04.1]: kept until {TODAY.year + 4}-12-31 -> kept until {TODAY.year + 6}-12-31" in out
    assert "The plan is now version 2 (was 1)." in out
    assert (cli_home / "inbox" / "visitors").is_dir()  # the new class has its drop folder
    assert (cli_home / "plan.toml").read_text(encoding="utf-8") == edited  # the home's copy shows the plan in force
    code, out, _ = run(["show", contract, "--json"], capsys)
    assert json.loads(out)["retention_until"] == f"{TODAY.year + 4}-12-31"  # stored; the longer plan decides

    code, out, _ = run(["plan", "import", str(exported)], capsys)
    assert code == 0 and "is the plan in force (version 2): nothing changed" in out
    code, out, _ = run(["plan", "history", "--json"], capsys)
    versions = json.loads(out)
    assert [(v["version"], v["source"]) for v in versions] == [(1, "plan.toml"), (2, "plan.toml")]
    code, out, _ = run(["plan", "history"], capsys)
    assert out.startswith("v1") and "os:" in out  # the person at the terminal, named by the OS account
    entry = _audit(capsys, "plan.change")[-1]["details"]
    assert (entry["04.1.retention.SI.years.old"], entry["04.1.retention.SI.years.new"]) == ("5", "7")
    assert entry["added"] == "05.7" and entry["records.changed"] == "1" and entry["records.shortened"] == "0"
    code, out, _ = run(["plan", "show"], capsys)
    assert "Plan version 2" in out and "05.7" in out and "SI 7* y from calendar_year_end(document_date)" in out
    old = tmp_path / "v1.toml"
    assert run(["plan", "export", "-o", str(old), "--version", "1"], capsys)[0] == 0
    assert old.read_text(encoding="utf-8") == text
    code, _, err = run(["plan", "export", "-o", str(old), "--version", "9"], capsys)
    assert code == 2 and "no plan version 9" in err
    shipped = tmp_path / "default.toml"
    assert run(["plan", "export", "-o", str(shipped), "--default"], capsys)[0] == 0
    assert shipped.read_text(encoding="utf-8") == default_plan_text()
    assert run(["verify"], capsys)[0] == 0


def test_the_financial_year_end_is_sealed_and_moves_invoice_due_dates(cli_home: Path, tmp_path: Path,  # noqa: F811
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    (cli_home / "strongroom.toml").write_text('financial_year_end = "03-31"\n', encoding="utf-8")
    invoice = _import(tmp_path, capsys, "racun.txt", "invoices", "2025-05-10")
    code, out, _ = run(["show", invoice, "--json"], capsys)
    assert json.loads(out)["retention_until"] == "2036-03-31"  # 31 March 2026 + 10 (later than 31 Dec 2025)
    code, out, _ = run(["settings", "show", "--json"], capsys)
    assert {r["setting"]: r["value"] for r in json.loads(out)}["financial-year-end"] == "03-31"
    (cli_home / "strongroom.toml").write_text('financial_year_end = "12-31"\n', encoding="utf-8")  # no passphrase
    code, out, _ = run(["verify"], capsys)
    assert code == 3 and "sets financial_year_end to 12-31, but the sealed value is 03-31" in out
    code, _, err = run(["settings", "set", "financial-year-end", "02-29"], capsys)
    assert code == 1 and "not a month-day" in err
    code, out, err = run(["settings", "set", "financial-year-end", "12-31"], capsys)
    assert code == 0 and "now 12-31 (was 03-31)" in out, err


def test_migration_keeps_everything_a_home_filed(home_path: Path) -> None:
    """An existing home with records opens, migrates, and every record resolves in the stored plan."""
    with open_home(home_path, PASSPHRASE) as home:
        office = _office(home)
        assert all(office.plan.resolve(r.record_class) for r in home.catalog.find())
