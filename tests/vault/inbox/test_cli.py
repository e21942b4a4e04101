"""`strongroom watch` (a real process, stopped with Ctrl-C), `import` with sidecars, `inbox`, the init step."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from records.ports import RecordFilter
from tests.conftest import PASSPHRASE
from tests.records.test_cli import cli_home, run  # noqa: F401 - the fixture is used by name
from tests.vault.inbox.conftest import wait_for
from vault import open_home
from web.office import furnish
from web.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


def test_furnishing_a_home_creates_a_drop_folder_per_class(cli_home: Path) -> None:  # noqa: F811
    for folder in (cli_home / "inbox").iterdir():
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    with open_home(cli_home, PASSPHRASE) as home:
        assert "drop folders" in furnish(home, Settings.load({"home": str(cli_home)}))
    folders = {p.name for p in (cli_home / "inbox").iterdir() if p.is_dir()}
    assert {"contracts", "minutes", "invoices", "correspondence", "_unsorted"} <= folders
    assert "unsorted" not in folders  # the unsorted class waits in _unsorted, for a person


def test_watch_files_drops_and_stops_cleanly_on_ctrl_c(cli_home: Path) -> None:  # noqa: F811
    env = {**os.environ, "STRONGROOM_STABILITY_SECONDS": "0.2", "PYTHONPATH": str(ROOT)}
    (cli_home / "inbox" / "contracts").mkdir(parents=True, exist_ok=True)
    (cli_home / "inbox" / "contracts" / "early.txt").write_text("dropped before the watcher started")
    proc = subprocess.Popen([sys.executable, "-c", "from web.cli import main; main()", "watch"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: not (cli_home / "inbox" / "contracts" / "early.txt").exists(), 30, "the early file")
        (cli_home / "inbox" / "contracts" / "late.txt").write_text("dropped while watching")
        wait_for(lambda: not (cli_home / "inbox" / "contracts" / "late.txt").exists(), 30, "the late file")
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    assert proc.returncode == 0, err
    assert out.count("filed") == 2 and "Stopped." in err and "Traceback" not in err
    with open_home(cli_home, PASSPHRASE) as home:
        assert len(home.catalog.find(RecordFilter())) == 2


def test_second_watch_on_the_same_home_is_one_clear_error(cli_home: Path,  # noqa: F811
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (cli_home / "inbox").mkdir(exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); "
        "print('locked', flush=True); time.sleep(30)"), str(cli_home / "inbox" / ".watch.lock")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        code, _, err = run(["watch"], capsys)
    finally:
        holder.kill()
        holder.communicate()
    assert code == 1 and "Another watcher" in err and "Traceback" not in err


def test_import_reads_sidecars_skips_temp_files_and_summarises(cli_home: Path, tmp_path: Path,  # noqa: F811
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(12):
        (docs / f"c{i}.txt").write_text(f"contract number {i}")
    (docs / "c0.txt.json").write_text(json.dumps({"title": "Pogodba nič", "details": {"notice_days": 30}}))
    (docs / "c1.txt.json").write_text('{"confidentiality": "ultra"}')
    (docs / "~$c2.docx").write_bytes(b"lock")
    (docs / "download.part").write_bytes(b"partial")
    code, out, err = run(["import", str(docs), "--class", "contracts", "--json"], capsys)
    assert code == 1  # one rejection
    rows = {Path(r["path"]).name: r for r in json.loads(out)}
    assert sorted(rows) == sorted(f"c{i}.txt" for i in range(12))
    assert rows["c1.txt"]["status"] == "rejected" and "confidentiality" in rows["c1.txt"]["reason"]
    assert sum(r["status"] == "filed" for r in rows.values()) == 11
    with open_home(cli_home, PASSPHRASE) as home:
        titled = home.catalog.get(rows["c0.txt"]["id"])
    assert titled.title == "Pogodba nič" and titled.details.notice_days == 30  # type: ignore[union-attr]
    code, out, err = run(["import", str(docs / "c3.txt"), "--class", "contracts"], capsys)
    assert code == 0 and "duplicate" in out and "0 filed, 1 duplicates, 0 rejected" in err


def test_inbox_list_and_classify(cli_home: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    unsorted = cli_home / "inbox" / "_unsorted"
    unsorted.mkdir(parents=True, exist_ok=True)
    (unsorted / "scan.txt").write_text("an unsorted scan")
    os.utime(unsorted / "scan.txt", (time.time() - 60, time.time() - 60))
    code, out, _ = run(["inbox", "list"], capsys)
    assert code == 0 and "scan.txt" in out
    code, out, err = run(["inbox", "classify", "scan.txt", "--class", "minutes", "--title", "Seja 4"], capsys)
    assert code == 0, err
    assert out.startswith("filed") and not (unsorted / "scan.txt").exists()
    code, _, err = run(["inbox", "classify", "scan.txt", "--class", "minutes"], capsys)
    assert code == 1 and "No file named scan.txt" in err
