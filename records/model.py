"""The record: what Strongroom keeps, as plain immutable values (no I/O)."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, NewType

RecordId = NewType("RecordId", str)
ObjectId = NewType("ObjectId", str)
WrappedKey = NewType("WrappedKey", bytes)


def new_record_id() -> RecordId:
    """A random, meaningless id: it says nothing about the record it names."""
    return RecordId(uuid.uuid4().hex)


class Confidentiality(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    SECRET = "secret"

    @property
    def rank(self) -> int:
        return _CONF_ORDER.index(self)

    def allows(self, other: Confidentiality) -> bool:
        """True when a clearance of this level may see a record of level `other`."""
        return self.rank >= other.rank


_CONF_ORDER = [Confidentiality.PUBLIC, Confidentiality.INTERNAL,
               Confidentiality.CONFIDENTIAL, Confidentiality.SECRET]


class State(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"
    DUE = "due"
    DISPOSED = "disposed"


class Role(StrEnum):
    ADMIN = "admin"
    SECRETARY = "secretary"
    MANAGER = "manager"
    AUDITOR = "auditor"
    VIEWER = "viewer"


class BlobRole(StrEnum):
    ORIGINAL = "original"
    TEXT = "text"
    OCR_TEXT = "ocr_text"  # the text after capture: text-layer pages and pages recognised by OCR
    PREVIEW = "preview"  # the page images (JPEG), framed one after another (records.capture)
    THUMBNAIL = "thumbnail"  # the first page, small (JPEG)


class Direction(StrEnum):
    INCOMING = "in"
    OUTGOING = "out"


@dataclass(frozen=True, slots=True)
class BlobRef:
    """Where a sealed blob of a record lives; the id is random, never derived from content."""

    object_id: ObjectId
    role: BlobRole
    size: int  # plaintext bytes


@dataclass(frozen=True, slots=True)
class Hold:
    hold_id: str
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None = None
    released_at: datetime | None = None
    placed_role: Role | None = None  # the placer's role then: who may release it (records.holds)
    release_reason: str = ""

    @property
    def active(self) -> bool:
        return self.released_at is None


class Integrity(StrEnum):
    """Whether the signed bytes are what was signed."""

    INTACT = "intact"  # every digest and the signature value check out
    ALTERED = "altered"  # "altered since signing": a digest or the signature value does not match
    UNKNOWN = "unknown"  # could not be checked (unreadable, or an algorithm Strongroom does not know)


class Trust(StrEnum):
    """What is known of a signer's certificate, stated plainly."""

    UNCHECKED = "unchecked"  # the office has added no trusted certificates
    TRUSTED = "trusted"  # it chains to a certificate the office added as trusted
    UNTRUSTED = "untrusted"  # the office has trusted certificates, and none of them issued it


@dataclass(frozen=True, slots=True)
class SignatureFact:
    """One electronic signature found in a document (a signed PDF, a DigiDoc container), as read
    offline when it was filed: who the certificate names, when the signer claims to have signed,
    whether the signed bytes are unchanged, and whether the certificate is trusted."""

    signer: str  # the certificate subject's common name, e.g. "MAASIKAS,MARI,38001085718"
    identity_code: str  # the subject's serialNumber, e.g. "PNOEE-38001085718" ("" when absent)
    signed_at: datetime | None  # claimed by the signer (not a trusted timestamp)
    integrity: Integrity
    trust: Trust = Trust.UNCHECKED
    kind: str = ""  # "PAdES" (a signed PDF) or "XAdES" (a DigiDoc container)
    problem: str = ""  # one sentence on what is altered or could not be checked

    @property
    def intact(self) -> bool:
        return self.integrity is Integrity.INTACT


# ---- class-specific fields -------------------------------------------------------
# Each kind is a frozen value; `Record.details` holds at most one of them.


@dataclass(frozen=True, slots=True)
class ContractFields:
    kind = "contract"
    parties: tuple[str, ...] = ()
    signed: date | None = None
    effective: date | None = None
    expiry: date | None = None
    notice_days: int | None = None
    value: Decimal | None = None
    currency: str = "EUR"
    auto_renewal: bool = False  # renews itself unless notice is given by the notice deadline


@dataclass(frozen=True, slots=True)
class MinutesFields:
    kind = "minutes"
    body: str = ""  # the governing body: skupščina, nadzorni svet, juhatus, ...
    meeting_date: date | None = None
    session_number: str = ""


@dataclass(frozen=True, slots=True)
class CorrespondenceFields:
    kind = "correspondence"
    direction: Direction | None = None
    sender: str = ""
    recipients: tuple[str, ...] = ()
    subject: str = ""
    message_id: str = ""
    reply_to: str = ""  # the registry number of the letter this one answers


@dataclass(frozen=True, slots=True)
class InvoiceFields:
    kind = "invoice"
    issuer: str = ""  # the supplier
    number: str = ""
    amount: Decimal | None = None
    currency: str = "EUR"
    due_date: date | None = None
    paid_on: date | None = None  # None: not paid (yet)
    payment_reference: str = ""


@dataclass(frozen=True, slots=True)
class HRFields:
    kind = "hr"
    employee: str = ""
    employment_end: date | None = None


Details = ContractFields | MinutesFields | CorrespondenceFields | InvoiceFields | HRFields
DETAIL_KINDS: dict[str, type[Any]] = {
    k.kind: k for k in (ContractFields, MinutesFields, CorrespondenceFields, InvoiceFields, HRFields)
}


def details_to_dict(details: Details | None) -> dict[str, Any] | None:
    """JSON-ready form of class-specific fields (dates ISO, decimals as strings)."""
    if details is None:
        return None
    out: dict[str, Any] = {"kind": details.kind}
    for f in dataclasses.fields(details):
        out[f.name] = _to_json(getattr(details, f.name))
    return out


def details_from_dict(data: dict[str, Any] | None) -> Details | None:
    """Inverse of `details_to_dict`; unknown keys are an error, not silently dropped."""
    if not data:
        return None
    data = dict(data)
    cls = DETAIL_KINDS[data.pop("kind")]
    kwargs: dict[str, Any] = {}
    types = {f.name: f.type for f in dataclasses.fields(cls)}
    for name, raw in data.items():
        if name not in types:
            raise ValueError(f"unknown field {name!r} for {cls.kind}")
        kwargs[name] = _from_json(str(types[name]), raw)
    return cls(**kwargs)  # type: ignore[no-any-return]


def _to_json(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _from_json(type_name: str, raw: Any) -> Any:
    if raw is None:
        return None
    if "bool" in type_name:
        return raw if isinstance(raw, bool) else str(raw).strip().lower() in ("yes", "true", "1", "on")
    if "tuple" in type_name:
        return tuple(str(x) for x in raw)
    if "Decimal" in type_name:
        return Decimal(str(raw))
    if "date" in type_name:
        return date.fromisoformat(str(raw))
    if "Direction" in type_name:
        return Direction(raw)
    if "int" in type_name:
        return int(raw)
    return raw


@dataclass(frozen=True, slots=True)
class Record:
    """One filed record. Immutable: every change is a new value and an audit entry."""

    id: RecordId
    registry_number: str  # e.g. "03.1-17/2026": class code, sequence per class and year
    title: str
    record_class: str  # class code from the plan, e.g. "03.1"
    principal: str  # the manager/employer the record belongs to
    confidentiality: Confidentiality
    document_date: date | None
    filed_at: datetime  # aware, UTC
    filed_by: str
    original_name: str
    media_type: str
    size: int
    sha256: str  # fixity of the original
    parties: tuple[str, ...] = ()  # correspondents / parties, for search and registers
    tags: tuple[str, ...] = ()
    details: Details | None = None
    retention_trigger: date | None = None  # the date the retention clock starts from
    retention_until: date | None = None  # None: permanent, or trigger not yet known
    # The period the stored schedule came from (records.plan.Period.describe(), e.g. "10 years (ZArh)");
    # "" on a record value no schedule was applied to. A plan edit never shortens the stored schedule.
    retention_basis: str = ""
    holds: tuple[Hold, ...] = ()
    state: State = State.ACTIVE
    blobs: tuple[BlobRef, ...] = ()
    parent_id: RecordId | None = None  # the e-mail or signed container that carried this document
    text_note: str = ""  # e.g. "no text: the PDF is password-protected"
    disposed_at: datetime | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())  # free-form sidecar metadata
    signatures: tuple[SignatureFact, ...] = ()  # read from the document when it was filed

    @property
    def on_hold(self) -> bool:
        return any(h.active for h in self.holds)

    @property
    def year(self) -> int:
        return (self.document_date or self.filed_at.date()).year

    def blob(self, role: BlobRole) -> BlobRef | None:
        return next((b for b in self.blobs if b.role == role), None)


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    clearance: Confidentiality
    principals: tuple[str, ...] = ()  # empty: every principal
    password_hash: str = ""
    disabled: bool = False
    created_at: datetime | None = None
    must_change_password: bool = False  # set by an administrator's reset: change it at the next sign-in
