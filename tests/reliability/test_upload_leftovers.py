"""A browser upload staged in plaintext under inbox/.web-upload/ by a process that is then SIGKILLed
(issue 17 item 3): the next open that is alone deletes it, and its recovery audit entry says so."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import PASSPHRASE
from tests.reliability.faults_support import ROOT, process_env
from vault import open_home

CANARY = "Plavozelenkovski"

# What an upload does while the request body streams in: the home is open (a live session) and the
# body is being written to a staging file under inbox/.web-upload/<random>/<random>.
_UPLOADER = """
import os, sys, time
from vault import open_home
home = open_home(sys.argv[1], os.environ["STRONGROOM_PASSPHRASE"])
folder = os.path.join(sys.argv[1], "inbox", ".web-upload", "5f3c9a0e11d2b7c4")
os.makedirs(folder, mode=0o700)
with open(os.path.join(folder, "9b1e4d7a2c6f0358"), "wb") as fh:
    fh.write(sys.argv[2].encode() * 1000)
    fh.flush()
    print("staged", flush=True)
    time.sleep(60)
"""


def test_upload_left_by_a_killed_process_is_deleted_by_recovery(home_path: Path) -> None:
    uploader = subprocess.Popen([sys.executable, "-c", _UPLOADER, str(home_path), CANARY], cwd=ROOT,
                                env=process_env(home_path), stdout=subprocess.PIPE, text=True)
    try:
        assert uploader.stdout is not None and uploader.stdout.readline() == "staged\n"
    finally:
        uploader.send_signal(signal.SIGKILL)
        uploader.wait(30)
        if uploader.stdout is not None:
            uploader.stdout.close()
    staging = home_path / "inbox" / ".web-upload"
    assert any(p.is_file() for p in staging.rglob("*")), "the killed upload left nothing to clean"
    assert any((home_path / "sessions").iterdir()), "the killed process left no session marker"

    home = open_home(home_path, PASSPHRASE)
    try:
        entries = [e.event for e in home.catalog.audit_entries()]
    finally:
        home.close()
    assert not staging.exists() or not any(staging.iterdir())
    assert not [p for p in home_path.rglob("*") if p.is_file() and CANARY.encode() in p.read_bytes()]
    [recovery] = [e for e in entries if e.action == "vault.recover"]
    assert dict(recovery.details)["upload_leftovers"] == "1"
