"""SealedStorage and crash safety: no plaintext on disk, tampering detected, interrupted commits survived."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from indexer.errors import IndexCorrupt, IndexMissing
from indexer.search import CURRENT, open_index, rebuild
from indexer.storage import HEADER_BYTES, MemoryTempStorage, SealedStorage, plaintext_length, seal, unseal
from records.access import AccessScope
from records.model import RecordId
from records.ports import SearchRequest
from tests.indexer.samples import KEY, doc

Scan = Callable[[Iterable[Path | str], Iterable[str]], list[str]]
CANARIES = ["zlatorogkanarcek", "kolibrisekret", "Šentjurskovodstvo"]


def _live(root: Path) -> Path:
    return root / os.readlink(root / CURRENT)


def test_seal_roundtrip_and_length() -> None:
    for size in (0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) * 2 + 5):
        data = os.urandom(size)
        sealed = seal(KEY, "f.seg", data)
        assert plaintext_length(len(sealed)) == size
        assert unseal(KEY, "f.seg", sealed) == data


@pytest.mark.parametrize("damage", ["flip", "truncate", "rename", "wrong_key", "drop_chunk"])
def test_tampering_is_detected(damage: str) -> None:
    data = os.urandom((1 << 20) + 100)
    sealed = bytearray(seal(KEY, "a.seg", data))
    name, key = "a.seg", KEY
    if damage == "flip":
        sealed[HEADER_BYTES + 10] ^= 1
    elif damage == "truncate":
        del sealed[-20:]
    elif damage == "rename":
        name = "b.seg"
    elif damage == "wrong_key":
        key = bytes(32)
    else:  # drop the final chunk: the previous one is not marked final
        del sealed[HEADER_BYTES + (1 << 20) + 16:]
    with pytest.raises(IndexCorrupt):
        unseal(key, name, bytes(sealed))


def test_index_files_hold_no_plaintext(tmp_path: Path, canary_scan: Scan, monkeypatch: pytest.MonkeyPatch) -> None:
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    index = open_index(tmp_path / "index", KEY, create=True)
    # enough text to make whoosh spill posting runs to its temp storage
    docs = [doc(f"d{i}", f"{CANARIES[i % 3]} pogodba {i} " + " ".join(f"w{i}x{j}" for j in range(300)),
                title=f"Naslov {CANARIES[1]}", parties=(CANARIES[2],), tags=("zaupno",)) for i in range(300)]
    index.upsert(docs)
    index.remove([RecordId("d0")])
    result = index.search(SearchRequest(CANARIES[0]), AccessScope.system(), lambda rid: CANARIES[0])
    assert result.total == 99
    assert canary_scan([tmp_path / "index", tmpdir], [*CANARIES, "pogodba", "Naslov", "zaupno"]) == []
    assert not (_live(tmp_path / "index") / "MAIN.tmp").exists()
    assert list(tmpdir.iterdir()) == []


def test_spilled_posting_runs_stay_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # limitmb=1 forces several sorted runs through temp storage, read back by the merge
    monkeypatch.setattr("indexer.generations.WRITE_LIMIT_MB", 1)
    created: list[str] = []
    original = MemoryTempStorage.create_file

    def counting(self: MemoryTempStorage, name: str, *args: object, **kwargs: object) -> object:
        created.append(name)
        return original(self, name, *args, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(MemoryTempStorage, "create_file", counting)
    index = open_index(tmp_path / "index", KEY, create=True)
    index.upsert([doc(f"r{i}", " ".join(f"t{i}_{j}" for j in range(400))) for i in range(200)])
    assert index.doc_count() == 200
    assert index.search(SearchRequest("t7_3"), AccessScope.system(), lambda rid: "").total == 1
    assert sum(name.endswith(".run") for name in created) >= 2, created[:5]


def test_cache_survives_storage_close(tmp_path: Path) -> None:
    index = open_index(tmp_path / "index", KEY, create=True)
    index.upsert([doc("a", "besedilo")])
    storage = SealedStorage(_live(tmp_path / "index"), KEY)
    seg = next(n for n in storage.list() if n.endswith(".seg"))
    first = storage.open_file(seg).read()
    storage.close()
    # a cached read does not touch the file again: even a removed file is served
    os.chmod(storage._fpath(seg), 0)  # noqa: SLF001
    try:
        assert storage.open_file(seg).read() == first
    finally:
        os.chmod(storage._fpath(seg), 0o600)  # noqa: SLF001


def test_missing_and_tampered_index_is_reported(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing):
        open_index(tmp_path / "nothing", KEY)
    root = tmp_path / "index"
    open_index(root, KEY, create=True).upsert([doc("a", "besedilo")])
    seg = next(p for p in _live(root).iterdir() if p.suffix == ".seg")
    data = bytearray(seg.read_bytes())
    data[len(data) // 2] ^= 0x40
    seg.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt) as caught:
        open_index(root, KEY)
    assert "strongroom reindex" in str(caught.value)
    with pytest.raises(IndexCorrupt):
        open_index(root, bytes(32))


def test_swapped_toc_is_detected(tmp_path: Path) -> None:
    root = tmp_path / "index"
    index = open_index(root, KEY, create=True)
    index.upsert([doc("a", "prva")])
    index.upsert([doc("b", "druga")])
    tocs = sorted(p for p in _live(root).iterdir() if p.name.endswith(".toc"))
    latest = tocs[-1]
    # an attacker renames a valid file onto another name: the name is authenticated
    seg = next(p for p in _live(root).iterdir() if p.suffix == ".seg")
    os.replace(seg, latest)
    with pytest.raises(IndexCorrupt):
        open_index(root, KEY)


def test_rebuild_swaps_atomically_and_keeps_serving(tmp_path: Path) -> None:
    root = tmp_path / "index"
    old = open_index(root, KEY, create=True)
    old.upsert([doc("old", "stara vsebina")])
    progress: list[tuple[int, int]] = []
    count = rebuild(root, KEY, (doc(f"n{i}", f"nova vsebina {i}") for i in range(7)),
                    lambda done, total: progress.append((done, total)), total=7, batch=3)
    assert count == 7 and progress[-1] == (7, 7)
    assert len([p for p in root.iterdir() if p.name.startswith("ix-")]) == 1
    fresh = open_index(root, KEY)
    assert fresh.ids() == {RecordId(f"n{i}") for i in range(7)}
    # the old handle notices the swap on its next use
    assert old.search(SearchRequest("nova"), AccessScope.system(), lambda rid: "").total == 7
    old.upsert([doc("late", "nova vsebina pozneje")])
    assert fresh.search(SearchRequest("pozneje"), AccessScope.system(), lambda rid: "").total == 1


def test_failed_rebuild_leaves_old_index(tmp_path: Path) -> None:
    root = tmp_path / "index"
    open_index(root, KEY, create=True).upsert([doc("old", "stara vsebina")])

    def broken() -> Iterable:  # type: ignore[type-arg]
        yield doc("n1", "nova")
        raise RuntimeError("vault went away")
    with pytest.raises(RuntimeError):
        rebuild(root, KEY, broken())
    assert open_index(root, KEY).ids() == {"old"}
    assert len([p for p in root.iterdir() if p.name.startswith("ix-")]) == 1


CHILD = textwrap.dedent("""
    import sys, os
    sys.path.insert(0, {repo!r})
    from indexer.search import open_index
    from tests.indexer.samples import KEY, doc
    index = open_index({root!r}, KEY)
    print("ready", flush=True)
    batch = 0
    while True:
        batch += 1
        index.upsert([doc(f"c{{batch}}_{{i}}", "{canary} " + " ".join(f"w{{i}}_{{j}}" for j in range(200)))
                      for i in range(150)])
""")


def test_sigkill_mid_commit_leaves_a_usable_index(tmp_path: Path, canary_scan: Scan) -> None:
    root = tmp_path / "index"
    open_index(root, KEY, create=True).upsert([doc("base", "temeljni dokument")])
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    repo = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, TMPDIR=str(tmpdir))
    delays = (0.3, 0.9, 1.6)
    for delay in delays:
        proc = subprocess.Popen([sys.executable, "-c", CHILD.format(repo=repo, root=str(root), canary=CANARIES[0])],
                                stdout=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        index = open_index(root, KEY)  # cleans leftovers of the interrupted commit
        assert "base" in index.ids()
        assert index.search(SearchRequest("temeljni"), AccessScope.system(), lambda rid: "").total == 1
        assert SealedStorage(_live(root), KEY).leftover_files() == []
        index.upsert([doc(f"after{delay}", "po sesutju")])  # the lock was released by the kernel
        index.close()
    assert canary_scan([root, tmpdir], [CANARIES[0]]) == []
    final = open_index(root, KEY)
    assert final.search(SearchRequest("sesutju"), AccessScope.system(), lambda rid: "").total == len(delays)
    assert SealedStorage(_live(root), KEY).verify() > 0
