"""Filing: the one use case that turns a document into a record, whichever way it came in.

Drop folder, browser upload and `strongroom import` all call `file_document`. The order of
steps is the crash-safety argument: blobs are sealed before the catalogue transaction, the
record and its audit entry commit together, and the index is written last (it is derived:
`reindex` repairs it), so a crash leaves at worst orphan objects and an unindexed record, which
the next unlock that is alone cleans up and re-indexes (vault/sessions.py, records.search.reconcile).

The document comes as a path (drop folder, import) or as bytes (a browser upload, which never
touches the disk). Either way it is read once, into memory, bounded by `max_bytes`: the keyed MAC,
the extraction and the sealing all work from that one buffer.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from records import capture, checkpoints
from records.access import AccessScope
from records.audit import AuditEvent
from records.errors import DuplicateRecord, ExtractionFailed, RecordsError
from records.events import event, masked
from records.mail import merge_headers
from records.matters import CASEFILE_KEY
from records.model import (BlobRole, Confidentiality, Details, Record, RecordId, WrappedKey,
                           new_record_id)
from records.plan import Plan, RecordClass
from records.ports import Attachment, Extraction, IndexDoc, Ports, SealedBlob
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
    catalog: float = 0.0
    index: float = 0.0

    @property
    def total(self) -> float:
        return self.mac + self.extract + self.seal_original + self.seal_text + self.catalog + self.index

    def shares(self) -> dict[str, float]:
        total = self.total or 1.0
        return {name: getattr(self, name) / total for name in
                ("mac", "extract", "seal_original", "seal_text", "catalog", "index")}


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
    """File one document: seal it, catalogue it with its audit entry, then index it."""
    cls = plan.resolve(request.record_class)
    _check_details(cls, request.details)
    data = read_source(source, max_bytes)
    return _File(ports, plan, cls, request, jurisdiction, now, timer).run(
        lambda: io.BytesIO(data), lambda: ports.extractor.extract_bytes(data, request.original_name), 0)


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
    with ports.catalog.transaction() as tx:
        return tx.find_by_mac(mac)


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

    def run(self, opener: Callable[[], BinaryIO], extract: Callable[[], Extraction], depth: int) -> FilingOutcome:
        ports = self.ports
        t = self.timer()
        with opener() as fh:
            mac = ports.blobs.content_mac(fh)
        existing = self._existing(mac)
        self._lap("mac", t)
        if existing is not None:
            return self._duplicate(existing)
        t = self.timer()
        try:
            extraction = extract()
        except ExtractionFailed as exc:
            self._lap("extract", t)
            return self._rejected(str(exc))
        self._lap("extract", t)
        record_id = new_record_id()
        key = ports.blobs.new_data_key(record_id)
        sealed: list[SealedBlob] = []
        try:
            t = self.timer()
            with opener() as fh:
                sealed.append(ports.blobs.seal(record_id, key, BlobRole.ORIGINAL, fh))
            self._lap("seal_original", t)
            t = self.timer()
            sealed.append(ports.blobs.seal(record_id, key, BlobRole.TEXT,
                                           io.BytesIO(extraction.text.encode("utf-8"))))
            self._lap("seal_text", t)
            t = self.timer()
            record = self._commit(record_id, key, mac, extraction, sealed)
            self._lap("catalog", t)
        except DuplicateRecord as exc:  # filed by someone else between our check and our commit
            self._discard(sealed)
            return self._duplicate(RecordId(exc.existing_id))
        except BaseException:
            self._discard(sealed)
            raise
        note = self._index(record, extraction.text)
        children = self._attachments(record, extraction, depth)
        unread = "" if extraction.text.strip() else (extraction.note or NO_TEXT)
        return FilingOutcome(status=FilingStatus.FILED, record_id=record.id,
                             registry_number=record.registry_number,
                             reason=f"Filed as {record.registry_number} in class {self.cls.code}.",
                             children=children, note=note, timings=StepTimings(**self.laps),
                             unread=unread, recognising=_recognisable(record, unread))

    def _existing(self, mac: str) -> RecordId | None:
        with self.ports.catalog.transaction() as tx:
            return tx.find_by_mac(mac)

    def _duplicate(self, existing: RecordId) -> FilingOutcome:
        other = self.ports.catalog.get(existing)
        with self.ports.catalog.transaction() as tx:
            checkpoints.append(tx, self.ports.signer, self._event(
                "record.file", outcome="duplicate", record_id=existing))
        return FilingOutcome(status=FilingStatus.DUPLICATE, record_id=existing, duplicate_of=existing,
                             registry_number=other.registry_number,
                             reason=f"This document is already filed as {other.registry_number}; "
                                    "it was not stored again.", timings=StepTimings(**self.laps))

    def _rejected(self, reason: str) -> FilingOutcome:
        with self.ports.catalog.transaction() as tx:
            checkpoints.append(tx, self.ports.signer, self._event("record.file", outcome="rejected"))
        return FilingOutcome(status=FilingStatus.REJECTED, reason=reason, timings=StepTimings(**self.laps))

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

    def _commit(self, record_id: RecordId, key: WrappedKey, mac: str, extraction: Extraction,
                sealed: list[SealedBlob]) -> Record:
        with self.ports.catalog.transaction() as tx:
            number = assign(tx, self.cls.code, self.now.year)
            record = self._build(record_id, extraction, sealed, str(number))
            tx.add(record, key, mac)
            if capture.wanted(record):  # previews and OCR after filing, queued with the record itself
                capture.enqueue(tx, self.ports.catalog, record.id)
            checkpoints.append(tx, self.ports.signer, self._event(
                "record.file", record_id=record.id,
                extra=(("registry", record.registry_number), ("sha256", record.sha256),
                       ("parent", record.parent_id or ""))))
        return record

    def _discard(self, sealed: list[SealedBlob]) -> None:
        for blob in sealed:
            try:
                self.ports.blobs.delete(blob.ref)
            except OSError:
                pass  # an orphan object holds only ciphertext; `verify` reports it

    def _index(self, record: Record, text: str) -> str:
        if self.ports.index is None:
            return ""
        t = self.timer()
        try:
            self.ports.index.upsert([IndexDoc(record=record, text=text)])
        except Exception as exc:  # noqa: BLE001 - the record is committed; the index is derived
            return (f"The record is filed but the search index could not be updated "
                    f"({type(exc).__name__}); run `strongroom reindex`.")
        finally:
            self._lap("index", t)
        return ""

    def _attachments(self, parent: Record, extraction: Extraction, depth: int) -> tuple[FilingOutcome, ...]:
        if not extraction.attachments:
            return ()
        outcomes = []
        for attachment in extraction.attachments:
            request = replace(self.request, original_name=attachment.name, title=None, details=None,
                              parent_id=parent.id, document_date=parent.document_date, extra=())
            child = _File(self.ports, self.plan, self.cls, request, self.jurisdiction, self.now, self.timer)
            if depth + 1 > MAX_ATTACHMENT_DEPTH:
                outcomes.append(child._rejected("The attachment is nested too deeply in e-mails to be filed."))
                continue
            outcomes.append(child.run(*_in_memory(self.ports, attachment), depth + 1))
        return tuple(outcomes)


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
