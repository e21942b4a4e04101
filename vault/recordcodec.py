"""JSON forms of records and users as the catalogue stores them (inside the encrypted file)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from records.model import (BlobRef, BlobRole, Confidentiality, Hold, ObjectId, Record, RecordId, Role,
                           Integrity, SignatureFact, State, Trust, User, details_from_dict, details_to_dict)
from records.retention import STORED_EARLIER

CODEC_VERSION = 1


def record_to_json(record: Record) -> str:
    doc: dict[str, Any] = {
        "v": CODEC_VERSION,
        "id": record.id,
        "registry_number": record.registry_number,
        "title": record.title,
        "record_class": record.record_class,
        "principal": record.principal,
        "confidentiality": str(record.confidentiality),
        "document_date": _iso(record.document_date),
        "filed_at": _iso(record.filed_at),
        "filed_by": record.filed_by,
        "original_name": record.original_name,
        "media_type": record.media_type,
        "size": record.size,
        "sha256": record.sha256,
        "parties": list(record.parties),
        "tags": list(record.tags),
        "details": details_to_dict(record.details),
        "retention_trigger": _iso(record.retention_trigger),
        "retention_until": _iso(record.retention_until),
        "retention_basis": record.retention_basis,
        "holds": [{"hold_id": h.hold_id, "reason": h.reason, "placed_by": h.placed_by,
                   "placed_at": _iso(h.placed_at), "released_by": h.released_by,
                   "released_at": _iso(h.released_at),
                   **({"placed_role": str(h.placed_role)} if h.placed_role else {}),
                   **({"release_reason": h.release_reason} if h.release_reason else {})} for h in record.holds],
        "state": str(record.state),
        "blobs": [{"object_id": b.object_id, "role": str(b.role), "size": b.size} for b in record.blobs],
        "parent_id": record.parent_id,
        "text_note": record.text_note,
        "disposed_at": _iso(record.disposed_at),
        "extra": [list(pair) for pair in record.extra],
    }
    if record.signatures:  # absent in records filed before signatures were read (and read as none)
        doc["signatures"] = [_signature_to_json(s) for s in record.signatures]
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def record_from_json(text: str) -> Record:
    d = json.loads(text)
    return Record(
        id=RecordId(d["id"]), registry_number=d["registry_number"], title=d["title"],
        record_class=d["record_class"], principal=d["principal"],
        confidentiality=Confidentiality(d["confidentiality"]),
        document_date=_date(d["document_date"]), filed_at=_datetime_req(d["filed_at"]),
        filed_by=d["filed_by"], original_name=d["original_name"], media_type=d["media_type"],
        size=int(d["size"]), sha256=d["sha256"], parties=tuple(d["parties"]), tags=tuple(d["tags"]),
        details=details_from_dict(d["details"]), retention_trigger=_date(d["retention_trigger"]),
        retention_until=_date(d["retention_until"]),
        # Stored before the basis was kept: the stored schedule still binds (records.retention).
        retention_basis=d.get("retention_basis", STORED_EARLIER),
        holds=tuple(Hold(hold_id=h["hold_id"], reason=h["reason"], placed_by=h["placed_by"],
                         placed_at=_datetime_req(h["placed_at"]), released_by=h["released_by"],
                         released_at=_datetime(h["released_at"]),
                         placed_role=Role(h["placed_role"]) if h.get("placed_role") else None,
                         release_reason=h.get("release_reason", "")) for h in d["holds"]),
        state=State(d["state"]),
        blobs=tuple(BlobRef(object_id=ObjectId(b["object_id"]), role=BlobRole(b["role"]), size=int(b["size"]))
                    for b in d["blobs"]),
        parent_id=RecordId(d["parent_id"]) if d["parent_id"] else None,
        text_note=d["text_note"], disposed_at=_datetime(d["disposed_at"]),
        extra=tuple((str(k), str(v)) for k, v in d["extra"]),
        signatures=tuple(_signature_from_json(s) for s in d.get("signatures", ())),
    )


def _signature_to_json(fact: SignatureFact) -> dict[str, Any]:
    return {"signer": fact.signer, "identity_code": fact.identity_code, "signed_at": _iso(fact.signed_at),
            "integrity": str(fact.integrity), "trust": str(fact.trust), "kind": fact.kind, "problem": fact.problem}


def _signature_from_json(d: dict[str, Any]) -> SignatureFact:
    return SignatureFact(signer=str(d["signer"]), identity_code=str(d["identity_code"]),
                         signed_at=_datetime(d["signed_at"]), integrity=Integrity(d["integrity"]), trust=Trust(d["trust"]),
                         kind=str(d["kind"]), problem=str(d["problem"]))


def user_to_json(user: User) -> str:
    return json.dumps({"v": CODEC_VERSION, "name": user.name, "role": str(user.role),
                       "clearance": str(user.clearance), "principals": list(user.principals),
                       "password_hash": user.password_hash, "disabled": user.disabled,
                       "created_at": _iso(user.created_at), "must_change": user.must_change_password},
                      ensure_ascii=False)


def user_from_json(text: str) -> User:
    d = json.loads(text)
    return User(name=d["name"], role=Role(d["role"]), clearance=Confidentiality(d["clearance"]),
                principals=tuple(d["principals"]), password_hash=d["password_hash"],
                disabled=bool(d["disabled"]), created_at=_datetime(d["created_at"]),
                must_change_password=bool(d.get("must_change", False)))  # absent in rows written before it


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _datetime_req(value: str) -> datetime:
    return datetime.fromisoformat(value)
