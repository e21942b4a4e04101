"""The records commands end to end on a real home: import, show, get, edit, holds, dispose, users, audit, verify."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from records.audit import GENESIS, first_break
from records.plan import default_plan_text
from tests.conftest import PASSPHRASE
from tests.records.test_filing import make_pdf
from vault import open_home
from web.cli import main
from web.office import furnish
from web.settings import Settings

Scan = Callable[[Iterable[Path | str], Iterable[str]], list[str]]
CANARIES = ["Kvarkadabra", "Zlatorogovski", "Bukovnisko", "Triglavnica"]


@pytest.fixture
def cli_home(home_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fast-KDF home furnished as `init` does (plan, drop folders, index, web key) and a private $TMPDIR."""
    for name in list(os.environ):
        if name.startswith("STRONGROOM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STRONGROOM_HOME", str(home_path))
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", PASSPHRASE)
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    with open_home(home_path, PASSPHRASE) as home:
        furnish(home, Settings.load({"home": str(home_path)}))
    return home_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_furnishing_a_home_copies_the_default_plan_once(home_path: Path) -> None:
    assert (home_path / "plan.toml").exists() is False
    settings = Settings.load({"home": str(home_path)}, environ={})
    with open_home(home_path, PASSPHRASE) as home:
        made = furnish(home, settings)
        assert made == ["plan", "drop folders", "search index", "web secret key"]
        assert (home_path / "plan.toml").read_text(encoding="utf-8") == default_plan_text()
        assert furnish(home, settings) == []  # nothing twice: `restore` runs it on a restored home


def test_import_show_get_and_no_plaintext(cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          canary_scan: Scan) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    txt = docs / "Kvarkadabra-pogodba.txt"
    txt.write_text("Pogodba Bukovnisko, dobava Triglavnica.\n", encoding="utf-8")
    pdf = make_pdf(docs / "sub" / "Zlatorogovski.pdf", ["Zapisnik Bukovnisko"], title="Triglavnica zapisnik")
    (docs / "~$lock.docx").write_bytes(b"lock")
    code, out, err = run(["import", str(docs), "--class", "contracts", "--principal", "ceo", "--json"], capsys)
    assert code == 0, err
    rows = json.loads(out)
    assert sorted(Path(r["path"]).name for r in rows) == ["Kvarkadabra-pogodba.txt", "Zlatorogovski.pdf"]
    assert all(r["status"] == "filed" and r["id"] for r in rows)
    assert canary_scan([cli_home, tmp_path / "tmpdir"], CANARIES) == []

    code, out, _ = run(["import", str(txt), "--json"], capsys)
    assert json.loads(out)[0]["status"] == "duplicate"

    txt_id = next(r["id"] for r in rows if r["path"].endswith(".txt"))
    code, out, err = run(["show", txt_id, "--json"], capsys)
    shown = json.loads(out)
    assert code == 0 and {"id", "registry_number", "title", "record_class", "principal", "confidentiality",
                          "document_date", "filed_at", "retention_until", "state", "holds", "sha256"} <= set(shown)
    assert shown["record_class"] == "03.1" and shown["title"] == "Kvarkadabra pogodba"
    code, out, _ = run(["show", shown["registry_number"], "--json"], capsys)
    assert json.loads(out)["id"] == txt_id

    target = tmp_path / "out" / "copy.pdf"
    target.parent.mkdir()
    pdf_id = next(r["id"] for r in rows if r["path"].endswith(".pdf"))
    code, out, err = run(["get", pdf_id, "-o", str(target)], capsys)
    assert code == 0, err
    assert target.read_bytes() == pdf.read_bytes()

    code, out, _ = run(["list", "--class", "03.1", "--json"], capsys)
    assert len(json.loads(out)) == 2
    code, _, err = run(["list", "--class", "letters"], capsys)
    assert code == 1 and "no record class 'letters'" in err and "Traceback" not in err


def test_hold_retention_dispose_cycle(cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old-letter.txt"
    old.write_text("An old letter.\n", encoding="utf-8")
    code, out, err = run(["import", str(old), "--class", "correspondence", "--document-date", "2019-04-01",
                          "--json"], capsys)
    rid = json.loads(out)[0]["id"]
    code, out, err = run(["edit", rid, "--set", "direction=out", "--set", "sender=Ana",
                          "--set", "recipients=Bor, Cene", "--set", "subject=Ponudba"], capsys)
    assert code == 0, err
    code, out, _ = run(["registers", "correspondence"], capsys)
    number = json.loads(run(["show", rid, "--json"], capsys)[1])["registry_number"]
    assert out == f"{number:<16} out 2019-04-01 Bor, Cene  Ponudba\n"
    code, out, _ = run(["retention", "due", "--as-of", "2026-01-01", "--json"], capsys)
    assert [d["id"] for d in json.loads(out)] == [rid]
    assert json.loads(out)[0]["retention_until"] == "2024-12-31"
    code, out, _ = run(["retention", "due", "--by", "1. 1. 2026", "--json"], capsys)  # the web page's twin
    assert code == 0 and [d["id"] for d in json.loads(out) if d["status"] == "due"] == [rid]
    code, out, _ = run(["retention", "due", "--by", "31.12.2024", "--json"], capsys)
    assert code == 0 and [d for d in json.loads(out) if d["status"] == "due"] == []

    assert run(["hold", "add", rid, "--reason", "Court case 12/2026"], capsys)[0] == 0
    code, out, _ = run(["retention", "due", "--as-of", "2026-01-01", "--json"], capsys)
    assert [d for d in json.loads(out) if d["status"] == "due"] == []
    code, _, err = run(["dispose", rid, "--as-of", "2999-01-01", "--yes"], capsys)
    assert code == 1 and "future day" in err
    code, _, err = run(["dispose", rid, "--as-of", "2026-01-01", "--reason", "Retention ended", "--yes"], capsys)
    assert code == 1 and "legal hold blocks" in err and "Traceback" not in err
    assert run(["hold", "release", rid, "--reason", "Case closed"], capsys)[0] == 0
    code, out, err = run(["dispose", rid, "--as-of", "2026-01-01", "--yes"], capsys)
    assert code == 1 and "needs a written justification" in err and "Traceback" not in err
    assert run(["settings", "set", "require-second-approver", "off"], capsys)[0] == 0  # an office of one
    code, out, err = run(["dispose", rid, "--as-of", "2026-01-01", "--reason", "Retention ended", "--yes"], capsys)
    assert code == 0, err
    assert "certificate" in out and '"signature"' in out

    code, out, _ = run(["show", rid, "--json"], capsys)
    assert json.loads(out)["state"] == "disposed" and json.loads(out)["title"] == ""
    code, _, err = run(["get", rid, "-o", str(tmp_path / "x")], capsys)
    assert code == 1 and "disposed of" in err and not (tmp_path / "x").exists()
    code, out, _ = run(["retention", "certificates", "--json"], capsys)
    assert json.loads(out)[0]["certificate"]["records"][0]["id"] == rid
    assert run(["verify"], capsys)[0] == 0


def test_edit_registers_missing_trigger(cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nda = tmp_path / "nda.txt"
    nda.write_text("NDA\n", encoding="utf-8")
    rid = json.loads(run(["import", str(nda), "--class", "contracts", "--json"], capsys)[1])[0]["id"]
    code, out, _ = run(["retention", "missing-trigger", "--json"], capsys)
    assert [d["id"] for d in json.loads(out)] == [rid]
    code, out, err = run(["edit", rid, "--set", "expiry=2099-06-30", "--set", "notice_days=30",
                          "--set", "parties=Acme d.o.o.", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["retention_until"] == "2109-06-30"
    code, out, _ = run(["registers", "contracts", "--json"], capsys)
    assert json.loads(out)[0]["notice_deadline"] == "2099-05-31"
    code, out, _ = run(["registers", "contracts", "--expiring-within", "30", "--json"], capsys)
    assert json.loads(out) == []
    code, _, err = run(["edit", rid, "--set", "expiry"], capsys)
    assert code == 2 and "KEY=VALUE" in err


def test_users_audit_log_and_verify_after_a_flipped_bit(cli_home: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_USER_PASSWORD", "a long password")
    code, out, err = run(["user", "add", "maja", "--role", "secretary", "--clearance", "confidential",
                          "--principal", "ceo"], capsys)
    assert code == 0, err
    code, out, _ = run(["user", "list", "--json"], capsys)
    assert json.loads(out) == [{"name": "maja", "role": "secretary", "clearance": "confidential",
                                "principals": ["ceo"], "disabled": False,
                                "must_change_password": False}]
    code, out, _ = run(["user", "list"], capsys)
    assert out == f"{'maja':<16} {'secretary':<10} {'confidential':<13} ceo\n"
    doc = tmp_path / "a.txt"
    doc.write_text("Kvarkadabra\n", encoding="utf-8")
    run(["import", str(doc)], capsys)
    code, out, _ = run(["audit", "log", "--json"], capsys)
    lines = [json.loads(line) for line in out.splitlines()]
    assert {"user.add", "record.file", "vault.unlock"} <= {d["action"] for d in lines}
    assert first_break(lines, start_prev=GENESIS) is None and "Kvarkadabra" not in out

    obj = next(p for p in (cli_home / "objects").rglob("*") if p.is_file())
    data = bytearray(obj.read_bytes())
    data[len(data) // 2] ^= 0x01
    obj.write_bytes(bytes(data))
    code, out, err = run(["verify"], capsys)
    assert code == 3 and "Traceback" not in out + err
    assert any(word in out for word in ("damaged", "altered", "authentic"))
