"""The index on disk: generation directories behind a `current` symlink, atomic swaps, one writer."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from whoosh.index import FileIndex, LockError
from whoosh.reading import SegmentReader

from indexer import building
from indexer.codec import FlatCodec
from indexer.errors import IndexBusy, IndexCorrupt, IndexerError, IndexMissing
from indexer.schema import build_schema, document_of
from indexer.storage import SealedStorage
from records.ports import IndexDoc

CURRENT = "current"  # symlink in <home>/index naming the live generation directory
WRITE_TIMEOUT = 30.0  # seconds a writer waits for the lock before IndexBusy
WRITE_LIMIT_MB = 128  # posting buffer before whoosh spills sorted runs (to our in-memory temp)
Progress = Callable[[int, int], None]
# Segments merge after a commit in tiers of MERGE_FANOUT-fold sizes: once MERGE_FANOUT segments share a
# tier they become one, only while the merged segment holds at most MERGE_MAX_DOCS: a commit merges in
# the foreground, holding the writer lock, and whoosh's own policy (MERGE_SMALL) merged all 22
# segments of a 100,000-record index in one commit once filing had added a dozen small ones, which
# held every upload for minutes. Bigger segments are joined by `reindex`.
MERGE_FANOUT = 8
MERGE_MAX_DOCS = 16_384


def live_dir(root: Path) -> Path:
    return root / os.readlink(root / CURRENT)


def _corrupt(root: Path) -> IndexCorrupt:
    return IndexCorrupt(f"The search index at {root} cannot be read (damaged or incomplete): "
                        "run `strongroom reindex` to rebuild it from the vault.")


def open_storage(root: Path, key: bytes) -> tuple[SealedStorage, FileIndex]:
    link = root / CURRENT
    if not os.path.islink(link):
        raise IndexMissing(f"There is no search index at {root} yet: run `strongroom reindex`.")
    live = live_dir(root)
    storage = SealedStorage(live, key)
    storage.remove_leftovers()
    try:
        if not storage.index_exists():
            raise IndexMissing(f"The search index at {root} has no committed generation: "
                               "run `strongroom reindex`.")
        index = storage.open_index()
        index.searcher().close()  # opening decrypts and authenticates every live segment
    except IndexerError:
        raise
    except Exception:  # noqa: BLE001 - pickle, struct and whoosh errors all mean "unreadable"
        raise _corrupt(root) from None
    return storage, index


def _new_generation(root: Path, key: bytes) -> tuple[Path, SealedStorage, FileIndex]:
    root.mkdir(parents=True, exist_ok=True)
    live = root / f"ix-{secrets.token_hex(6)}"
    storage = SealedStorage(live, key)
    storage.create()
    return live, storage, storage.create_index(build_schema())


def _publish(root: Path, live: Path) -> None:
    """Point `current` at `live` atomically (symlink, rename, fsync) and drop older generations."""
    tmp = root / f".{CURRENT}-{secrets.token_hex(4)}"
    os.symlink(live.name, tmp)
    os.replace(tmp, root / CURRENT)
    fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    for old in root.glob("ix-*"):
        if old.name != live.name:
            shutil.rmtree(old, ignore_errors=True)


def create_index(root: Path, key: bytes) -> None:
    """An empty index at `root` (replacing whatever is there)."""
    live, _, _ = _new_generation(root, key)
    _publish(root, live)


def _dedupe(docs: Sequence[IndexDoc]) -> list[IndexDoc]:
    # update_document only replaces committed documents: two updates of one id in one writer
    # would leave two live copies, so keep the last per id.
    latest = {d.record.id: d for d in docs}
    return list(latest.values())


def rebuild(root: str | Path, key: bytes, docs: Iterable[IndexDoc], progress: Progress | None = None,
            *, total: int = 0, batch: int = 0, workers: int = 0) -> int:
    """Build a fresh index from `docs` in a new directory and swap it in atomically; the old index
    keeps serving until the swap. Worker processes (`workers`, default one per core) each write
    segments of `batch` documents (indexer.building), so memory stays bounded whatever the count."""
    root = Path(root)
    live, _, index = _new_generation(root, key)
    try:
        done = building.build(live, key, index, docs, progress, total=total, workers=workers,
                              segment_docs=batch or building.SEGMENT_DOCS)
    except OSError as exc:  # a full or failing disk: the new generation is dropped, the old one serves
        shutil.rmtree(live, ignore_errors=True)
        raise IndexerError(f"The search index could not be rebuilt ({exc.strerror or exc}): the old index "
                           "still serves; free disk space, then run `strongroom reindex` again.") from None
    except BaseException:
        shutil.rmtree(live, ignore_errors=True)
        raise
    _publish(root, live)
    return done


def write(index: FileIndex, upserts: Sequence[IndexDoc], removals: Sequence[str]) -> None:
    try:
        writer = index.writer(timeout=WRITE_TIMEOUT, limitmb=WRITE_LIMIT_MB, codec=FlatCodec())
    except LockError:
        raise IndexBusy("The search index is being updated by another process: try again in a minute.") from None
    try:
        for rid in removals:
            writer.delete_by_term("id", rid)
        known = set(index.schema.names())
        for doc in _dedupe(upserts):
            # An index built before a field existed (e.g. `signers`) lacks it until `reindex`: leave it out.
            writer.update_document(**{k: v for k, v in document_of(doc).items() if k in known})
        writer.commit(mergetype=merge_in_tiers)
    except BaseException:
        # After a failed write (e.g. ENOSPC) cancelling can fail on a closed file; the first error
        # is the one that says what happened.
        with contextlib.suppress(Exception):
            writer.cancel()
        raise


def merge_in_tiers(writer: Any, segments: list[Any]) -> list[Any]:
    """A whoosh merge policy: the segments left as they are; those of the smallest tier holding
    MERGE_FANOUT of them are added to `writer` (merged) when together at most MERGE_MAX_DOCS."""
    tiers: dict[int, list[Any]] = {}
    for segment in segments:
        tiers.setdefault(_tier(segment.doc_count_all()), []).append(segment)
    for tier in sorted(tiers):
        group = tiers[tier]
        if len(group) >= MERGE_FANOUT and sum(s.doc_count_all() for s in group) <= MERGE_MAX_DOCS:
            for segment in group:
                reader = SegmentReader(writer.storage, writer.schema, segment)
                writer.add_reader(reader)
                reader.close()
            return [s for s in segments if s not in group]
    return segments


def _tier(docs: int) -> int:
    tier = 0
    while docs >= MERGE_FANOUT:
        docs //= MERGE_FANOUT
        tier += 1
    return tier
