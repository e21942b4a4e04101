"""The ports: what the use cases need from storage, catalogue, search and extraction."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO, Protocol

from records.access import AccessScope
from records.audit import AuditEntry, AuditEvent
from records.model import BlobRef, BlobRole, Record, RecordId, SignatureFact, State, User, WrappedKey

# ---- sealed blobs (vault) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SealedBlob:
    ref: BlobRef
    sha256: str  # hex SHA-256 of the plaintext, computed while sealing


class SealBatch(Protocol):
    """A group commit of sealed objects (`BlobStore.batch()`): many objects, one durability point.

    `seal` may be called from several threads; an object it returns is not yet durable and must not
    be made live (referenced by a catalogue commit) before `commit()` has returned. `commit()` makes
    every object sealed so far durable (the local store: one fsync per object, one folder fsync for
    the batch). `discard(refs)` removes the given objects of the batch, or all of them when refs is
    None, committed or not (the catalogue commit failed, or a document turned out a duplicate).
    A store whose every write is durable when it returns (S3: a completed PUT) implements `seal` as
    its own seal, `commit` as nothing and `discard` as deletes (vault.objectbatch.ImmediateBatch)."""

    def seal(self, record_id: RecordId, key: WrappedKey, role: BlobRole, source: BinaryIO) -> SealedBlob: ...

    def commit(self) -> None: ...

    def discard(self, refs: Sequence[BlobRef] | None = None) -> None: ...


class BlobStore(Protocol):
    def new_data_key(self, record_id: RecordId) -> WrappedKey:
        """A fresh random data key for one record, returned wrapped (bound to the record id)."""

    def seal(self, record_id: RecordId, key: WrappedKey, role: BlobRole,
             source: BinaryIO) -> SealedBlob:
        """Stream `source` into a new sealed object (atomic, durable) and return where it is."""

    def batch(self) -> SealBatch:
        """A new group commit: seal many objects, make them durable together (see SealBatch)."""

    def open(self, record_id: RecordId, key: WrappedKey, ref: BlobRef) -> Iterator[bytes]:
        """Stream the plaintext back; raises IntegrityError naming the object on any tampering."""

    def delete(self, ref: BlobRef) -> None: ...

    def exclusive(self) -> AbstractContextManager[None]:
        """Hold the home's maintenance lock for a disposition: no backup runs meanwhile."""

    def content_mac(self, source: BinaryIO) -> str:
        """Keyed HMAC of the plaintext (hex), for duplicate detection; never a bare hash."""


class Signer(Protocol):
    """The home's Ed25519 audit key."""

    def sign(self, message: bytes) -> bytes: ...

    def public_key(self) -> bytes: ...  # raw 32 bytes


# ---- catalogue (vault, SQLCipher) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordFilter:
    record_class: str | None = None
    principal: str | None = None
    state: State | None = None
    filed_from: date | None = None
    filed_to: date | None = None
    parent_id: RecordId | None = None
    registry_number: str | None = None  # unique: at most one record


@dataclass(frozen=True, slots=True)
class Checkpoint:
    size: int  # number of audit entries covered
    head: str  # hash of entry `size`
    ts: datetime
    signature: bytes  # Ed25519 over checkpoint_text(...)


@dataclass(frozen=True, slots=True)
class PendingFile:
    """A file from `inbox/_unsorted` (or a rejected upload) waiting for a person."""

    pending_id: str
    original_name: str
    received_at: datetime
    size: int
    note: str = ""
    extra: tuple[tuple[str, str], ...] = field(default=())


class CatalogTx(Protocol):
    """One SQLCipher transaction: everything in it commits together or not at all."""

    def next_registry_seq(self, class_code: str, year: int) -> int: ...

    def find_by_mac(self, content_mac: str) -> RecordId | None: ...

    def add(self, record: Record, key: WrappedKey, content_mac: str) -> None: ...

    def replace(self, record: Record) -> None:
        """Store a new version of the record's metadata (holds, state, fields)."""

    def shred_key(self, record_id: RecordId) -> None:
        """Destroy the record's wrapped data key and its content MAC (crypto-shredding)."""

    def append_audit(self, event: AuditEvent) -> AuditEntry: ...

    def add_checkpoint(self, checkpoint: Checkpoint) -> None: ...

    def last_checkpoint_size(self) -> int:
        """The number of audit entries the newest checkpoint covers (0 when there is none), read in
        this transaction, so the decision to sign the next one cannot race another writer."""

    def put_user(self, user: User) -> None: ...

    def delete_user(self, name: str) -> None: ...

    def put_setting(self, key: str, value: str) -> None: ...


class Catalog(Protocol):
    def transaction(self) -> AbstractContextManager[CatalogTx]: ...

    def get(self, record_id: RecordId) -> Record:
        """Raises RecordNotFound."""

    def find(self, flt: RecordFilter = RecordFilter()) -> list[Record]: ...

    def find_by_mac(self, content_mac: str) -> RecordId | None:
        """The record filed with this content MAC, as last committed (CatalogTx.find_by_mac inside a
        transaction)."""

    def data_key(self, record_id: RecordId) -> WrappedKey | None: ...

    def audit_entries(self, since_seq: int = 0) -> Iterator[AuditEntry]: ...

    def audit_documents(self, since_seq: int = 0) -> Iterator[dict[str, Any]]:
        """Entries after `since_seq` as their stored JSON (AuditEntry.to_json() form, with "hash"),
        in order; exports stream these without rebuilding each entry."""

    def audit_page(self, *, before_seq: int | None = None, limit: int = 100, action: str = "", actor: str = "",
                   record_id: str = "") -> list[AuditEntry]:
        """Up to `limit` entries with seq below `before_seq` (all when None), newest first, whose action
        starts with `action` and whose actor and record equal the ones given (when not empty)."""

    def record_history(self, record_id: RecordId, limit: int) -> list[AuditEntry]:
        """The newest `limit` audit entries about one record, oldest first."""

    def audit_head(self) -> AuditEntry | None: ...

    def checkpoints(self) -> list[Checkpoint]: ...

    def get_user(self, name: str) -> User | None: ...

    def users(self) -> list[User]: ...

    def get_setting(self, key: str) -> str | None: ...


# ---- search (indexer) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexDoc:
    record: Record
    text: str


@dataclass(frozen=True, slots=True)
class SearchRequest:
    query: str
    page: int = 1
    page_len: int = 20
    sort: str = "relevance"  # relevance | date | -date
    with_facets: bool = True


@dataclass(frozen=True, slots=True)
class Hit:
    record_id: RecordId
    registry_number: str
    title: str
    record_class: str
    score: float
    snippet: str  # HTML-escaped text with <mark> around matches


@dataclass(frozen=True, slots=True)
class SearchResult:
    total: int
    hits: tuple[Hit, ...]
    facets: dict[str, dict[str, int]]  # record_class, principal, year, state, confidentiality
    suggestion: str | None = None  # "did you mean", only from what the user may see
    page: int = 1
    page_len: int = 20
    total_exact: bool = True  # False: `total` (and the facets) stop at the index's counting limit


class TextSource(Protocol):
    def __call__(self, record_id: RecordId) -> str: ...


class SearchIndex(Protocol):
    def upsert(self, docs: Sequence[IndexDoc]) -> None:
        """Add or replace, in one commit."""

    def remove(self, ids: Sequence[RecordId]) -> None: ...

    def search(self, request: SearchRequest, scope: AccessScope, text_of: TextSource) -> SearchResult:
        """Access control is part of the query: nothing outside `scope` is counted or shown."""

    def ids(self) -> set[RecordId]: ...


# ---- extraction (indexer.extract, sandboxed) -------------------------------------------


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Extraction:
    text: str
    media_type: str
    title: str = ""
    author: str = ""
    created: date | None = None
    pages: int | None = None
    note: str = ""  # "no text: the PDF is password-protected", "no text extracted", ...
    headers: tuple[tuple[str, str], ...] = ()  # e-mail: from, to, cc, subject, date, message-id
    attachments: tuple[Attachment, ...] = ()  # e-mail attachments, the documents of a signed container
    signatures: tuple[SignatureFact, ...] = ()  # signed PDF, DigiDoc container


class Extractor(Protocol):
    def extract_bytes(self, data: bytes, name: str) -> Extraction:
        """The text and facts of a document held in memory (it never touches the disk on the way).
        Raises ExtractionFailed with one sentence when the file is hostile or broken."""


# ---- capture: previews and OCR after filing (indexer.extract, sandboxed) ----------------------------


@dataclass(frozen=True, slots=True)
class PageCapture:
    number: int  # 1-based
    text: str  # the PDF's own text layer, or what OCR recognised
    recognised: bool  # True: the text was recognised by OCR (the page had no text layer)
    problem: str = ""  # one sentence on why the page has no text ("" when it has)
    preview: bytes = b""  # the page as a JPEG, for the record page


@dataclass(frozen=True, slots=True)
class Capture:
    pages: tuple[PageCapture, ...]
    thumbnail: bytes = b""  # the first page, small, for search results
    problem: str = ""  # one sentence when the document's pages could not be read at all


CaptureProgress = Callable[[int, int], None]  # (pages done, pages in all)


class Capturer(Protocol):
    def capture(self, data: bytes, media_type: str, *, languages: str,
                progress: CaptureProgress | None = None) -> Capture:
        """Page previews of a scan or PDF, the text layer of each page, and OCR of the pages without
        one (in `languages`, tesseract's form, e.g. "slv+est+eng"). Runs sandboxed; the document stays
        in memory. A page that fails carries its reason; raises CaptureFailed when the sandbox dies."""


# ---- the bundle the use cases receive --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ports:
    """The adapters one open home offers the use cases; `web` builds it, `records` uses it."""

    blobs: BlobStore
    catalog: Catalog
    signer: Signer
    extractor: Extractor
    index: SearchIndex | None = None  # None until the search index is wired in
    # Keyed HMAC (`hmac:<hex>`) for names and titles in audit details: correlatable, never readable.
    audit_hmac: Callable[[str], str] | None = None
    capturer: Capturer | None = None  # previews and OCR after filing; None: the stage is off
