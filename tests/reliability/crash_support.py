"""Helpers for the crash tests: the real CLI as a killable process group, a mixed corpus, and the
after-the-crash checks (catalogue, verify, index) made from a fresh unlock."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from indexer.search import WhooshIndex
from records import retrieval
from records.access import AccessScope
from records.model import Record, RecordId, State
from records.ports import Ports, SearchRequest
from tests.conftest import PASSPHRASE
from tests.records.conftest import PlainExtractor
from tests.reliability.faults_support import ROOT, process_env, run_process
from tools.make_corpus import simple_pdf
from vault import open_home

SEED = int(os.environ.get("CRASH_SEED", "4"))
_CONSONANTS = "bcdfgjklmnpqrvwxz"  # no vowels and no s: no stemmer of ours cuts these words


def unique_word(i: int) -> str:
    """A word found in document `i` only (letters only, so the analyser keeps it whole)."""
    letters = ""
    for _ in range(3):
        i, digit = divmod(i, len(_CONSONANTS))
        letters += _CONSONANTS[digit]
    return f"krkr{letters}"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document(i: int, filler: int) -> tuple[str, bytes]:
    """(file name, bytes): every third a small real PDF, the rest plain text; each with its own word."""
    word = unique_word(i)
    if i % 3 == 0:
        return f"scan-{i:03d}.pdf", simple_pdf([f"Pogodba {i} {word}", "dobava " * (filler % 12 + 1)])
    return f"doc-{i:03d}.txt", f"Zapisnik {i} {word}\n{'besedilo ' * filler}".encode()


_FAST_INTAKE = {"STRONGROOM_STABILITY_SECONDS": "0.1", "STRONGROOM_RESCAN_SECONDS": "1"}


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    return process_env(home, **{**_FAST_INTAKE, **extra})


@dataclass
class Child:
    """`strongroom ARGV` in its own process group (its sandbox workers die with it); stdout lines are
    collected by a thread so the parent can kill it after a chosen number of them."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    pumps: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, home: Path, argv: list[str], **extra: str) -> Child:
        proc = subprocess.Popen([sys.executable, "-c", "from web.cli import main; main()", *argv], cwd=ROOT,
                                env=cli_env(home, **extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        child = cls(proc)
        for stream, sink in ((proc.stdout, child.lines), (proc.stderr, child.err)):
            pump = threading.Thread(target=_pump, args=(stream, sink), daemon=True)
            pump.start()
            child.pumps.append(pump)
        return child

    def wait_lines(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.lines) < count and self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)

    def wait_until(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        """Poll `condition` (e.g. progress on disk) every 2 ms while the command runs."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline and not condition():
            time.sleep(0.002)

    def kill(self) -> bool:
        """SIGKILL the whole process group; True when the command was still running (the kill landed)."""
        landed = self.proc.poll() is None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self._close()
        return landed

    def finish(self, timeout: float = 60.0) -> int:
        code = self.proc.wait(timeout=timeout)
        self._close()
        return code

    def _close(self) -> None:
        for pump in self.pumps:
            pump.join(timeout=5)  # the pipes end with the process group
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def _pump(stream: object, sink: list[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.append(line)


def run_cli(home: Path, argv: list[str], timeout: float = 60.0, **extra: str) -> tuple[int, str, str]:
    return run_process(home, argv, timeout, **{**_FAST_INTAKE, **extra})


@dataclass(frozen=True)
class State_:
    records: list[Record]
    problems: list[str]
    index_ids: set[RecordId]
    unfound: list[str]  # records whose own word does not find them


def inspect(home_path: Path, words: dict[str, str] | None = None) -> State_:
    """A fresh unlock: every record, verify's problems, the index's ids, and (with `words`, sha256 ->
    word) the records their unique word does not find through the real sealed Whoosh index."""
    with open_home(home_path, PASSPHRASE) as home:
        records = home.catalog.find()
        problems = home.verify()
        # Not web.home.ports_of: it would repair the index in this process and hide a gap.
        ports = Ports(blobs=home.blobs, catalog=home.catalog, signer=home.signer, extractor=PlainExtractor(),
                      audit_hmac=home.audit_hmac)
        index = WhooshIndex(home_path / "index", home.index_key)
        ids = index.ids()
        unfound = []
        scope = AccessScope.system("test")
        for record in records:
            word = (words or {}).get(record.sha256)
            if word is None or record.state is State.DISPOSED:
                continue
            hits = index.search(SearchRequest(word, page_len=50), scope,
                                lambda rid: retrieval.text_of(ports, rid)).hits
            if record.id not in {h.record_id for h in hits}:
                unfound.append(f"{record.registry_number} ({word})")
    return State_(records, problems, ids, unfound)


def object_count(home: Path) -> int:
    """Sealed objects on disk (two per filed document: the original and its text)."""
    return sum(1 for p in (home / "objects").glob("??/*") if not p.name.startswith("."))


def home_open(home: Path) -> bool:
    """True once a process has unlocked the home (its session marker exists)."""
    return any((home / "sessions").glob("*"))


def live_ids(records: list[Record]) -> set[RecordId]:
    return {r.id for r in records if r.state is not State.DISPOSED}
