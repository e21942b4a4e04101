"""Retrieval: viewing a record, its text and its original, each checked against the reader's scope and audited."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from records import checkpoints
from records.access import AccessScope, Permission
from records.errors import AccessDenied, IntegrityError, RecordNotFound, UnknownRegistryNumber
from records.events import event
from records.model import BlobRole, Record, RecordId, State
from records.ports import Ports, RecordFilter


def _not_found(record_id: str) -> RecordNotFound:
    # The same sentence for a missing id and an invisible one: the answer must not reveal existence.
    return RecordNotFound(f"There is no record {record_id} that you may see: check the id (`strongroom list`).")


def visible_record(ports: Ports, scope: AccessScope, record_id: RecordId) -> Record:
    """The record if it exists and the scope may see it; otherwise RecordNotFound (identical either way)."""
    try:
        record = ports.catalog.get(record_id)
    except RecordNotFound:
        raise _not_found(record_id) from None
    if not scope.may(Permission.READ) or not scope.can_see(record):
        raise _not_found(record_id)
    return record


def visible_records(ports: Ports, scope: AccessScope, ids: Iterable[RecordId]) -> list[Record]:
    """The records among `ids` that the scope may see, in order; gone and hidden ones are left out, never counted."""
    out = []
    for record_id in ids:
        try:
            record = ports.catalog.get(record_id)
        except RecordNotFound:
            continue
        if scope.can_see(record):
            out.append(record)
    return out


def record_by_number(ports: Ports, scope: AccessScope, text: str) -> Record:
    """The live record with this registry number (03.1-17/2026) or id that the scope may see."""
    text = text.strip()
    for record in _by_number_or_id(ports, text):
        if record.state is not State.DISPOSED and scope.can_see(record):
            return record
    raise UnknownRegistryNumber(f"There is no record {text} that you may see: check the registry number.")


def view_record(ports: Ports, scope: AccessScope, record_id: RecordId, *, now: datetime,
                channel: str = "cli") -> Record:
    """The record's metadata; the view is an audit entry (reads of confidential records are evidence)."""
    record = _audited(ports, scope, record_id, "record.view", now, channel)
    return record


def read_original(ports: Ports, scope: AccessScope, record_id: RecordId, *, now: datetime,
                  channel: str = "cli") -> tuple[Record, Iterator[bytes]]:
    """The record and a stream of its original bytes; the download is audited before a byte flows."""
    record = _audited(ports, scope, record_id, "record.download", now, channel)
    return record, _stream(ports, record, BlobRole.ORIGINAL)


def read_text(ports: Ports, scope: AccessScope, record_id: RecordId, *, now: datetime,
              channel: str = "cli") -> str:
    """The record's text rendition (for previews); audited as a view of the text."""
    record = _audited(ports, scope, record_id, "record.view_text", now, channel)
    return b"".join(_stream(ports, record, text_role(record))).decode("utf-8")


def text_of(ports: Ports, record_id: RecordId) -> str:
    """The text rendition without an access check: for the indexer's reindex and snippets only."""
    record = ports.catalog.get(record_id)
    return b"".join(_stream(ports, record, text_role(record))).decode("utf-8")


def text_role(record: Record) -> BlobRole:
    """The rendition that holds the record's text: the capture's (text layer and OCR) once there is one."""
    return BlobRole.OCR_TEXT if record.blob(BlobRole.OCR_TEXT) is not None else BlobRole.TEXT


def read_image(ports: Ports, scope: AccessScope, record_id: RecordId, role: BlobRole, *, now: datetime,
               part: str, channel: str = "cli") -> tuple[Record, bytes]:
    """A page preview or thumbnail rendition (the whole sealed blob), audited as a view of the record
    (`part` names which image), never as a download; RecordNotFound when it has none."""
    record = _audited(ports, scope, record_id, "record.view", now, channel, (("part", part),))
    if record.blob(role) is None:
        raise _not_found(record_id)
    return record, b"".join(_stream(ports, record, role))


def _audited(ports: Ports, scope: AccessScope, record_id: RecordId, action: str, now: datetime,
             channel: str, details: tuple[tuple[str, str], ...] = ()) -> Record:
    try:
        record = visible_record(ports, scope, record_id)
    except RecordNotFound:
        with ports.catalog.transaction() as tx:
            checkpoints.append(tx, ports.signer, event(action, actor=scope.actor, now=now, record_id=record_id,
                                                       outcome="denied", channel=channel))
        raise
    if record.state is State.DISPOSED and action != "record.view":
        with ports.catalog.transaction() as tx:
            checkpoints.append(tx, ports.signer, event(action, actor=scope.actor, now=now, record_id=record.id,
                                                       outcome="denied", channel=channel))
        raise AccessDenied(f"Record {record.registry_number} was disposed of on "
                           f"{record.disposed_at.date().isoformat() if record.disposed_at else 'an earlier date'}: "
                           "only its metadata stub remains.")
    with ports.catalog.transaction() as tx:
        checkpoints.append(tx, ports.signer, event(action, actor=scope.actor, now=now, record_id=record.id,
                                                   channel=channel, details=details))
    return record


def _stream(ports: Ports, record: Record, role: BlobRole) -> Iterator[bytes]:
    ref = record.blob(role)
    key = ports.catalog.data_key(record.id)
    if ref is None or key is None:
        raise IntegrityError(f"Record {record.registry_number} has no stored {role}: run `strongroom verify`.")
    return ports.blobs.open(record.id, key, ref)


def id_of(ports: Ports, text: str) -> str:
    """The record id a person typed as a registry number (03.1-7/2026), or `text` itself (an id)."""
    if "/" in text:
        for record in ports.catalog.find(RecordFilter(registry_number=text.strip())):
            return record.id
    return text


def _by_number_or_id(ports: Ports, text: str) -> list[Record]:
    # one indexed lookup each (the registry number is unique), never a walk through the whole catalogue
    found = ports.catalog.find(RecordFilter(registry_number=text))
    if found:
        return found
    try:
        return [ports.catalog.get(RecordId(text))]
    except RecordNotFound:
        return []
