"""The export commands end to end: `export audit`, `export public-key`, `verify-export`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from records.model import Confidentiality, Role, User
from tests.conftest import PASSPHRASE
from tests.records.test_export_world import make_world, rewrite_zip
from vault import open_home
from web.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.fixture
def env(home_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("STRONGROOM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STRONGROOM_HOME", str(home_path))
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", PASSPHRASE)
    with open_home(home_path, PASSPHRASE) as home:
        world = make_world(home)
        world.file("Letna pogodba — Šoštanj", b"%PDF-1.4 contract")
        world.log(20)
        with home.catalog.transaction() as tx:
            tx.put_user(User(name="vera", role=Role.VIEWER, clearance=Confidentiality.SECRET))
    return home_path


def test_export_then_verify_with_the_kept_key(env: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out_zip = tmp_path / "audit.zip"
    code, out, err = run(["export", "audit", "-o", str(out_zip), "--with-documents"], capsys)
    assert code == 0, err
    assert "Wrote" in out and "1 documents" in out and out_zip.exists()
    assert not (tmp_path / "audit.zip.part").exists()
    assert oct(out_zip.stat().st_mode & 0o777) == "0o600"
    code, key_text, _ = run(["export", "public-key"], capsys)
    assert code == 0 and "BEGIN PUBLIC KEY" in key_text and "Fingerprint:" in key_text
    code, same, _ = run(["export", "--public-key"], capsys)
    assert code == 0 and same == key_text
    key_file = tmp_path / "key.txt"
    key_file.write_text(key_text)
    code, out, _ = run(["verify-export", str(out_zip), "--public-key", str(key_file)], capsys)
    assert code == 0 and out.startswith("VERIFIED") and "self-asserted" not in out
    code, out, _ = run(["verify-export", str(out_zip), "--json"], capsys)
    report = json.loads(out)
    assert code == 0 and report["verified"] and report["chain"]["entries"] >= 20


def test_verify_export_exit_codes_and_sentences(env: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out_zip = tmp_path / "audit.zip"
    assert run(["export", "audit", "-o", str(out_zip)], capsys)[0] == 0
    with zipfile.ZipFile(out_zip) as z:
        raw = z.read("records.csv")
    rewrite_zip(out_zip, {"records.csv": raw.replace("Šoštanj".encode(), b"Sostanj")})
    code, out, _ = run(["verify-export", str(out_zip)], capsys)
    assert code == 1 and "NOT VERIFIED" in out
    assert "records.csv was changed: its SHA-256 does not match the manifest." in out
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    code, out, err = run(["verify-export", str(junk)], capsys)
    assert code == 2 and err.count("\n") == 1 and "not a readable ZIP" in err
    code, _, err = run(["verify-export", str(out_zip), "--public-key", str(tmp_path / "none")], capsys)
    assert code == 2 and "Cannot read the public key file" in err


def test_viewer_cannot_export(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["export", "audit", "--as", "vera", "-o", str(tmp_path / "x.zip")], capsys)
    assert code == 1 and "Only auditors and administrators" in err
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "x.zip.part").exists()
    code, _, err = run(["export", "audit", "--as", "nobody", "-o", str(tmp_path / "x.zip")], capsys)
    assert code == 2 and "no active user named nobody" in err


def test_verify_export_needs_no_home_and_prints_no_traceback(env: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out_zip = tmp_path / "audit.zip"
    assert run(["export", "audit", "-o", str(out_zip)], capsys)[0] == 0
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    for target, expected in ((out_zip, 0), (tmp_path / "missing.zip", 2)):
        proc = subprocess.run([sys.executable, "-c", "from web.cli import main; main()",
                               "verify-export", str(target)], cwd=ROOT, env=clean,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == expected, proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout


def test_class_accepts_a_slug_and_an_unknown_class_is_one_sentence(
        env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_zip = tmp_path / "c.zip"
    code, _, err = run(["export", "audit", "--class", "contracts", "-o", str(out_zip)], capsys)
    assert code == 0, err
    with zipfile.ZipFile(out_zip) as z:
        manifest = json.loads(z.read("manifest.json"))
        rows = z.read("records.csv").decode("utf-8-sig").splitlines()
    assert manifest["scope"]["record_class"] == "03.1" and len(rows) == 2  # the one 03.1 record
    code, _, err = run(["export", "audit", "--class", "nonsense", "-o", str(out_zip)], capsys)
    assert code == 1 and err.count("\n") == 1 and "no record class 'nonsense'" in err


def test_export_leaves_no_plaintext_in_the_home_or_temp(env: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        canary_scan) -> None:  # type: ignore[no-untyped-def]
    import tempfile
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, _, err = run(["export", "audit", "--with-documents", "-o", str(out_dir / "a.zip")], capsys)
    assert code == 0, err
    assert canary_scan([env, private_tmp], ["Šoštanj", "contract"]) == []
    assert list(private_tmp.iterdir()) == []
    assert [p.name for p in out_dir.iterdir()] == ["a.zip"]  # only the export, deliberately plaintext
