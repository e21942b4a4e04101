"""`strongroom casefile ...` and `strongroom decisions` end to end on a real home (issue 22 items 4 and 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.records.test_cli import cli_home, run  # noqa: F401 - the CLI fixture


def _import(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str], record_class: str) -> str:
    source = tmp_path / name
    source.write_text(f"{name} text\n", encoding="utf-8")
    code, out, err = run(["import", str(source), "--class", record_class, "--principal", "ceo", "--json"], capsys)
    assert code == 0, err
    return str(json.loads(out)[0]["registry_number"])


def test_a_case_file_from_opening_to_closing_on_the_command_line(cli_home: Path, tmp_path: Path,  # noqa: F811
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["casefile", "new", "--title", "Hiring a bookkeeper", "--class", "applicants",
                          "--principal", "ceo", "--opened", "2.1.2026", "--json"], capsys)
    assert code == 0, err
    opened = json.loads(out)
    number = opened["number"]
    assert number.startswith("Z-02.6-") and number.endswith("/2026") and opened["state"] == "open"
    cv = _import(tmp_path, "cv.txt", capsys, "applicants")
    nda = _import(tmp_path, "nda.txt", capsys, "contracts")
    code, out, err = run(["casefile", "add", number, cv, nda], capsys)
    assert code == 0 and out.count("Added") == 2, err
    code, out, err = run(["casefile", "add", number, cv], capsys)
    assert code == 1 and "already" in err and "Traceback" not in err

    code, out, err = run(["casefile", "close", number, "--dry-run", "--json"], capsys)
    assert code == 0, err
    preview = {r["registry_number"]: r for r in json.loads(out)["records"]}
    assert preview[cv]["starts"] and preview[cv]["retention_until_after"]
    code, out, err = run(["casefile", "show", number, "--json"], capsys)
    assert json.loads(out)["state"] == "open"  # a dry run changes nothing

    code, out, err = run(["casefile", "hold", number, "--reason", "Claim by a candidate", "--json"], capsys)
    assert code == 0, err
    hold_id = json.loads(out)["hold"]
    code, out, err = run(["casefile", "close", number], capsys)
    assert code == 0 and f"Closed {number}" in out, err
    code, out, err = run(["casefile", "show", number, "--json"], capsys)
    shown = json.loads(out)
    assert shown["state"] == "closed" and shown["holds"][0]["id"] == hold_id
    until = {r["registry_number"]: r["retention_until"] for r in shown["records"]}
    assert until[cv] and until[nda] is None

    code, out, err = run(["casefile", "list", "--state", "closed", "--json"], capsys)
    assert [(c["number"], c["records"]) for c in json.loads(out)] == [(number, 2)]
    code, out, err = run(["casefile", "reopen", number], capsys)
    assert code == 2  # --reason is required
    code, out, err = run(["casefile", "reopen", number, "--reason", "Appeal", "--json"], capsys)
    assert code == 0 and json.loads(out)["state"] == "open", err

    decision = _import(tmp_path, "odlocba.txt", capsys, "applicants")
    code, out, err = run(["casefile", "decide", number, decision, "--addressee", "Ana Novak", "--subject",
                          "Not selected", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["number"] == f"{number}-1"
    code, out, err = run(["decisions", "--json"], capsys)
    assert [(d["number"], d["addressee"], d["record"]) for d in json.loads(out)] == [(f"{number}-1", "Ana Novak",
                                                                                     decision)]
    sheet = tmp_path / "decisions.csv"
    code, out, err = run(["decisions", "--csv", str(sheet)], capsys)
    assert code == 0 and sheet.read_bytes().startswith(b"\xef\xbb\xbfnumber;issued_on;"), err
    code, out, err = run(["casefile", "remove", number, nda, "--reason", "Wrong case"], capsys)
    assert code == 0, err
