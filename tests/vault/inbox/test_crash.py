"""Nothing lost, nothing twice: a watcher process SIGKILLed at random moments during a batch."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from records.plan import load_default
from records.ports import RecordFilter
from tests.conftest import PASSPHRASE
from tests.vault.inbox.conftest import sha
from vault import open_home
from vault.inbox import create_drop_folders

ROOT = Path(__file__).resolve().parents[3]
FILES = 48
KILLS = 7


def _child(home_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.vault.inbox.crash_child", str(home_path)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_during_a_batch_loses_nothing_and_files_nothing_twice(home_path: Path) -> None:
    rng = random.Random(int(os.environ.get("CRASH_SEED", "4")))
    create_drop_folders(home_path, load_default())
    inbox = home_path / "inbox"
    contents: dict[str, bytes] = {}
    for i in range(FILES):
        folder = ("contracts", "minutes", "invoices", "hr")[i % 4]
        data = f"document {i}: {'x' * rng.randrange(10, 5000)}".encode()
        (inbox / folder / f"doc-{i:02d}.txt").write_bytes(data)
        contents[sha(data)] = data
    broken = b"%PDF-1.4 this pdf is broken"
    (inbox / "contracts" / "broken.pdf").write_bytes(broken)

    kills, remaining, claimed = 0, [], 0
    for _ in range(KILLS):
        child = _child(home_path)
        assert child.stdout is not None
        line = child.stdout.readline()  # "ready": the home is open and the watcher started
        if not line:
            child.communicate(timeout=10)
            break  # it finished before it could be killed (everything filed)
        for _ in range(rng.randrange(0, 6)):  # let it settle a few files, then kill it mid-way
            if not child.stdout.readline():
                break
        time.sleep(rng.uniform(0.0, 0.03))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.communicate(timeout=10)
        remaining.append(len([p for p in inbox.rglob("*") if p.is_file() and not p.name.startswith(".")]))
        claimed += len(list((inbox / ".processing").glob("*/*")))
    print(f"kills={kills} documents left after each kill={remaining} caught mid-claim={claimed}")
    assert kills >= 6, "the batch finished too early to test crashes; add files"
    assert remaining[-1] > 0 and remaining[0] < FILES + 1, "the kills must land inside the batch"
    assert claimed >= 2, "no kill landed while a file was claimed"

    final = _child(home_path)
    out, err = final.communicate(timeout=90)
    assert final.returncode == 0, err

    with open_home(home_path, PASSPHRASE) as home:
        records = home.catalog.find(RecordFilter())
    filed = [r.sha256 for r in records]
    assert sorted(filed) == sorted(set(filed)), "a document was filed twice"
    assert set(filed) == set(contents), "a document was lost"
    assert not [p for p in inbox.rglob("*") if p.is_file() and p.name != ".watch.lock"]
    rejected = [p for p in (home_path / "rejected").iterdir() if not p.name.endswith(".reason.txt")]
    assert [p.read_bytes() for p in rejected] == [broken]
    assert (home_path / "rejected" / f"{rejected[0].name}.reason.txt").exists()
