"""The audit export use case: registers, the audit slice and optional originals, signed."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, BinaryIO

from records.access import AccessScope, Permission
from records.audit import GENESIS, AuditEvent, canonical, withhold
from records.certificates import all_certificates
from records.checkpoints import append, checkpoint_text, seal_run
from records.errors import AccessDenied, IntegrityError, RecordsError
from records.export_package import (FORMAT, FORMAT_VERSION, PackageWriter, Pipe, fingerprint,
                                    safe_member_part)
from records.export_registers import (CONTRACT_HEADER, CORRESPONDENCE_HEADER, DISPOSITION_HEADER,
                                      RECORD_HEADER, CertificateFile, certificate_files,
                                      contract_rows, correspondence_rows, disposition_rows,
                                      readme_text, record_rows)
from records.model import BlobRole, Record, State
from records.ports import Ports, RecordFilter
from records.spreadsheet import csv_lines

ACTION = "audit.export"
LAST_EXPORT_SETTING = "export.last_head"  # "seq:hash" of the newest chain head ever exported
AUDIT_MEMBER = "audit.jsonl"
BRIDGE_MEMBER = "audit-bridge.jsonl"
CHECKPOINT_MEMBER = "checkpoints.jsonl"
# Audit details that fingerprint a document: exported only for records the exporter may see and
# that still exist (a bare SHA-256 answers "was this known file ever here?", even after destruction).
DOCUMENT_HASH_DETAILS = ("sha256",)
_LARGE = 1 << 30  # members above this need ZIP64 headers written up front


class ExportError(RecordsError):
    """An export could not be completed; the partial file must be discarded."""


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What to export. Dates are inclusive calendar days in UTC; None means open-ended."""

    date_from: date | None = None
    date_to: date | None = None
    record_class: str | None = None  # a class code; the shell resolves slugs
    principal: str | None = None
    with_documents: bool = False


@dataclass(frozen=True, slots=True)
class ChainPoint:
    seq: int
    hash: str

    def to_json(self) -> dict[str, object]:
        return {"seq": self.seq, "hash": self.hash}

    @classmethod
    def parse(cls, text: str) -> ChainPoint:
        seq, _, digest = text.partition(":")
        return cls(int(seq), digest)


@dataclass(frozen=True, slots=True)
class ExportSummary:
    manifest_sha256: str
    head: ChainPoint
    entries: int
    records: int
    documents: int
    fingerprint: str


def start_export(ports: Ports, scope: AccessScope, request: ExportRequest, *, now: datetime,
                 channel: str = "cli") -> AuditExport:
    """Check access and fix what the export covers; stream it with `AuditExport.stream()`.

    Refusal is itself audited. Nothing is written to the catalogue until the stream ends,
    when the export (or its failure) becomes one audit entry followed by a signed checkpoint.
    """
    if not scope.may(Permission.AUDIT):
        with ports.catalog.transaction() as tx:
            append(tx, ports.signer, AuditEvent(ts=now, actor=scope.actor, action=ACTION,
                                                outcome="denied", channel=channel))
        raise AccessDenied("Only auditors and administrators may make audit exports; "
                           "ask one of them to make it.")
    if request.date_from and request.date_to and request.date_from > request.date_to:
        raise ExportError("The export period ends before it starts; check --from and --to.")
    return AuditExport(ports, scope, request, now=now, channel=channel)


class AuditExport:
    """One export in progress: `stream()` yields the ZIP's bytes as they are produced."""

    def __init__(self, ports: Ports, scope: AccessScope, request: ExportRequest, *,
                 now: datetime, channel: str) -> None:
        self._ports = ports
        self._scope = scope
        self.request = request
        self._from = request.date_from.isoformat() if request.date_from else None
        self._to = request.date_to.isoformat() if request.date_to else None
        self._now = now
        self._channel = channel
        head = ports.catalog.audit_head()
        # Entries appended while the export runs (by the watcher, by this export) stay out.
        self._catalog_head = ChainPoint(head.seq, head.hash) if head else ChainPoint(0, GENESIS)
        stored = ports.catalog.get_setting(LAST_EXPORT_SETTING)
        self._previous = ChainPoint.parse(stored) if stored else None
        visible = self._scoped_records()
        # Whose document hashes the audit slice may show: seen by the exporter, not destroyed.
        self._hash_visible = {r.id for r in self._ports.catalog.find()
                              if r.state != State.DISPOSED and self._scope.can_see(r)}
        self._records = sorted((r for r in visible if self._in_period(r.filed_at)),
                               key=lambda r: (r.filed_at, r.registry_number))
        self._disposed = sorted((r for r in visible
                                 if r.state == State.DISPOSED and self._in_period(r.disposed_at)),
                                key=lambda r: (r.disposed_at or r.filed_at, r.registry_number))
        self.summary: ExportSummary | None = None

    @property
    def filename(self) -> str:
        stamp = self._now.astimezone(timezone.utc).strftime("%Y%m%d-%H%M%S")
        return f"strongroom-audit-{stamp}.zip"

    # ---- selection ------------------------------------------------------------------

    def _scoped_records(self) -> list[Record]:
        flt = RecordFilter(record_class=self.request.record_class, principal=self.request.principal)
        return [r for r in self._ports.catalog.find(flt)
                if self._scope.can_see(r)
                and (self.request.record_class is None or r.record_class == self.request.record_class)
                and (self.request.principal is None or r.principal == self.request.principal)]

    def _in_period(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        day = moment.astimezone(timezone.utc).date()
        return ((self.request.date_from is None or day >= self.request.date_from)
                and (self.request.date_to is None or day <= self.request.date_to))

    def _in_slice(self, doc: dict[str, Any]) -> bool:
        day = str(doc["ts"])[:10]  # entries carry "YYYY-MM-DDT...Z" in UTC: ISO days compare as text
        return ((self._from is None or day >= self._from) and (self._to is None or day <= self._to))

    # ---- streaming ----------------------------------------------------------------------

    def stream(self) -> Iterator[bytes]:
        """The ZIP, chunk by chunk; on success the export is audited and checkpointed."""
        pipe = Pipe()
        writer = PackageWriter(pipe)
        outcome, reason = "failed", "interrupted"
        try:
            for _ in self._members(writer):
                chunk = pipe.take()
                if chunk:
                    yield chunk
            body = writer.finish(self._manifest(), self._ports.signer)
            yield pipe.take()
            self.summary = ExportSummary(
                manifest_sha256=hashlib.sha256(body).hexdigest(), head=self._head,
                entries=self._entries, records=len(self._records), documents=self._documents,
                fingerprint=fingerprint(self._ports.signer.public_key()))
            outcome, reason = "ok", ""
        except Exception as exc:  # recorded as a failed export, then passed on unchanged
            reason = str(exc) or type(exc).__name__
            writer.abort()
            raise
        finally:
            self._record_event(outcome, reason)

    def _members(self, writer: PackageWriter) -> Iterator[None]:
        self._documents = 0
        certificates = self._certificates()
        yield from writer.member("README.txt", [readme_text().encode("utf-8")])
        yield from writer.member("records.csv", csv_lines(RECORD_HEADER, record_rows(self._records)))
        yield from writer.member("contracts.csv",
                                 csv_lines(CONTRACT_HEADER, contract_rows(self._records)))
        yield from writer.member("correspondence.csv",
                                 csv_lines(CORRESPONDENCE_HEADER, correspondence_rows(self._records)))
        yield from writer.member("dispositions.csv",
                                 csv_lines(DISPOSITION_HEADER,
                                           disposition_rows(self._disposed, certificates)))
        for member, cert in sorted({c.member: c for c in certificates.values()}.items()):
            yield from writer.member(member, [cert.body])
        yield from self._audit_members(writer)
        yield from writer.member(CHECKPOINT_MEMBER, self._checkpoint_lines())
        if self.request.with_documents:
            yield from self._document_members(writer)

    def _certificates(self) -> dict[str, CertificateFile]:
        ids = {r.id for r in self._disposed}
        return certificate_files(all_certificates(self._ports.catalog), ids) if ids else {}

    def _audit_members(self, writer: PackageWriter) -> Iterator[None]:
        """The period's slice of the chain, plus a bridge from the previous export's head.

        The slice runs from the first entry dated in the period to the last one, by seq, so
        it is contiguous even if the clock once went backwards; the entry before it is the
        anchor the slice's chain starts from.
        """
        limit = self._catalog_head.seq
        previous = self._previous
        docs = (d for d in self._ports.catalog.audit_documents(0) if 0 < int(d["seq"]) <= limit)
        anchor = ChainPoint(0, GENESIS)  # the entry just before the slice
        last_before = anchor  # the anchor if the period holds no entry at all
        first: dict[str, Any] | None = None
        bridge: list[tuple[int, bytes]] = []
        for doc in docs:
            if self._in_slice(doc):
                first = doc
                break
            point = _point(doc)
            if previous is not None and point.seq > previous.seq:
                bridge.append((point.seq, self._line(doc)))
            if self._from is not None and str(doc["ts"])[:10] < self._from:
                last_before = point
            anchor = point
        if first is None:
            anchor = last_before
        bridge = [(seq, line) for seq, line in bridge if seq <= anchor.seq]
        self._bridge_from = previous if bridge else None
        self._bridge_entries = len(bridge)
        if bridge:
            yield from writer.member(BRIDGE_MEMBER, _batched(line for _, line in bridge))
        self._anchor = self._head = anchor
        self._entries = 0

        def slice_lines() -> Iterator[bytes]:
            if first is None:
                return
            # Entries dated after the period wait (as bytes) in case one dated in it follows.
            held: list[tuple[ChainPoint, bytes]] = []
            for doc in _chain([first], docs):
                held.append((_point(doc), self._line(doc)))
                if not self._in_slice(doc):
                    continue
                for point, line in held:
                    self._head = point
                    self._entries += 1
                    yield line
                held.clear()

        yield from writer.member(AUDIT_MEMBER, _batched(slice_lines()))

    def _line(self, doc: dict[str, Any]) -> bytes:
        """The entry as exported: a document hash of a record the exporter may not see, or of a
        destroyed one, is withheld (the entry keeps its stated hash; verify-export says so)."""
        details = doc.get("details") or {}
        if (any(name in details for name in DOCUMENT_HASH_DETAILS)
                and doc.get("record") not in self._hash_visible):
            doc = withhold(doc, DOCUMENT_HASH_DETAILS)
        return _line(doc)

    def _checkpoint_lines(self) -> Iterator[bytes]:
        """The signed checkpoints that fall inside the exported chain, with the exact text signed."""
        low = (self._bridge_from or self._anchor).seq
        for cp in self._ports.catalog.checkpoints():
            if low < cp.size <= self._head.seq:
                doc = {"text": checkpoint_text(cp).decode("utf-8"),
                       "signature": base64.b64encode(cp.signature).decode("ascii")}
                yield canonical(doc) + b"\n"

    def _document_members(self, writer: PackageWriter) -> Iterator[None]:
        blobs, catalog = self._ports.blobs, self._ports.catalog
        for record in self._records:
            ref = record.blob(BlobRole.ORIGINAL)
            key = catalog.data_key(record.id) if ref is not None else None
            if ref is None or key is None or record.state == State.DISPOSED:
                continue  # disposed or never had an original: nothing to hand over
            name = (f"documents/{safe_member_part(record.registry_number)}/"
                    f"{safe_member_part(record.original_name or 'original')}")
            digest = hashlib.sha256()

            def checked(chunks: Iterator[bytes], r: Record = record) -> Iterator[bytes]:
                for chunk in chunks:
                    digest.update(chunk)
                    yield chunk
                if digest.hexdigest() != r.sha256:
                    raise IntegrityError(
                        f"The original of record {r.registry_number} does not match its fixity "
                        "SHA-256, so the export was stopped; run `strongroom verify` and "
                        "restore that record from a backup.")

            yield from writer.member(name, checked(blobs.open(record.id, key, ref)),
                                     large=ref.size > _LARGE)
            self._documents += 1

    def _manifest(self) -> dict[str, object]:
        public_key = self._ports.signer.public_key()
        req = self.request
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created_at": _iso(self._now),
            "created_by": self._scope.actor,
            "period": {"from": req.date_from.isoformat() if req.date_from else None,
                       "to": req.date_to.isoformat() if req.date_to else None},
            "scope": {"record_class": req.record_class, "principal": req.principal,
                      "with_documents": req.with_documents},
            "chain": {"anchor": self._anchor.to_json(), "head": self._head.to_json(),
                      "entries": self._entries, "member": AUDIT_MEMBER,
                      "checkpoints": CHECKPOINT_MEMBER},
            "bridge": ({"from": self._bridge_from.to_json(), "entries": self._bridge_entries,
                        "member": BRIDGE_MEMBER} if self._bridge_from else None),
            "catalog_head": self._catalog_head.to_json(),
            "previous_export": self._previous.to_json() if self._previous else None,
            "counts": {"records": len(self._records), "dispositions": len(self._disposed),
                       "documents": self._documents},
            "key": {"algorithm": "Ed25519",
                    "public_key": base64.b64encode(public_key).decode("ascii"),
                    "fingerprint": fingerprint(public_key)},
        }

    def _record_event(self, outcome: str, reason: str) -> None:
        req = self.request
        details: dict[str, str] = {
            "from": req.date_from.isoformat() if req.date_from else "",
            "to": req.date_to.isoformat() if req.date_to else "",
            "class": req.record_class or "", "principal": req.principal or "",
            "documents": "yes" if req.with_documents else "no",
        }
        if self.summary is not None:
            details.update(head=f"{self.summary.head.seq}:{self.summary.head.hash}",
                           manifest_sha256=self.summary.manifest_sha256,
                           entries=str(self.summary.entries), records=str(self.summary.records))
        if reason:
            details["reason"] = reason[:300]
        event = AuditEvent(ts=self._now, actor=self._scope.actor, action=ACTION, outcome=outcome,
                           channel=self._channel, details=tuple(sorted(details.items())))
        with self._ports.catalog.transaction() as tx:
            seal_run(tx, self._ports.signer, event)
            if self.summary is not None and (self._previous is None
                                             or self.summary.head.seq > self._previous.seq):
                tx.put_setting(LAST_EXPORT_SETTING,
                               f"{self.summary.head.seq}:{self.summary.head.hash}")


def export_to(sink: BinaryIO, export: AuditExport) -> ExportSummary:
    """Run `export` into a writable binary file object; returns the summary."""
    for chunk in export.stream():
        sink.write(chunk)
    if export.summary is None:  # stream() sets it whenever it returns normally
        raise ExportError("The export did not finish; discard the file and try again.")
    return export.summary


def _line(doc: dict[str, Any]) -> bytes:
    return canonical(doc) + b"\n"  # the same bytes the chain hashes, plus "hash"


def _point(doc: dict[str, Any]) -> ChainPoint:
    return ChainPoint(int(doc["seq"]), str(doc["hash"]))


def _chain(first: list[dict[str, Any]], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from first
    yield from rest


def _batched(lines: Iterator[bytes], size: int = 1 << 16) -> Iterator[bytes]:
    """Join small lines into ~64 KiB chunks: far fewer compressor calls per export."""
    buffer: list[bytes] = []
    held = 0
    for line in lines:
        buffer.append(line)
        held += len(line)
        if held >= size:
            yield b"".join(buffer)
            buffer.clear()
            held = 0
    if buffer:
        yield b"".join(buffer)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
