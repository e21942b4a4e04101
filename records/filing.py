"""Filing: the one use case that turns a document into a record, whichever way it came in.

Drop folder, browser upload and `strongroom import` all call `file_document`. The order of
steps is the crash-safety argument: blobs are sealed before the catalogue transaction, the
record and its audit entry commit together, and the index is written last (it is derived:
`reindex` repairs it), so a crash leaves at worst orphan objects and an unindexed record, which
the next unlock that is alone cleans up and re-indexes (vault/sessions.py, records.search.reconcile).

Group commit: `prepare` reads, extracts and seals a document into a `SealBatch` (no fsync yet);
`commit` makes a whole batch's objects durable at once, then files every record of the batch and
its audit entry in one catalogue transaction, then indexes them in one index commit. Bulk import
prepares from several threads and commits every hundred documents; `file_document` is a batch of one.

The document comes as a path (drop folder, import) or as bytes (a browser upload, which never
touches the disk). Either way it is read once, into memory, bounded by `max_bytes`: the keyed MAC,
the extraction and the sealing all work from that one buffer.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from records import capture, checkpoints
from records.access import AccessScope
from records.audit import AuditEvent
from records.errors import ExtractionFailed, RecordsError
from records.events import event, masked
from records.mail import merge_headers
from records.matters import CASEFILE_KEY
from records.model import (BlobRef, BlobRole, Confidentiality, Details, Record, RecordId, WrappedKey,
                           new_record_id)
from records.plan import Plan, RecordClass
from records.ports import Attachment, CatalogTx, Extraction, IndexDoc, Ports, SealBatch, SealedBlob
from records.registry import assign
from records.retention import apply_schedule

MAX_ATTACHMENT_DEPTH = 3  # an e-mail inside an e-mail inside an e-mail is filed; deeper is refused
DEFAULT_MAX_BYTES = 200 * 1024 * 1024  # the settings' max_upload_mb overrides it
NO_TEXT = "no text found in the file"  # an unread document's reason when the extractor gave none

Source = Path | bytes
"""A document to file: a file on disk (read once) or its bytes (an upload, kept in memory)."""


class FilingStatus(StrEnum):
    FILED = "filed"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    RETURNED = "returned"  # the drop folder's file changed while being filed: back in its folder


@dataclass(frozen=True, slots=True)
class FilingRequest:
    original_name: str
    record_class: str | None = None  # code or slug; None: the unsorted class
    principal: str = ""
    confidentiality: Confidentiality | None = None  # None: the class default
    title: str | None = None  # None: the extracted title, else the cleaned file name
    document_date: date | None = None
    details: Details | None = None
    parties: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()
    actor: str = "system"
    channel: str = "cli"
    parent_id: RecordId | None = None


@dataclass(frozen=True, slots=True)
class StepTimings:
    """Seconds spent in each step of one filing (children excluded)."""

    mac: float = 0.0  # keyed content MAC and the duplicate look-up
    extract: float = 0.0
    seal_original: float = 0.0
    seal_text: float = 0.0
    sync: float = 0.0  # making the sealed objects durable (the batch's fsyncs, shared out per record)
    catalog: float = 0.0  # the batch's transaction, shared out per record
    index: float = 0.0  # the batch's index commit, shared out per record

    STEPS = ("mac", "extract", "seal_original", "seal_text", "sync", "catalog", "index")

    @property
    def total(self) -> float:
        return (self.mac + self.extract + self.seal_original + self.seal_text + self.sync + self.catalog
                + self.index)

    def shares(self) -> dict[str, float]:
        total = self.total or 1.0
        return {name: getattr(self, name) / total for name in self.STEPS}


@dataclass(frozen=True, slots=True)
class FilingOutcome:
    """What became of one document, whichever way it came in (drop folder, upload, import); the one
    outcome type the shells render."""

    status: FilingStatus
    reason: str  # one sentence
    record_id: RecordId | None = None
    registry_number: str = ""
    duplicate_of: RecordId | None = None
    children: tuple[FilingOutcome, ...] = ()  # e-mail attachments, filed as linked records
    note: str = ""  # e.g. the index could not be updated (the record is safe; reindex repairs)
    timings: StepTimings = field(default_factory=StepTimings)
    source: str = ""  # the name or path the person knows the document by (set by the shell)
    rejected_to: str = ""  # where a rejected drop-folder file now lies (rejected/NAME)
    unread: str = ""  # filed, but its text could not be read: why (the extractor's note); "" when it could
    recognising: bool = False  # OCR is queued, which may still read the text that filing could not

    def named(self, source: str) -> FilingOutcome:
        return replace(self, source=source)

    def flattened(self) -> list[FilingOutcome]:
        """This outcome and every attachment's, depth first."""
        return [self, *(o for child in self.children for o in child.flattened())]


def seen_by(ports: Ports, scope: AccessScope, outcome: FilingOutcome) -> FilingOutcome:
    """The outcome as `scope` may learn it: a duplicate of a record the person may not see says only
    that the document cannot be filed again, never which record holds it (no number, no link)."""
    children = tuple(seen_by(ports, scope, child) for child in outcome.children)
    if outcome.status is FilingStatus.DUPLICATE and outcome.duplicate_of is not None:
        if not scope.can_see(ports.catalog.get(outcome.duplicate_of)):
            return replace(outcome, record_id=None, duplicate_of=None, registry_number="", children=children,
                           reason="This document is already filed, so it cannot be filed again.")
    return replace(outcome, children=children)


def rejected(reason: str, source: str = "") -> FilingOutcome:
    """The outcome of a document the shell could not even hand to filing (unreadable, bad sidecar)."""
    return FilingOutcome(status=FilingStatus.REJECTED, reason=reason, source=source)


def file_document(ports: Ports, plan: Plan, source: Source, request: FilingRequest, *, jurisdiction: str,
                  now: datetime, max_bytes: int = DEFAULT_MAX_BYTES,
                  timer: Callable[[], float] = time.perf_counter) -> FilingOutcome:
    """File one document: seal it, catalogue it with its audit entry, then index it (a batch of one)."""
    batch = ports.blobs.batch()
    item = prepare(ports, plan, source, request, batch=batch, jurisdiction=jurisdiction, now=now,
                   max_bytes=max_bytes, timer=timer)
    [outcome] = commit(ports, batch, [item], timer=timer)
    return outcome


def prepare(ports: Ports, plan: Plan, source: Source, request: FilingRequest, *, batch: SealBatch,
            jurisdiction: str, now: datetime, max_bytes: int = DEFAULT_MAX_BYTES,
            timer: Callable[[], float] = time.perf_counter) -> Prepared:
    """Read, check for a duplicate, extract and seal one document (and its attachments) into `batch`.
    Nothing is filed yet: `commit` files it. Thread-safe with other prepares into the same batch.
    Raises RecordsError before anything is sealed, OSError when the vault cannot be written (the
    document's objects are then removed again)."""
    cls = plan.resolve(request.record_class)
    _check_details(cls, request.details)
    data = read_source(source, max_bytes)
    return _File(ports, plan, cls, request, jurisdiction, now, timer).prepare(
        batch, lambda: io.BytesIO(data), lambda: ports.extractor.extract_bytes(data, request.original_name), 0)


def commit(ports: Ports, batch: SealBatch, items: Sequence[Prepared],
           timer: Callable[[], float] = time.perf_counter) -> list[FilingOutcome]:
    """The group commit of prepared documents, in order: the batch's objects made durable, then every
    record with its audit entry (duplicates and rejections too) in one catalogue transaction, the
    linearisation point, then one index commit. Any failure before the catalogue commit removes the
    batch's objects and propagates: nothing of the batch is filed."""
    started = timer()
    state = _Batch()
    try:
        batch.commit()
        synced = timer()
        with ports.catalog.transaction() as tx:
            for item in items:
                item.write(tx, state)
    except BaseException:
        batch.discard()
        raise
    catalogued = timer()
    if state.dropped:
        try:
            batch.discard(state.dropped)
        except OSError:
            pass  # an orphan object holds only ciphertext; the next lone unlock removes it
    note = _index(ports, state.docs)
    indexed = timer()
    filed = max(1, len(state.docs))
    shared = {"sync": (synced - started) / filed, "catalog": (catalogued - synced) / filed,
              "index": (indexed - catalogued) / filed}
    return [item.outcome(state, note, shared) for item in items]


def _index(ports: Ports, docs: list[IndexDoc]) -> str:
    if ports.index is None or not docs:
        return ""
    try:
        ports.index.upsert(docs)
    except Exception as exc:  # noqa: BLE001 - the records are committed; the index is derived
        return (f"The record is filed but the search index could not be updated "
                f"({type(exc).__name__}); run `strongroom reindex`.")
    return ""


def read_source(source: Source, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The document's bytes, read once; refused (RecordsError) when larger than `max_bytes`."""
    if isinstance(source, bytes):
        data = source
    else:
        with source.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise RecordsError(f"The file is larger than {max_bytes // (1024 * 1024)} MB, the most Strongroom "
                           "files at once: split or compress it.")
    return data


def already_filed(ports: Ports, source: Source, max_bytes: int = DEFAULT_MAX_BYTES) -> RecordId | None:
    """The record that already holds this document's content (keyed content MAC), if any."""
    mac = ports.blobs.content_mac(io.BytesIO(read_source(source, max_bytes)))
    return ports.catalog.find_by_mac(mac)


def _check_details(cls: RecordClass, details: Details | None) -> None:
    if details is not None and cls.detail is not None and details.kind != cls.detail:
        raise RecordsError(f"Class {cls.code} ({cls.slug}) takes {cls.detail} fields, not {details.kind} "
                           "fields: choose the matching class or drop those fields.")


class _File:
    """One filing run; a class only to share its inputs between the steps."""

    def __init__(self, ports: Ports, plan: Plan, cls: RecordClass, request: FilingRequest,
                 jurisdiction: str, now: datetime, timer: Callable[[], float]) -> None:
        self.ports, self.plan, self.cls, self.request = ports, plan, cls, request
        self.jurisdiction, self.now, self.timer = jurisdiction, now, timer
        self.laps: dict[str, float] = {}

    def _lap(self, name: str, started: float) -> None:
        self.laps[name] = self.laps.get(name, 0.0) + self.timer() - started

    def prepare(self, batch: SealBatch, opener: Callable[[], BinaryIO], extract: Callable[[], Extraction],
                depth: int) -> Prepared:
        ports = self.ports
        t = self.timer()
        with opener() as fh:
            mac = ports.blobs.content_mac(fh)
        existing = self._existing(mac)
        self._lap("mac", t)
        if existing is not None:
            return Prepared(self, FilingStatus.DUPLICATE, duplicate_of=existing)
        t = self.timer()
        try:
            extraction = extract()
        except ExtractionFailed as exc:
            self._lap("extract", t)
            return Prepared(self, FilingStatus.REJECTED, reason=str(exc))
        self._lap("extract", t)
        record_id = new_record_id()
        sealing = _Sealing(record_id, ports.blobs.new_data_key(record_id), mac, extraction)
        item = Prepared(self, FilingStatus.FILED, sealing=sealing)
        try:
            t = self.timer()
            with opener() as fh:
                sealing.sealed.append(batch.seal(record_id, sealing.key, BlobRole.ORIGINAL, fh))
            self._lap("seal_original", t)
            t = self.timer()
            sealing.sealed.append(batch.seal(record_id, sealing.key, BlobRole.TEXT,
                                             io.BytesIO(extraction.text.encode("utf-8"))))
            self._lap("seal_text", t)
            self._attachments(batch, item, sealing, depth)
        except BaseException:
            batch.discard(item.refs())
            raise
        return item

    def _existing(self, mac: str) -> RecordId | None:
        # A read, not a transaction: it must not wait for another batch's commit (`Prepared.write`
        # looks the MAC up again inside the commit, so a duplicate filed meanwhile is still caught).
        return self.ports.catalog.find_by_mac(mac)

    def _event(self, action: str, *, outcome: str = "ok", record_id: str | None = None,
               extra: tuple[tuple[str, str], ...] = ()) -> AuditEvent:
        return event(action, actor=self.request.actor, now=self.now, record_id=record_id, outcome=outcome,
                     channel=self.request.channel,
                     details=(("name", masked(self.ports, self.request.original_name)),
                              ("class", self.cls.code), *extra))

    def _build(self, record_id: RecordId, extraction: Extraction, sealed: list[SealedBlob],
               registry_number: str) -> Record:
        request = self.request
        details, parties, title = merge_headers(self.cls, request, extraction)
        original = sealed[0]
        record = Record(
            id=record_id, registry_number=registry_number,
            title=request.title or title or extraction.title.strip() or clean_name(request.original_name),
            record_class=self.cls.code, principal=request.principal,
            confidentiality=request.confidentiality or self.cls.confidentiality,
            document_date=self._document_date(extraction), filed_at=self.now,
            filed_by=request.actor, original_name=request.original_name, media_type=extraction.media_type,
            size=original.ref.size, sha256=original.sha256, parties=parties, tags=request.tags,
            details=details, blobs=tuple(s.ref for s in sealed), parent_id=request.parent_id,
            text_note=extraction.note, signatures=extraction.signatures,
            # Case file membership is set only by records.casefiles (with the case file's own list), never
            # by a sidecar or a form, so a filed record cannot claim a case file that does not list it.
            extra=tuple((k, v) for k, v in request.extra if k != CASEFILE_KEY))
        return apply_schedule(record, self.plan, self.jurisdiction)

    def _document_date(self, extraction: Extraction) -> date | None:
        """The person's date, else the document's own; an attachment takes its message's date,
        except a message forwarded inside it, which keeps its own Date header."""
        request = self.request
        if request.parent_id is not None and extraction.headers and extraction.created:
            return extraction.created
        return request.document_date or extraction.created

    def _commit(self, tx: CatalogTx, sealing: _Sealing) -> Record:
        number = assign(tx, self.cls.code, self.now.year)
        record = self._build(sealing.record_id, sealing.extraction, sealing.sealed, str(number))
        tx.add(record, sealing.key, sealing.mac)
        if capture.wanted(record):  # previews and OCR after filing, queued with the record itself
            capture.enqueue(tx, self.ports.catalog, record.id)
        checkpoints.append(tx, self.ports.signer, self._event(
            "record.file", record_id=record.id,
            extra=(("registry", record.registry_number), ("sha256", record.sha256),
                   ("parent", record.parent_id or ""))))
        return record

    def _attachments(self, batch: SealBatch, parent: Prepared, sealing: _Sealing, depth: int) -> None:
        extraction = sealing.extraction
        for attachment in extraction.attachments:
            request = replace(self.request, original_name=attachment.name, title=None, details=None,
                              parent_id=sealing.record_id, document_date=self._document_date(extraction), extra=())
            child = _File(self.ports, self.plan, self.cls, request, self.jurisdiction, self.now, self.timer)
            if depth + 1 > MAX_ATTACHMENT_DEPTH:
                parent.children.append(Prepared(child, FilingStatus.REJECTED,
                                                reason="The attachment is nested too deeply in e-mails to be filed."))
                continue
            parent.children.append(child.prepare(batch, *_in_memory(self.ports, attachment), depth + 1))


@dataclass(slots=True)
class _Sealing:
    """A document sealed into the batch, waiting to be catalogued."""

    record_id: RecordId
    key: WrappedKey
    mac: str
    extraction: Extraction
    sealed: list[SealedBlob] = field(default_factory=list)


@dataclass(slots=True)
class _Batch:
    """What one group commit learnt while writing its transaction."""

    filed: dict[str, Record] = field(default_factory=dict)  # filed in this batch, by content MAC
    docs: list[IndexDoc] = field(default_factory=list)
    dropped: list[BlobRef] = field(default_factory=list)  # objects of documents that turned out duplicates

    def number_of(self, ports: Ports, record_id: RecordId) -> str:
        for record in self.filed.values():
            if record.id == record_id:
                return record.registry_number
        return ports.catalog.get(record_id).registry_number


@dataclass(slots=True)
class Prepared:
    """One document read, extracted and sealed into a batch (or already judged a duplicate or a
    rejection), waiting for the group commit; its attachments ride along as children."""

    file: _File
    status: FilingStatus
    reason: str = ""  # a rejection's sentence
    duplicate_of: RecordId | None = None
    sealing: _Sealing | None = None  # FILED: what the commit catalogues
    children: list[Prepared] = field(default_factory=list)
    record: Record | None = None  # set once catalogued

    def refs(self) -> list[BlobRef]:
        """This document's objects and its attachments'."""
        own = [s.ref for s in self.sealing.sealed] if self.sealing is not None else []
        return own + [r for child in self.children for r in child.refs()]

    def write(self, tx: CatalogTx, state: _Batch) -> None:
        """Its catalogue rows and audit entry (and its attachments'), inside the batch's transaction."""
        file, sealing = self.file, self.sealing
        if self.status is FilingStatus.FILED and sealing is not None:
            earlier = state.filed.get(sealing.mac)
            duplicate = earlier.id if earlier is not None else tx.find_by_mac(sealing.mac)
            if duplicate is None:
                self.record = file._commit(tx, sealing)
                state.filed[sealing.mac] = self.record
                state.docs.append(IndexDoc(record=self.record, text=sealing.extraction.text))
                for child in self.children:
                    child.write(tx, state)
                return
            # Filed meanwhile (earlier in this batch, or by another process): nothing of it is kept.
            state.dropped.extend(self.refs())
            self.status, self.duplicate_of, self.children = FilingStatus.DUPLICATE, duplicate, []
        outcome = "duplicate" if self.status is FilingStatus.DUPLICATE else "rejected"
        checkpoints.append(tx, file.ports.signer, file._event("record.file", outcome=outcome,
                                                             record_id=self.duplicate_of))

    def outcome(self, state: _Batch, note: str, shared: dict[str, float]) -> FilingOutcome:
        file = self.file
        if self.record is not None and self.sealing is not None:
            record, extraction = self.record, self.sealing.extraction
            unread = "" if extraction.text.strip() else (extraction.note or NO_TEXT)
            return FilingOutcome(status=FilingStatus.FILED, record_id=record.id,
                                 registry_number=record.registry_number,
                                 reason=f"Filed as {record.registry_number} in class {file.cls.code}.",
                                 children=tuple(c.outcome(state, note, shared) for c in self.children),
                                 note=note, timings=StepTimings(**file.laps, **shared),
                                 unread=unread, recognising=_recognisable(record, unread))
        if self.duplicate_of is not None:
            number = state.number_of(file.ports, self.duplicate_of)
            return FilingOutcome(status=FilingStatus.DUPLICATE, record_id=self.duplicate_of,
                                 duplicate_of=self.duplicate_of, registry_number=number,
                                 reason=f"This document is already filed as {number}; it was not stored again.",
                                 timings=StepTimings(**file.laps))
        return FilingOutcome(status=FilingStatus.REJECTED, reason=self.reason, timings=StepTimings(**file.laps))


def _recognisable(record: Record, unread: str) -> bool:
    """Whether OCR may still read what filing could not: a scan or an image, not a locked PDF."""
    return bool(unread) and capture.wanted(record) and "password" not in unread


def _in_memory(ports: Ports, attachment: Attachment
               ) -> tuple[Callable[[], BinaryIO], Callable[[], Extraction]]:
    """Opener and extractor of an attachment that never touches the disk."""

    def opener() -> BinaryIO:
        return io.BytesIO(attachment.data)

    def extract() -> Extraction:
        return ports.extractor.extract_bytes(attachment.data, attachment.name)

    return opener, extract


def clean_name(name: str) -> str:
    """A readable title from a file name: no extension, separators as spaces, collapsed blanks."""
    stem = Path(name).stem if "." in name.strip(".") else name
    words = re.sub(r"[_\-.]+", " ", stem)
    return re.sub(r"\s+", " ", words).strip() or name
