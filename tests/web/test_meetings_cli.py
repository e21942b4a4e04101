"""Meetings, the resolutions register and meeting packs through the CLI (issue 22 items 1-3, 5): numbering
per body and year, agenda and materials, minutes filed with the meeting's fields, resolutions open/done/
overdue with --json and --csv, packs read back with pypdf, access filtering, audit entries, no plaintext."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.records.test_cli import cli_home, run  # noqa: F401 - the fixture is used by name
from tests.records.test_filing import make_pdf
from tests.records.test_tampering import _audit

Scan = Callable[[Iterable[Path | str], Iterable[str]], list[str]]


def _file(tmp_path: Path, capsys: pytest.CaptureFixture[str], path: Path, cls: str, *extra: str) -> str:
    code, out, err = run(["import", str(path), "--class", cls, "--json", *extra], capsys)
    assert code == 0, err
    return str(json.loads(out)[0]["id"])


def _json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> object:
    code, out, err = run([*argv, "--json"], capsys)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def users(cli_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("STRONGROOM_USER_PASSWORD", "a long password")
    assert run(["user", "add", "ana", "--role", "manager", "--clearance", "secret"], capsys)[0] == 0
    assert run(["user", "add", "bor", "--role", "manager", "--clearance", "internal"], capsys)[0] == 0


def test_a_board_meeting_from_agenda_to_pack_and_resolutions(
        cli_home: Path, users: None, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        canary_scan: Scan) -> None:
    first = _json(["meeting", "new", "--body", "uprava", "--date", "12.3.2026", "--place", "Sejna soba Kvarnerovka",
                   "--participant", "Ana Žužek=ana", "--participant", "Bor Õunapuu=bor",
                   "--participant", "Cene Zunanji", "--confidentiality", "internal"], capsys)
    assert isinstance(first, dict) and first["number"] == "1/2026" and first["record_class"] == "00.4"
    second = _json(["meeting", "new", "--body", "uprava", "--date", "2026-04-02"], capsys)
    other = _json(["meeting", "new", "--body", "nadzorni-svet", "--date", "2026-04-02"], capsys)
    assert isinstance(second, dict) and isinstance(other, dict)
    assert (second["number"], other["number"]) == ("2/2026", "1/2026")  # per body and year
    mid = first["id"]
    for title in ("Letno poročilo Kvarnerovka", "Nakup opreme", "Razno"):
        assert run(["meeting", "agenda-add", mid, title], capsys)[0] == 0

    report = _file(tmp_path, capsys, make_pdf(tmp_path / "porocilo.pdf", ["Letno porocilo Kvarnerovka"]),
                   "board", "--confidentiality", "internal")
    secret = _file(tmp_path, capsys, make_pdf(tmp_path / "tajno.pdf", ["Tajni dodatek Kvarnerovka"]),
                   "board", "--confidentiality", "secret")
    note = tmp_path / "opomba.docx"
    note.write_bytes(_docx("Opomba Kvarnerovka"))
    assert run(["meeting", "material-add", mid, "1", report], capsys)[0] == 0
    assert run(["meeting", "material-add", mid, "1", secret], capsys)[0] == 0
    code, out, err = run(["meeting", "material-add", mid, "2", "--file", str(note), "--class", "board", "--json"],
                         capsys)
    assert code == 0 and json.loads(out)["status"] == "filed", err
    shown = _json(["meeting", "show", f"uprava/{first['number']}"], capsys)
    assert isinstance(shown, dict)
    assert [len(i["materials"]) for i in shown["agenda"]] == [2, 1, 0]
    assert shown["agenda"][1]["materials"][0]["pack"] == "office"

    # Bor (clearance internal) sees neither the secret material nor any count of it.
    code, out, err = run(["meeting", "show", mid, "--json", "--as", "bor"], capsys)
    assert code == 0, err
    assert [len(i["materials"]) for i in json.loads(out)["agenda"]] == [1, 0, 0]  # the .docx is confidential too

    packs = {}
    for who in ("ana", "bor"):
        target = tmp_path / f"pack-{who}.pdf"
        code, out, err = run(["meeting", "pack", mid, "--for", who, "--out", str(target), "--json"], capsys)
        assert code == 0, err
        packs[who] = PdfReader(io.BytesIO(target.read_bytes()))
    ana, bor = packs["ana"], packs["bor"]
    assert len(ana.pages) == 4 and len(bor.pages) == 3  # cover, agenda, then one page per readable PDF
    for reader, name in ((ana, "Ana Žužek"), (bor, "Bor Õunapuu")):
        for page in reader.pages:
            assert f"Confidential — for: {name}, " in page.extract_text()
        titles = [o.title for o in reader.outline if not isinstance(o, list)]
        assert titles[:2] == ["Cover", "Agenda"]
        assert titles[2:] == ["1. Letno poročilo Kvarnerovka", "2. Nakup opreme", "3. Razno"]
    assert "Tajni dodatek" in ana.pages[3].extract_text()
    assert "Tajni" not in "".join(p.extract_text() for p in bor.pages)
    assert "opomba.docx" in ana.pages[0].extract_text() or "opomba" in ana.pages[0].extract_text()
    assert "Word or OpenDocument" in ana.pages[0].extract_text()
    code, _, err = run(["meeting", "pack", mid, "--for", "Cene Zunanji", "--out", str(tmp_path / "c.pdf")], capsys)
    assert code == 1 and "no enabled Strongroom account" in err and err.count("\n") == 1
    entries = _audit(capsys, "meeting.pack")
    assert [(e["details"]["recipient"], e["details"]["version"]) for e in entries] == [("ana", "7"), ("bor", "7")]

    minutes = make_pdf(tmp_path / "zapisnik.pdf", ["Zapisnik seje uprave Kvarnerovka"])
    code, out, err = run(["meeting", "minutes", mid, "--file", str(minutes), "--json"], capsys)
    assert code == 0, err
    record = _json(["show", json.loads(out)["record_id"]], capsys)
    assert isinstance(record, dict) and record["record_class"] == "00.4"
    assert record["details"]["session_number"] == "1/2026" and record["details"]["body"] == "Uprava"

    for text, due in (("Sprejme letno poročilo", "1.1.2026"), ("Kupi opremo", "31.12.2099")):
        assert run(["meeting", "resolve", mid, "1", text, "--owner", "Ana", "--due", due], capsys)[0] == 0
    register = _json(["resolutions"], capsys)
    assert isinstance(register, list)
    assert [(r["number"], r["status"]) for r in register] == [("1/2026-1", "overdue"), ("1/2026-2", "open")]
    assert run(["resolutions", "done", "1/2026-1", "--on", "2.2.2026"], capsys)[0] == 0
    assert [r["status"] for r in _json(["resolutions", "--status", "done"], capsys)] == ["done"]  # type: ignore[union-attr]
    assert [r["number"] for r in _json(["resolutions", "--status", "open"], capsys)] == ["1/2026-2"]  # type: ignore[union-attr]
    target = tmp_path / "sklepi.csv"
    assert run(["resolutions", "--csv", str(target)], capsys)[0] == 0
    text = target.read_bytes().decode("utf-8")
    assert text.startswith("\ufeffnumber;body;meeting;") and "Kupi opremo" in text and text.count("\r\n") == 3
    assert [e["action"] for e in _audit(capsys, "resolution.done")] == ["resolution.done"]

    # Nothing of the meeting, its agenda or the watermark lies in plaintext in the home or $TMPDIR.
    assert canary_scan([cli_home, tmp_path / "tmpdir"], ["Kvarnerovka", "Žužek", "Õunapuu", "Sprejme"]) == []
    code, out, _ = run(["search", "Žužek", "--json"], capsys)
    assert code == 0 and json.loads(out)["total"] == 0  # the watermark is indexed nowhere


def test_bodies_are_configurable_by_an_administrator(cli_home: Path, users: None, tmp_path: Path,  # noqa: F811
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    codes = [b["code"] for b in _json(["meeting", "bodies"], capsys)]  # type: ignore[union-attr]
    assert codes == ["uprava", "nadzorni-svet", "skupscina", "kolegij"]  # the SI default
    source = tmp_path / "bodies.json"
    source.write_text(json.dumps([{"code": "odbor", "names": {"sl": "Revizijska komisija", "et": "Auditikomitee",
                                                              "en": "Audit committee"}, "record_class": "00.3"}]))
    code, _, err = run(["meeting", "bodies", "--set", str(source), "--as", "ana"], capsys)
    assert code == 1 and "may not change the list of bodies" in err
    shown = _json(["meeting", "bodies", "--set", str(source)], capsys)
    assert shown == [{"code": "odbor", "names": {"sl": "Revizijska komisija", "et": "Auditikomitee",
                                                 "en": "Audit committee"}, "record_class": "00.3"}]
    made = _json(["meeting", "new", "--body", "odbor", "--date", "1.2.2026"], capsys)
    assert isinstance(made, dict) and made["record_class"] == "00.3" and made["body_name"] == "Audit committee"
    code, _, err = run(["meeting", "new", "--body", "uprava", "--date", "1.2.2026"], capsys)
    assert code == 1 and "odbor" in err


def _docx(text: str) -> bytes:
    from docx import Document
    doc = Document()
    doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
