"""The foundation CLI: init, verify, passphrase add/remove/change, and clean one-sentence errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from vault import open_home
from web.cli import keys_cmds, main
from web.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("STRONGROOM_"):
            monkeypatch.delenv(name)


def test_init_creates_a_home_prints_the_recovery_key_and_an_admin(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("STRONGROOM_ADMIN_PASSWORD", "admin password 1")
    home_dir = tmp_path / "h"
    code, out, err = run(["init", "--home", str(home_dir), "--admin", "ana", "--jurisdiction", "SI+EE"], capsys)
    assert code == 0, err
    key_lines = [line.strip() for line in out.splitlines() if line.startswith("    ")]
    recovery = "-".join(key_lines)
    assert "write this down" in out and len(recovery.split("-")) == 14
    assert (home_dir / "plan.toml").is_file() and (home_dir / "inbox" / "contracts").is_dir()
    assert (home_dir / "index" / "current").is_symlink()
    assert (home_dir / "flask-secret.key").stat().st_mode & 0o777 == 0o600
    assert Settings.load({"home": str(home_dir)}, environ={}).jurisdiction == "SI+EE"
    with open_home(home_dir, recovery_key=recovery) as home:
        admin = home.catalog.get_user("ana")
        assert admin is not None and admin.role == "admin" and admin.password_hash.startswith("$argon2id$")
        slot = next(s for s in home.slots() if s.kind == "passphrase")
        assert not slot.test  # the CLI never makes test-only slots
    code, _, err = run(["init", "--home", str(home_dir)], capsys)
    assert code == 1 and "already exists" in err


def test_verify_sound_then_damaged(home_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", PASSPHRASE)
    code, out, _ = run(["--home", str(home_path), "verify"], capsys)
    assert code == 0 and "sound" in out
    (home_path / "objects" / "ab").mkdir(exist_ok=True)
    (home_path / "objects" / "ab" / ("ab" * 16)).write_bytes(b"junk")
    code, out, _ = run(["--home", str(home_path), "verify", "--json"], capsys)
    doc = json.loads(out)
    assert code == 3 and doc["ok"] is False and "not referenced" in doc["problems"][0]


def test_verify_without_a_signature_check_fails_instead_of_passing(
        home_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", PASSPHRASE)
    monkeypatch.setattr(keys_cmds, "SIGNATURE_CHECK", None)  # stands for a missing `cryptography`
    code, out, err = run(["--home", str(home_path), "verify"], capsys)
    assert code == 1 and "sound" not in out and "Traceback" not in err
    assert "signatures cannot be checked" in err and len(err.strip().splitlines()) == 1


def test_wrong_passphrase_is_one_sentence_exit_1(home_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", "not it at all")
    code, out, err = run(["--home", str(home_path), "verify"], capsys)
    assert code == 1 and out == ""
    assert err == ("strongroom: The passphrase is wrong: nothing was unlocked. "
                   "Try again, or use the recovery key.\n")


def test_passphrase_add_change_remove_via_files(home_path: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # New slots copy the unlocking slot's (test-only, fast) parameters.
    new_file, changed_file, pass_file = tmp_path / "new.txt", tmp_path / "changed.txt", tmp_path / "pass.txt"
    new_file.write_text("second person passphrase\n")
    changed_file.write_text("changed second passphrase\n")
    pass_file.write_text(PASSPHRASE + "\n")
    monkeypatch.setenv("STRONGROOM_PASSPHRASE_FILE", str(pass_file))
    code, out, err = run(["--home", str(home_path), "passphrase", "add", "--new-passphrase-file", str(new_file)],
                         capsys)
    assert code == 0, err
    second_slot = out.split()[-1].rstrip(".")
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", "second person passphrase")
    code, out, err = run(["--home", str(home_path), "passphrase", "change",
                          "--new-passphrase-file", str(changed_file)], capsys)
    assert code == 0, err
    monkeypatch.delenv("STRONGROOM_PASSPHRASE")
    code, out, _ = run(["--home", str(home_path), "passphrase", "list"], capsys)
    assert second_slot not in out and out.count("passphrase") == 2
    changed_slot = next(line.split()[0] for line in out.splitlines() if "opened now" not in line
                        and "passphrase" in line)
    code, _, err = run(["--home", str(home_path), "passphrase", "remove", "--slot", changed_slot], capsys)
    assert code == 0, err
    code, _, err = run(["--home", str(home_path), "passphrase", "remove"], capsys)
    assert code == 1 and "last passphrase" in err
    with open_home(home_path, PASSPHRASE) as home:
        actions = [e.event.action for e in home.catalog.audit_entries()]
    assert {"key.passphrase.add", "key.passphrase.change", "key.passphrase.remove", "vault.unlock"} <= set(actions)


def test_missing_home_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", PASSPHRASE)
    code, _, err = run(["--home", str(tmp_path / "nowhere"), "verify"], capsys)
    assert code == 1 and "No Strongroom home" in err and "Traceback" not in err


def test_real_process_wrong_passphrase_no_traceback(home_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    env.update(STRONGROOM_PASSPHRASE="wrong wrong wrong", STRONGROOM_HOME=str(home_path), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", "from web.cli import main; main()", "verify"],
                          env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "passphrase is wrong" in proc.stderr
