"""Builds a small world for export tests: an open home's ports with records and an audit trail."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from records.audit import AuditEvent
from records.model import (BlobRole, Confidentiality, ContractFields, CorrespondenceFields,
                           Direction, Record, State, new_record_id)
from records.ports import Ports
from vault import Home

# The home's own first entries carry the real time; the test's entries follow, a few days on.
T0 = (datetime.now(timezone.utc) + timedelta(days=3)).replace(hour=9, minute=0, second=0,
                                                               microsecond=0)


@dataclass
class World:
    ports: Ports
    root: Path

    def log(self, n: int, *, start: datetime = T0, step: timedelta = timedelta(hours=1)) -> None:
        with self.ports.catalog.transaction() as tx:
            for i in range(n):
                tx.append_audit(AuditEvent(ts=start + i * step, actor="ana", action="record.view",
                                           record_id=f"r{i}", details=(("n", str(i)),)))

    def file(self, title: str, data: bytes, *, record_class: str = "03.1", principal: str = "CEO",
             filed_at: datetime = T0, details: object = None,
             confidentiality: Confidentiality = Confidentiality.INTERNAL,
             name: str = "document.pdf") -> Record:
        rid = new_record_id()
        blobs = self.ports.blobs
        key = blobs.new_data_key(rid)
        sealed = blobs.seal(rid, key, BlobRole.ORIGINAL, io.BytesIO(data))
        with self.ports.catalog.transaction() as tx:
            seq = tx.next_registry_seq(record_class, filed_at.year)
            record = Record(id=rid, registry_number=f"{record_class}-{seq}/{filed_at.year}",
                            title=title, record_class=record_class, principal=principal,
                            confidentiality=confidentiality, document_date=filed_at.date(),
                            filed_at=filed_at, filed_by="ana", original_name=name,
                            media_type="application/pdf", size=len(data),
                            sha256=hashlib.sha256(data).hexdigest(), details=details,  # type: ignore[arg-type]
                            retention_until=date(filed_at.year + 10, 12, 31), blobs=(sealed.ref,))
            tx.add(record, key, blobs.content_mac(io.BytesIO(data)))
            tx.append_audit(AuditEvent(ts=filed_at, actor="ana", action="record.file",
                                       record_id=rid))
        return record

    def dispose(self, record: Record, when: datetime) -> Record:
        with self.ports.catalog.transaction() as tx:
            tx.shred_key(record.id)
            gone = replace(record, state=State.DISPOSED, disposed_at=when)
            tx.replace(gone)
            tx.append_audit(AuditEvent(ts=when, actor="ana", action="record.dispose",
                                       record_id=record.id))
        return gone


def make_world(home: Home) -> World:
    """The ports of a real, freshly initialised home (the shared `home` fixture)."""
    ports = Ports(blobs=home.blobs, catalog=home.catalog, signer=home.signer,
                  extractor=None)  # type: ignore[arg-type]  # exports never extract
    return World(ports=ports, root=home.path)


def contract(expiry: date) -> ContractFields:
    return ContractFields(parties=("Žužemberk d.o.o.", "Tõnu Ääremaa OÜ"), signed=date(2026, 1, 2),
                          expiry=expiry, notice_days=90)


def letter() -> CorrespondenceFields:
    return CorrespondenceFields(direction=Direction.INCOMING, sender="Öö Õunapuu",
                                recipients=("Čedo Šuštar",), subject="Pogodba št. 5")


def rewrite_zip(path: Path, changes: dict[str, bytes | None], *, order: list[str] | None = None) -> None:
    """Rewrite members of the ZIP at `path` (None deletes one); the rest is copied unchanged."""
    with zipfile.ZipFile(path) as src:
        members = {i.filename: src.read(i.filename) for i in src.infolist()}
    for name, data in changes.items():
        if data is None:
            members.pop(name, None)
        else:
            members[name] = data
    names = order or list(members)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in names:
            dst.writestr(name, members[name])
