"""Crash tests: SIGKILL `strongroom watch`, `import`, `dispose`, `passphrase change` and `reindex` at
random moments, then run them again.

Each command is the real CLI in its own process group (its sandboxed extraction workers die with
it, as on a power cut), over a real home in tmp_path: SQLCipher catalogue, sealed objects, sealed
Whoosh index. Afterwards, from a fresh unlock: nothing lost, nothing filed twice (by SHA-256),
`verify` clean, and the index holds exactly the live records of the catalogue, each found by its
own word; the slot of a passphrase that opens is accounted for by one audit entry. The moments are
drawn from CRASH_SEED (default 4); the figures are printed.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from tests.reliability.crash_support import (SEED, Child, cli_env, document, home_open, inspect, live_ids,
                                             object_count, run_cli, sha, unique_word)
from tests.reliability.faults_support import ROOT, new_home
from vault import open_home
from web.office import furnish
from web.settings import Settings

CLASSES = ("contracts", "minutes", "invoices", "hr")
BROKEN = b"%PDF-1.4 this pdf is broken"


def _home(path: Path) -> Path:
    new_home(path)
    with open_home(path, PASSPHRASE) as home:
        furnish(home, Settings(home=path))
    return path


def _corpus(rng: random.Random, count: int) -> tuple[list[tuple[str, bytes]], dict[str, str]]:
    """`count` documents and {sha256: unique word}."""
    docs = [document(i, rng.randrange(1, 400)) for i in range(count)]
    return docs, {sha(data): unique_word(i) for i, (_name, data) in enumerate(docs)}


def _documents_in(inbox: Path) -> list[Path]:
    return [p for p in inbox.rglob("*") if p.is_file() and not p.name.startswith(".")]


def _assert_consistent(home: Path, words: dict[str, str], *, expect: set[str]) -> None:
    state = inspect(home, words)
    filed = [r.sha256 for r in state.records if r.sha256]  # a disposed record's stub keeps no hash
    assert len(filed) == len(set(filed)), "a document was filed twice"
    assert set(filed) == expect, f"lost: {len(expect - set(filed))}, unexpected: {len(set(filed) - expect)}"
    assert state.problems == [], state.problems
    live = live_ids(state.records)
    assert state.index_ids == live, (f"index without record: {len(state.index_ids - live)}, "
                                     f"record not indexed: {len(live - state.index_ids)}")
    assert state.unfound == [], state.unfound


# ---- the watcher ---------------------------------------------------------------------------------

WATCH_FILES = 120
WATCH_KILLS = 12


def test_watcher_sigkilled_12_times_in_a_120_file_batch_files_each_once(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    home = _home(tmp_path / "home")
    inbox = home / "inbox"
    docs, words = _corpus(rng, WATCH_FILES)
    for i, (name, data) in enumerate(docs):
        (inbox / CLASSES[i % len(CLASSES)] / name).write_bytes(data)
    (inbox / "contracts" / "broken.pdf").write_bytes(BROKEN)

    kills, left, claimed = 0, [], 0
    for _ in range(WATCH_KILLS):
        child = Child.start(home, ["watch"])
        child.wait_lines(rng.randrange(0, 12))  # a few files settle, then the kill lands mid-way
        time.sleep(rng.uniform(0.0, 0.05))
        kills += child.kill()
        left.append(len(_documents_in(inbox)))
        claimed += len(list((inbox / ".processing").glob("*/*")))
    print(f"\nwatcher: kills landed={kills}/{WATCH_KILLS} documents left after each={left} "
          f"caught mid-claim={claimed}")
    assert kills == WATCH_KILLS and left[-1] > 0, "the batch finished before the last kill; add files"

    final = Child.start(home, ["watch"])
    deadline = time.monotonic() + 60
    while _documents_in(inbox) and time.monotonic() < deadline:
        time.sleep(0.1)
    final.proc.send_signal(signal.SIGTERM)
    assert final.finish() == 0, "".join(final.err)
    assert not _documents_in(inbox), "the final run left files in the inbox"

    _assert_consistent(home, words, expect=set(words))
    rejected = [p for p in (home / "rejected").iterdir() if not p.name.endswith(".reason.txt")]
    assert [p.read_bytes() for p in rejected] == [BROKEN]
    assert (home / "rejected" / f"{rejected[0].name}.reason.txt").is_file()
    print(f"watcher: files={WATCH_FILES} filed once={len(words)} lost=0 twice=0 rejected=1 verify clean")


# ---- bulk import -----------------------------------------------------------------------------------

IMPORT_FILES = 120
IMPORT_KILLS = 6


def _import_folder(tmp_path: Path, rng: random.Random, count: int) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "scans"
    folder.mkdir()
    docs, words = _corpus(rng, count)
    for name, data in docs:
        (folder / name).write_bytes(data)
    return folder, words


def _filed_home(tmp_path: Path, rng: random.Random, count: int, *flags: str) -> tuple[Path, dict[str, str]]:
    """A home with `count` invoices filed by `strongroom import`, and {sha256: unique word}."""
    home = _home(tmp_path / "home")
    folder, words = _import_folder(tmp_path, rng, count)
    code, _out, err = run_cli(home, ["import", str(folder), "--class", "invoices", *flags])
    assert code == 0, err
    return home, words


def test_import_sigkilled_at_random_moments_files_each_document_once(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    home = _home(tmp_path / "home")
    folder, words = _import_folder(tmp_path, rng, IMPORT_FILES)
    argv = ["import", str(folder), "--class", "invoices", "--batch", "10"]  # a dozen group commits a run

    kills, filed_after = 0, []
    for _ in range(IMPORT_KILLS):
        before, step = object_count(home), rng.randrange(2, 40)
        child = Child.start(home, argv)
        child.wait_until(lambda: object_count(home) >= before + step)  # a few files sealed, then the kill
        time.sleep(rng.uniform(0.0, 0.03))
        kills += child.kill()
        filed_after.append(len(inspect(home).records))
    print(f"\nimport: kills landed={kills}/{IMPORT_KILLS} records after each kill={filed_after}")
    assert kills >= IMPORT_KILLS - 1 and 0 < filed_after[0] and filed_after[-2] < IMPORT_FILES

    final = Child.start(home, argv)
    assert final.finish(timeout=120) == 0, "".join(final.err)
    summary = "".join(final.err)
    assert f"{IMPORT_FILES - filed_after[-1]} filed, {filed_after[-1]} duplicates, 0 rejected" in summary, summary
    assert sorted(p.name for p in folder.iterdir()) == sorted(n for n, _d in (document(i, 1) for i in
                                                                                 range(IMPORT_FILES))), \
        "import must keep its sources"
    _assert_consistent(home, words, expect=set(words))
    print(f"import: files={IMPORT_FILES} final run: {summary.strip()} lost=0 twice=0 verify clean")


# The moments inside one group commit (records.filing.commit) that random kills rarely hit: the child
# dies (SIGKILL to itself) at a chosen point of the first batch of 100.
_DIE_IN_BATCH = """
import os, signal, sys
from records import filing
from vault import objectbatch
point = os.environ["GROUP_CRASH_POINT"]
calls = [0]
def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)
def after(fn, count):
    def wrapped(*args, **kwargs):
        result = fn(*args, **kwargs)
        calls[0] += 1
        if calls[0] == count:
            die()
        return result
    return wrapped
def before(fn):
    def wrapped(*args, **kwargs):
        die()
    return wrapped
if point == "objects-written":  # 37 objects of the batch sealed, none fsynced or renamed
    objectbatch.ObjectBatch.seal = after(objectbatch.ObjectBatch.seal, 37)
elif point == "before-folder-fsync":  # every object fsynced and renamed, the folder not fsynced
    objectbatch.fsync_dir = before(objectbatch.fsync_dir)
elif point == "before-catalogue-commit":  # all 100 records and audit entries written, no COMMIT
    filing.Prepared.write = after(filing.Prepared.write, 100)
elif point == "before-index-commit":  # the catalogue committed, the index not
    filing._index = before(filing._index)
from web.cli import main
main()
"""


@pytest.mark.parametrize("point", ["objects-written", "before-folder-fsync", "before-catalogue-commit",
                                   "before-index-commit"])
def test_import_killed_inside_a_group_commit_files_each_document_once(tmp_path: Path, point: str) -> None:
    rng = random.Random(SEED)
    home = _home(tmp_path / "home")
    folder, words = _import_folder(tmp_path, rng, IMPORT_FILES)
    argv = ["import", str(folder), "--class", "invoices"]
    died = subprocess.run([sys.executable, "-c", _DIE_IN_BATCH, *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=cli_env(home, GROUP_CRASH_POINT=point))
    assert died.returncode == -signal.SIGKILL, died.stderr
    committed = 100 if point == "before-index-commit" else 0  # the first batch is all or nothing
    after_kill = inspect(home)
    assert len(after_kill.records) == committed
    assert after_kill.problems == [], after_kill.problems  # the lone open cleared the batch's debris
    assert not list((home / "objects").rglob(".tmp-*")), "a temp object outlived the recovery"

    code, _out, err = run_cli(home, argv, timeout=120)
    assert code == 0, err
    assert f"{IMPORT_FILES - committed} filed, {committed} duplicates, 0 rejected" in err, err
    _assert_consistent(home, words, expect=set(words))
    print(f"\nimport killed {point}: records after the kill={committed}, rerun: {err.strip()} lost=0 twice=0")


# ---- dispose ---------------------------------------------------------------------------------------

DISPOSE_FILES = 30
DISPOSE_KILLS = 8


def _seconds_after_open(home: Path, argv: list[str], *, until: Callable[[], bool] = lambda: True,
                        **extra: str) -> tuple[float, float]:
    """Seconds `strongroom ARGV` runs after it has opened the home until `until` holds, and until it
    ends (left to finish; it must succeed)."""
    child = Child.start(home, argv, **extra)
    child.wait_until(lambda: home_open(home))
    opened = time.monotonic()
    child.wait_until(until)
    reached = time.monotonic() - opened
    assert child.proc.wait(timeout=120) == 0, child.err
    child.kill()  # collects the output pumps; the process has ended
    return reached, time.monotonic() - opened


def test_dispose_sigkilled_at_random_moments_leaves_each_record_whole_or_destroyed(tmp_path: Path) -> None:
    from records import certificates
    from records.model import State

    rng = random.Random(SEED)
    home, words = _filed_home(tmp_path, rng, DISPOSE_FILES, "--document-date", "2000-01-31")  # all due
    with open_home(home, PASSPHRASE) as opened:
        objects = {r.id: [ref.object_id for ref in r.blobs] for r in opened.catalog.find()}

    def due() -> list[str]:  # a restart: the open sweeps, the command's ports check the index
        code, out, err = run_cli(home, ["retention", "due", "--json"])
        assert code == 0, err
        return [d["id"] for d in json.loads(out) if d["status"] == "due"]

    assert run_cli(home, ["settings", "set", "require-second-approver", "off"])[0] == 0  # destroy at once
    # How long a disposal runs once the home is open, measured now on this machine (one record, left
    # to finish): the kills then fall at once and in its late half in turn, so some land before the
    # commit and some after it however fast or busy the machine is.
    first = due()[0]
    _, span = _seconds_after_open(home, ["dispose", first, "--reason", "Retention ended", "--yes"])
    kills, outcomes, debris = 0, [], 0
    for round_ in range(DISPOSE_KILLS):
        remaining = due()
        if not remaining:
            break
        chosen = rng.sample(remaining, min(len(remaining), rng.randrange(2, 6)))
        child = Child.start(home, ["dispose", *chosen, "--reason", "Retention ended", "--yes"])
        child.wait_until(lambda: home_open(home))
        # Even rounds: at once (the commit is still ahead); odd rounds: somewhere in the run's second half.
        time.sleep(0.0 if round_ % 2 == 0 else rng.uniform(span / 2, span))
        kills += child.kill()
        on_disk = object_count(home)
        due()
        debris += on_disk > object_count(home)  # the kill fell between the commit and the deletions
        with open_home(home, PASSPHRASE) as opened:
            certified = {line["id"] for c in certificates.all_certificates(opened.catalog)
                         for line in c.body["records"]}
            records = {r.id: r for r in opened.catalog.find()}
            keys = {rid: opened.catalog.data_key(rid) for rid in records}
        disposed = {rid for rid in chosen if records[rid].state is State.DISPOSED}
        outcomes.append(f"{len(disposed)}/{len(chosen)}")
        for rid, record in records.items():
            if rid == first:
                continue  # destroyed by the measuring run
            gone = [o for o in objects[rid] if (home / "objects" / o[:2] / o).exists()]
            if record.state is State.DISPOSED:
                assert keys[rid] is None and rid in certified and not gone and record.title == "", rid
            else:
                assert keys[rid] is not None and len(gone) == len(objects[rid]), rid
        _assert_consistent(home, words, expect={r.sha256 for r in records.values()
                                                if r.state is not State.DISPOSED})
    print(f"\ndispose: kills landed={kills}/{DISPOSE_KILLS} disposed/chosen after each kill={outcomes} "
          f"kills that left objects to sweep={debris}")
    assert kills >= DISPOSE_KILLS // 2 and any(o.startswith("0/") for o in outcomes) \
        and any(not o.startswith("0/") for o in outcomes), "the kills must land before and after the commit"

    remaining = due()
    if remaining:
        code, _out, err = run_cli(home, ["dispose", *remaining, "--reason", "Retention ended", "--yes"])
        assert code == 0, err
    assert due() == []
    _assert_consistent(home, words, expect=set())
    print(f"dispose: records={DISPOSE_FILES} all disposed after a rerun, none half, verify clean")


# ---- passphrase change -----------------------------------------------------------------------------

CHANGE_KILLS = 12
CHANGE_ROUNDS_AT_MOST = 40


_DIE_AFTER_KEYS_JSON = """
import os, signal
from vault import keyslots
save = keyslots.save
def save_then_die(path, keyfile):
    save(path, keyfile)
    os.kill(os.getpid(), signal.SIGKILL)
keyslots.save = save_then_die
from web.cli import main
main()
"""


def _slot_accounts(home: Path, passphrase: str) -> list[str]:
    """The audit entries that account for the passphrase slot `passphrase` opens (read after an open,
    which audits a keys.json the catalogue has not seen), checking that the catalogue's recorded slot
    state is keys.json's."""
    from vault import keyslots, slotstate

    with open_home(home, passphrase) as opened:
        keyfile = keyslots.load(home / "keys.json")
        assert opened.catalog.get_setting(slotstate.SETTING) == json.dumps(slotstate.state_of(keyfile),
                                                                           sort_keys=True)
        slot = opened.unlocked_with
        return [e.event.action for e in opened.catalog.audit_entries()
                if (e.event.action == "key.passphrase.change" and ("slot", slot) in e.event.details)
                or (e.event.action == slotstate.UNRECORDED
                    and f"{slot}:passphrase" in dict(e.event.details).get("added", "").split(","))]


def _keys_replaced(home: Path, inode: int) -> bool:
    return (home / "keys.json").stat().st_ino != inode


def _change_phases(home: Path, current: str, new: str, tmp_path: Path) -> tuple[float, float]:
    """Seconds from the open of a whole `passphrase change` (left to finish) until keys.json is replaced,
    and until the command ends."""
    secret = tmp_path / "new-measuring.txt"
    secret.write_text(new + "\n")
    inode = (home / "keys.json").stat().st_ino
    return _seconds_after_open(home, ["passphrase", "change", "--new-passphrase-file", str(secret)],
                               until=lambda: _keys_replaced(home, inode), STRONGROOM_PASSPHRASE=current)


def test_passphrase_change_sigkilled_at_random_moments_leaves_a_passphrase_that_opens(
        tmp_path: Path) -> None:
    from vault import WrongPassphrase, keyslots

    rng = random.Random(SEED)
    home = _home(tmp_path / "home")
    current = PASSPHRASE
    kills, opened_with, accounted_by = 0, [], []
    # When a change replaces keys.json and when it ends, measured now on this machine once the home is open
    # (a busy machine is slower). Kills then fall in turn before the replace (the old passphrase must open)
    # and after it (the new one must). The part before the replace is short (the new slot's key is derived
    # in ~15 ms), so an early kill that came too late narrows the next early window: a machine slower or
    # faster than the measuring run still gets both outcomes instead of one by chance.
    before, span = _change_phases(home, current, "new passphrase of the measuring run", tmp_path)
    current = "new passphrase of the measuring run"
    early = before
    round_ = 0
    while round_ < CHANGE_KILLS or ("old" not in opened_with and round_ < CHANGE_ROUNDS_AT_MOST):
        new = f"new passphrase number {round_}"
        secret = tmp_path / f"new-{round_}.txt"
        secret.write_text(new + "\n")
        inode = (home / "keys.json").stat().st_ino
        child = Child.start(home, ["passphrase", "change", "--new-passphrase-file", str(secret)],
                            STRONGROOM_PASSPHRASE=current)
        child.wait_until(lambda: home_open(home))
        time.sleep(rng.uniform(0.0, early) if round_ % 2 == 0 else rng.uniform(before, span))
        kills += child.kill()
        if round_ % 2 == 0 and _keys_replaced(home, inode):
            early /= 2
        keyfile = keyslots.load(home / "keys.json")  # valid JSON with every slot well formed
        assert len(keyfile.passphrase_slots()) == 1 and len(keyfile.slots) == 2
        works = []
        for candidate in (current, new):
            try:
                open_home(home, candidate).close()
                works.append(candidate)
            except WrongPassphrase:
                pass
        assert len(works) == 1, "no passphrase (or both) opens the home"
        opened_with.append("new" if works[0] == new else "old")
        accounts = _slot_accounts(home, works[0])
        if works[0] == new:  # the change landed: its own entry, or the open's key.slots.unrecorded, says so
            assert len(accounts) == 1, f"the new passphrase slot is accounted for by {accounts}"
            accounted_by.append(accounts[0])
        current = works[0]
        round_ += 1
    print(f"\npassphrase change: measured before={before:.3f}s span={span:.3f}s "
          f"kills landed={kills}/{round_} opens with after each={opened_with} "
          f"new slots audited by={accounted_by}")
    assert kills >= round_ // 2 and "old" in opened_with and "new" in opened_with

    # The window random kills rarely hit: keys.json renamed into place, the catalogue not yet committed.
    window, secret = "new passphrase in the window", tmp_path / "new-in-the-window.txt"
    secret.write_text(window + "\n")
    died = subprocess.run([sys.executable, "-c", _DIE_AFTER_KEYS_JSON, "passphrase", "change",
                           "--new-passphrase-file", str(secret)], cwd=ROOT, capture_output=True, timeout=120,
                          env=cli_env(home, STRONGROOM_PASSPHRASE=current))
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert _slot_accounts(home, window) == ["key.slots.unrecorded"]
    assert _slot_accounts(home, window) == ["key.slots.unrecorded"]  # and only once
    current = window
    with open_home(home, current) as opened:  # alone after the kills: the open clears their debris
        assert opened.verify() == []
    assert not list(home.glob(".tmp-*")), "a killed keys.json write left its temp file"


# ---- reindex ---------------------------------------------------------------------------------------

REINDEX_FILES = 120
REINDEX_KILLS = 8


def test_reindex_sigkilled_at_random_moments_keeps_search_working(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    home, words = _filed_home(tmp_path, rng, REINDEX_FILES)
    generations = []
    kills = 0
    for _ in range(REINDEX_KILLS):
        old = (home / "index" / "current").readlink().name
        child = Child.start(home, ["reindex"])
        if rng.random() < 0.5:  # while the new generation is being built, or just after its swap
            child.wait_until(lambda: any(p.name != old for p in (home / "index").glob("ix-*")))
            time.sleep(rng.uniform(0.0, 0.25))
        else:  # anywhere from the unlock on
            time.sleep(rng.uniform(0.2, 0.8))
        kills += child.kill()
        generations.append((home / "index" / "current").readlink().name)
        _assert_consistent(home, words, expect=set(words))  # old or new generation, searchable either way
    swaps = len(set(generations))
    print(f"\nreindex: kills landed={kills}/{REINDEX_KILLS} distinct live generations seen={swaps}")
    assert kills >= REINDEX_KILLS // 2

    code, out, err = run_cli(home, ["reindex"])
    assert code == 0 and f"Indexed {REINDEX_FILES} records." in out, err
    _assert_consistent(home, words, expect=set(words))
    assert [p.name for p in (home / "index").glob("ix-*")] == [(home / "index" / "current").readlink().name], \
        "a killed rebuild's generation was left behind"
