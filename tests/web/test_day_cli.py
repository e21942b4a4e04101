"""The CLI twins of the record page and the registers (issue 18 item 9, and its CLI findings): event, pay,
registers contracts|invoices|correspondence with --json and --csv, dates as 31.12.2031, the person at the
terminal named in edit entries, an unknown search class named."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest

from tests.records.test_cli import cli_home, run  # noqa: F401 - the fixture is used by name
from tests.records.test_tampering import _audit, _import


def test_registers_contracts_prints_dates_and_lists_contracts_without_fields(
        cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    rid = _import(tmp_path, capsys, "najem.txt", "contracts", "31.1.2026")  # a local date on import
    code, out, err = run(["registers", "contracts"], capsys)
    assert code == 0 and "najem" in out and "empty" not in out, err  # listed before any field is entered
    code, out, err = run(["edit", rid, "--set", "expiry=31. 12. 2031", "--set", "notice_days=90",
                          "--set", "auto_renewal=yes", "--set", "parties=Najemodajalec d.o.o."], capsys)
    assert code == 0, err
    code, out, err = run(["registers", "contracts"], capsys)
    assert "expiry 2031-12-31 notice by 2031-10-02" in out and "<10" not in out, out
    rows = json.loads(run(["registers", "contracts", "--json"], capsys)[1])
    assert rows[0]["notice_deadline"] == "2031-10-02" and rows[0]["auto_renewal"] is True
    assert rows[0]["parties"] == ["Najemodajalec d.o.o."]
    target = tmp_path / "pogodbe.csv"
    code, out, err = run(["registers", "contracts", "--csv", str(target)], capsys)
    assert code == 0 and target.read_bytes().startswith("\ufeffregistry_number;".encode()), err


def test_event_starts_the_clock_and_pay_marks_an_invoice_paid(
        cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    contract = _import(tmp_path, capsys, "pog.txt", "contracts", "2026-01-10")
    code, out, err = run(["event", contract, "contract_end", "15.3.2026", "--json"], capsys)
    assert code == 0, err
    shown = json.loads(out)
    assert shown["retention_trigger"] == "2026-03-15" and shown["extra"]["event.contract_end"] == "2026-03-15"
    code, _, err = run(["event", contract, "nonsense", "15.3.2026"], capsys)
    assert code == 1 and "contract_end" in err and err.count("\n") == 1
    code, _, err = run(["event", contract, "contract_end", "32.3.2026"], capsys)
    assert code == 2 and "31.12.2031" in err

    invoice = _import(tmp_path, capsys, "racun.txt", "invoices", "2026-01-10")
    assert run(["edit", invoice, "--set", "amount=100,50", "--set", "due_date=1.2.2026",
                "--set", "issuer=Dobavitelj"], capsys)[0] == 0
    assert json.loads(run(["registers", "invoices", "--overdue", "--json"], capsys)[1])["totals"][0]["overdue"] \
        == "100.50"
    code, out, err = run(["pay", invoice, "--on", "2. 3. 2026", "--reference", "SI00 1", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["details"]["paid_on"] == "2026-03-02"
    assert json.loads(run(["registers", "invoices", "--unpaid", "--json"], capsys)[1])["invoices"] == []
    code, _, err = run(["pay", contract, "--on", "2026-03-02"], capsys)
    assert code == 1 and "not an invoice" in err
    code, out, _ = run(["registers", "correspondence", "--json"], capsys)
    assert code == 0 and json.loads(out) == []


def test_cli_edits_name_the_person_and_how_they_were_identified(
        cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    rid = _import(tmp_path, capsys, "dopis.txt", "correspondence", "2026-01-10")
    assert run(["edit", rid, "--set", "title=Dopis"], capsys)[0] == 0
    entry = _audit(capsys, "record.edit")[-1]
    assert entry["actor"] == f"os:{getpass.getuser()}" and entry["details"]["identified_by"] == "os-user"
    monkeypatch.setenv("STRONGROOM_USER_PASSWORD", "a long password")
    assert run(["user", "add", "tina", "--role", "secretary", "--clearance", "secret"], capsys)[0] == 0
    assert run(["edit", rid, "--set", "title=Dopis 2", "--as", "tina"], capsys)[0] == 0
    entry = _audit(capsys, "record.edit")[-1]
    assert entry["actor"] == "tina" and entry["details"]["identified_by"] == "password"


def test_search_names_an_unknown_class(cli_home: Path, tmp_path: Path,  # noqa: F811
                                       capsys: pytest.CaptureFixture[str]) -> None:
    _import(tmp_path, capsys, "dopis.txt", "correspondence", "2026-01-10")
    code, _, err = run(["search", "class:nosuch"], capsys)
    assert code == 1 and "'nosuch'" in err and err.count("\n") == 1
    assert run(["search", "dopis class:04.1"], capsys)[0] == 0
