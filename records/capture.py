"""Capture after filing: page previews and OCR of scans, as a restart-safe background stage.

Filing stays fast: it only enqueues a scan or PDF (`enqueue`, inside the filing transaction, so a
filed record is never forgotten). The stage (`run_next`, driven by the Office's background thread
or `strongroom ocr run`) takes one record at a time, has the Capturer port draw its pages and
recognise those without a text layer, seals the results as renditions of the record (OCR_TEXT,
PREVIEW, THUMBNAIL; the original never changes), commits them with a `record.capture` audit entry
and then indexes the recognised text.

The queue lives in the catalogue's settings, so it is sealed and survives a crash (SIGKILL
included): `capture.head`/`capture.tail` bound the slots `capture.q.<seq>` (a record id, "" once
finished), and `capture.job.<record id>` holds each job's state. A job is marked RUNNING (one
more attempt) before its work starts and is finished only after the index has its text, so a
crash repeats at most the work of one document, never adds its pages to the index twice (the
sealed rendition replaces the record's whole text in one upsert); a document that took the
process down MAX_ATTEMPTS times is failed with a reason instead of looping.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from records import checkpoints, retrieval
from records.errors import CaptureFailed, RecordNotFound
from records.events import event
from records.model import BlobRef, BlobRole, Record, RecordId, State
from records.ports import Capture, Catalog, CatalogTx, IndexDoc, Ports

ACTOR = "system:capture"
MAX_ATTEMPTS = 3
_HEAD, _TAIL, _SLOT, _JOB = "capture.head", "capture.tail", "capture.q.", "capture.job."
CAPTURE_ROLES = (BlobRole.OCR_TEXT, BlobRole.PREVIEW, BlobRole.THUMBNAIL)
_LANGUAGES = {"SI": "slv+eng", "EE": "est+eng", "SI+EE": "slv+est+eng"}
_PREVIEW_MAGIC = b"SRPV\x01"  # framed JPEGs: magic, u32 count, count x u64 sizes, the images
Progress = Callable[[RecordId, int, int], None]


class Interrupted(Exception):
    """The stage is stopping (serve or watch ends): the document in hand goes back to the queue."""


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RECOGNISED = "recognised"  # renditions sealed and committed; the index not yet told
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PageProblem:
    number: int
    reason: str


@dataclass(frozen=True, slots=True)
class JobStatus:
    """What the record page and search results say about a record's capture."""

    state: JobState
    seq: int
    attempts: int = 0
    pages: int = 0
    done: int = 0  # pages captured so far (progress)
    recognised: tuple[int, ...] = ()  # pages whose text OCR recognised
    failed: tuple[PageProblem, ...] = ()  # pages left without text, each with its reason
    problem: str = ""  # the whole document could not be captured
    position: int = 0  # documents ahead of this one in the queue (set when read)

    @property
    def waiting(self) -> bool:
        return self.state in (JobState.QUEUED, JobState.RUNNING, JobState.RECOGNISED)

    def to_json(self) -> str:
        return json.dumps({"state": str(self.state), "seq": self.seq, "attempts": self.attempts,
                           "pages": self.pages, "done": self.done, "recognised": list(self.recognised),
                           "failed": [[p.number, p.reason] for p in self.failed], "problem": self.problem},
                          sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JobStatus:
        raw = json.loads(text)
        return cls(state=JobState(raw["state"]), seq=int(raw["seq"]), attempts=int(raw["attempts"]),
                   pages=int(raw["pages"]), done=int(raw["done"]),
                   recognised=tuple(int(n) for n in raw["recognised"]),
                   failed=tuple(PageProblem(int(n), str(r)) for n, r in raw["failed"]), problem=str(raw["problem"]))


@dataclass(frozen=True, slots=True)
class QueueView:
    waiting: int  # documents queued or being captured
    current: RecordId | None = None
    done: int = 0  # of the current document's pages
    pages: int = 0
    ids: tuple[RecordId, ...] = field(default=())


def languages_for(jurisdiction: str) -> str:
    """Tesseract's languages for a home: Slovene and/or Estonian as its jurisdiction, always English."""
    return _LANGUAGES.get(jurisdiction, "slv+est+eng")


def wanted(record: Record) -> bool:
    """Scans and PDFs get page previews, and OCR of the pages that have no text layer."""
    return record.media_type.startswith("image/") or record.media_type == "application/pdf"


def enqueue(tx: CatalogTx, catalog: Catalog, record_id: RecordId) -> None:
    """Queue a record inside the caller's transaction (filing's: it commits with the record)."""
    tail = _int(catalog, _TAIL) + 1
    tx.put_setting(_TAIL, str(tail))
    tx.put_setting(_SLOT + str(tail), record_id)
    tx.put_setting(_JOB + record_id, JobStatus(state=JobState.QUEUED, seq=tail).to_json())


def status(catalog: Catalog, record_id: RecordId) -> JobStatus | None:
    """The record's capture state, with its place in the queue; None when it was never queued."""
    raw = catalog.get_setting(_JOB + record_id)
    if raw is None:
        return None
    job = JobStatus.from_json(raw)
    return replace(job, position=max(0, job.seq - _int(catalog, _HEAD) - 1)) if job.waiting else job


def queue(catalog: Catalog, limit: int = 1000) -> QueueView:
    """The documents waiting, oldest first, and the progress of the one being captured."""
    ids = _waiting(catalog, limit)
    current = ids[0] if ids else None
    job = status(catalog, current) if current else None
    running = job is not None and job.state is JobState.RUNNING
    return QueueView(waiting=len(ids), current=current if running else None,
                     done=job.done if job and running else 0, pages=job.pages if job and running else 0, ids=ids)


def run_next(ports: Ports, *, languages: str, now: Callable[[], datetime],
             progress: Progress | None = None, should_stop: Callable[[], bool] = lambda: False) -> RecordId | None:
    """Capture the oldest waiting record; returns its id, or None when the queue is empty (or this
    process has no capturer: the records wait for one that has)."""
    ids = _waiting(ports.catalog, 1)
    if not ids or ports.capturer is None:
        return None
    record_id = ids[0]
    job = status(ports.catalog, record_id) or JobStatus(state=JobState.QUEUED, seq=_int(ports.catalog, _HEAD) + 1)
    if job.state is JobState.RECOGNISED:  # sealed before a crash: only the index is left to do
        _index_and_finish(ports, record_id, job)
        return record_id
    if job.attempts >= MAX_ATTEMPTS:
        _fail(ports, record_id, job, f"capture stopped {job.attempts} times on this document (the program "
                                     "ended while reading it); it is filed without previews or OCR.", now)
        return record_id
    queued = job
    job = replace(job, state=JobState.RUNNING, attempts=job.attempts + 1, done=0)
    with ports.catalog.transaction() as tx:
        tx.put_setting(_JOB + record_id, job.to_json())
    try:
        record = ports.catalog.get(record_id)
    except RecordNotFound:
        record = None
    if record is None or record.state is State.DISPOSED:
        _finish(ports, record_id, replace(job, state=JobState.DONE))
        return record_id
    try:
        capture = ports.capturer.capture(_original(ports, record), record.media_type, languages=languages,
                                         progress=_progress_saver(ports, record_id, job, progress, should_stop))
    except Interrupted:  # a deliberate stop is no attempt: the document waits at the head of the queue
        with ports.catalog.transaction() as tx:
            tx.put_setting(_JOB + record_id, replace(queued, state=JobState.QUEUED).to_json())
        return None
    except CaptureFailed as exc:
        _fail(ports, record_id, job, str(exc), now)
        return record_id
    _store(ports, record, job, capture, now)
    return record_id


def run_all(ports: Ports, *, languages: str, now: Callable[[], datetime], progress: Progress | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> int:
    """Capture until the queue is empty (or `should_stop`); returns how many records were taken."""
    count = 0
    while not should_stop() and run_next(ports, languages=languages, now=now, progress=progress,
                                         should_stop=should_stop) is not None:
        count += 1
    return count


# ---- previews ------------------------------------------------------------------------------


def pack_previews(images: list[bytes]) -> bytes:
    sizes = b"".join(struct.pack(">Q", len(i)) for i in images)
    return _PREVIEW_MAGIC + struct.pack(">I", len(images)) + sizes + b"".join(images)


def preview_count(blob: bytes) -> int:
    return struct.unpack(">I", blob[len(_PREVIEW_MAGIC):len(_PREVIEW_MAGIC) + 4])[0] if _is_previews(blob) else 0


def unpack_preview(blob: bytes, page: int) -> bytes:
    """Page `page` (1-based) of a packed preview rendition; b"" when there is no such page."""
    count = preview_count(blob)
    if not 1 <= page <= count:
        return b""
    at = len(_PREVIEW_MAGIC) + 4
    sizes = [struct.unpack(">Q", blob[at + 8 * i:at + 8 * i + 8])[0] for i in range(count)]
    start = at + 8 * count + sum(sizes[:page - 1])
    return blob[start:start + sizes[page - 1]]


def _is_previews(blob: bytes) -> bool:
    return blob.startswith(_PREVIEW_MAGIC) and len(blob) >= len(_PREVIEW_MAGIC) + 4


# ---- the steps -----------------------------------------------------------------------------


def _int(catalog: Catalog, key: str) -> int:
    return int(catalog.get_setting(key) or "0")


def _waiting(catalog: Catalog, limit: int) -> tuple[RecordId, ...]:
    head, tail = _int(catalog, _HEAD), _int(catalog, _TAIL)
    found: list[RecordId] = []
    for seq in range(head + 1, tail + 1):
        value = catalog.get_setting(_SLOT + str(seq))
        if value:
            found.append(RecordId(value))
            if len(found) >= limit:
                break
    return tuple(found)


def _original(ports: Ports, record: Record) -> bytes:
    ref, key = record.blob(BlobRole.ORIGINAL), ports.catalog.data_key(record.id)
    if ref is None or key is None:
        raise CaptureFailed(f"record {record.registry_number} has no stored original to draw.")
    return b"".join(ports.blobs.open(record.id, key, ref))


def _progress_saver(ports: Ports, record_id: RecordId, job: JobStatus, progress: Progress | None,
                    should_stop: Callable[[], bool]) -> Callable[[int, int], None]:
    def saved(done: int, pages: int) -> None:  # only counts: no text of the page leaves the worker here
        if should_stop():
            raise Interrupted
        with ports.catalog.transaction() as tx:
            tx.put_setting(_JOB + record_id, replace(job, done=done, pages=pages).to_json())
        if progress is not None:
            progress(record_id, done, pages)
    return saved


def _store(ports: Ports, record: Record, job: JobStatus, capture: Capture, now: Callable[[], datetime]) -> None:
    if not capture.pages:  # nothing could be drawn or read: a failure with its reason, never a silent nothing
        _fail(ports, record.id, job, capture.problem or "the document has no pages to capture.", now)
        return
    recognised = tuple(p.number for p in capture.pages if p.recognised and p.text.strip())
    failed = tuple(PageProblem(p.number, p.problem) for p in capture.pages if p.problem)
    key = ports.catalog.data_key(record.id)
    if key is None:  # shredded meanwhile
        _finish(ports, record.id, replace(job, state=JobState.DONE))
        return
    renditions: list[tuple[BlobRole, bytes]] = []
    if recognised:
        text = "\n\n".join(p.text.strip() for p in capture.pages if p.text.strip())
        renditions.append((BlobRole.OCR_TEXT, text.encode("utf-8")))
    previews = [p.preview for p in capture.pages]
    if any(previews):
        renditions.append((BlobRole.PREVIEW, pack_previews(previews)))
    if capture.thumbnail:
        renditions.append((BlobRole.THUMBNAIL, capture.thumbnail))
    sealed = [ports.blobs.seal(record.id, key, role, io.BytesIO(data)).ref for role, data in renditions]
    job = replace(job, state=JobState.RECOGNISED if recognised else JobState.DONE, pages=len(capture.pages),
                  done=len(capture.pages), recognised=recognised, failed=failed, problem=capture.problem)
    try:
        replaced = _commit(ports, record.id, job, sealed, now())
    except BaseException:
        for ref in sealed:
            _delete(ports, ref)
        raise
    for ref in replaced:  # an earlier capture's renditions, now referenced by nothing
        _delete(ports, ref)
    if job.state is JobState.RECOGNISED:
        _index_and_finish(ports, record.id, job)


def _commit(ports: Ports, record_id: RecordId, job: JobStatus, sealed: list[BlobRef],
            when: datetime) -> list[BlobRef]:
    with ports.catalog.transaction() as tx:
        current = ports.catalog.get(record_id)  # read inside the transaction: a hold placed meanwhile stays
        if current.state is State.DISPOSED:
            raise CaptureFailed("the record was disposed of while it was being captured.")
        old = [b for b in current.blobs if b.role in CAPTURE_ROLES]
        kept = tuple(b for b in current.blobs if b.role not in CAPTURE_ROLES)
        tx.replace(replace(current, blobs=kept + tuple(sealed)))
        tx.put_setting(_JOB + record_id, job.to_json())
        if job.state is JobState.DONE:
            _free_slot(tx, ports.catalog, job.seq)
        checkpoints.append(tx, ports.signer, event(
            "record.capture", actor=ACTOR, now=when, record_id=record_id, channel="capture",
            details=(("pages", str(job.pages)), ("recognised", str(len(job.recognised))),
                     ("failed", str(len(job.failed))), ("problem", job.problem))))
    return old


def _index_and_finish(ports: Ports, record_id: RecordId, job: JobStatus) -> None:
    record = ports.catalog.get(record_id)
    if ports.index is not None and record.state is not State.DISPOSED:
        ports.index.upsert([IndexDoc(record=record, text=retrieval.text_of(ports, record_id))])
    _finish(ports, record_id, replace(job, state=JobState.DONE))


def _fail(ports: Ports, record_id: RecordId, job: JobStatus, reason: str, now: Callable[[], datetime]) -> None:
    failed = replace(job, state=JobState.FAILED, problem=reason)
    with ports.catalog.transaction() as tx:
        tx.put_setting(_JOB + record_id, failed.to_json())
        _free_slot(tx, ports.catalog, job.seq)
        checkpoints.append(tx, ports.signer, event("record.capture", actor=ACTOR, now=now(), record_id=record_id,
                                                   outcome="failed", channel="capture",
                                                   details=(("problem", reason),)))


def _finish(ports: Ports, record_id: RecordId, job: JobStatus) -> None:
    with ports.catalog.transaction() as tx:
        tx.put_setting(_JOB + record_id, job.to_json())
        _free_slot(tx, ports.catalog, job.seq)


def _free_slot(tx: CatalogTx, catalog: Catalog, seq: int) -> None:
    tx.put_setting(_SLOT + str(seq), "")
    head, tail = _int(catalog, _HEAD), _int(catalog, _TAIL)
    while head < tail and not catalog.get_setting(_SLOT + str(head + 1)):
        head += 1
    tx.put_setting(_HEAD, str(head))


def _delete(ports: Ports, ref: BlobRef) -> None:
    try:
        ports.blobs.delete(ref)
    except OSError:
        pass  # an orphan object holds only ciphertext; the next lone unlock removes it
