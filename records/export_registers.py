"""What an audit export says in words: register rows per record and the README inside the ZIP."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from records.certificates import Certificate
from records.export_package import safe_member_part
from records.model import ContractFields, CorrespondenceFields, Hold, Record
from records.registers import notice_deadline

RECORD_HEADER = ("registry_number", "record_class", "title", "principal", "confidentiality",
                 "document_date", "filed_at_utc", "filed_by", "original_name", "media_type",
                 "size_bytes", "sha256", "retention_trigger", "retention_until", "holds", "state",
                 "disposed_at_utc", "record_id")
CONTRACT_HEADER = ("registry_number", "title", "principal", "parties", "signed", "effective",
                   "expiry", "notice_days", "notice_deadline", "value", "currency", "state",
                   "record_id")
CORRESPONDENCE_HEADER = ("registry_number", "direction", "document_date", "sender", "recipients",
                         "subject", "title", "principal", "state", "record_id")
DISPOSITION_HEADER = ("registry_number", "record_class", "class_name", "principal", "document_date",
                      "filed_at_utc", "retention_trigger", "retention_until", "retention_basis",
                      "action", "disposed_at_utc", "proposed_by", "approvers", "certificate_id",
                      "certificate_file", "record_id")


@dataclass(frozen=True, slots=True)
class CertificateFile:
    """A destruction certificate as it goes into the ZIP: certificates/<id>.json."""

    certificate: Certificate

    @property
    def member(self) -> str:
        return f"certificates/{safe_member_part(self.certificate.certificate_id)}.json"

    @property
    def body(self) -> bytes:
        # Exactly the stored document: the signature covers canonical(certificate["certificate"]).
        return (json.dumps(self.certificate.to_json(), indent=2, sort_keys=True,
                           ensure_ascii=False) + "\n").encode("utf-8")

    def line_for(self, record_id: str) -> dict[str, Any]:
        lines = self.certificate.body.get("records") or []
        return next((x for x in lines if isinstance(x, dict) and x.get("id") == record_id), {})


def certificate_files(certs: Iterable[Certificate],
                      record_ids: Collection[str]) -> dict[str, CertificateFile]:
    """Record id -> the certificate that destroyed it, for the records in `record_ids`."""
    out: dict[str, CertificateFile] = {}
    for cert in certs:
        for line in cert.body.get("records") or []:
            if isinstance(line, dict) and line.get("id") in record_ids:
                out[str(line["id"])] = CertificateFile(cert)
    return out


def holds_cell(holds: Iterable[Hold]) -> str:
    parts = []
    for hold in holds:
        state = "active" if hold.active else f"released {hold.released_at:%Y-%m-%d}"
        parts.append(f"{hold.reason} ({hold.placed_by}, {hold.placed_at:%Y-%m-%d}, {state})")
    return " | ".join(parts)


def record_rows(records: Iterable[Record]) -> Iterator[tuple[object, ...]]:
    for r in records:
        yield (r.registry_number, r.record_class, r.title, r.principal, r.confidentiality.value,
               r.document_date, r.filed_at, r.filed_by, r.original_name, r.media_type, r.size,
               r.sha256, r.retention_trigger, r.retention_until, holds_cell(r.holds),
               r.state.value, r.disposed_at, r.id)


def contract_rows(records: Iterable[Record]) -> Iterator[tuple[object, ...]]:
    for r in records:
        c = r.details
        if not isinstance(c, ContractFields):
            continue
        yield (r.registry_number, r.title, r.principal, c.parties or r.parties, c.signed,
               c.effective, c.expiry, c.notice_days, notice_deadline(c),
               None if c.value is None else str(c.value), c.currency, r.state.value, r.id)


def correspondence_rows(records: Iterable[Record]) -> Iterator[tuple[object, ...]]:
    for r in records:
        c = r.details
        if not isinstance(c, CorrespondenceFields):
            continue
        yield (r.registry_number, c.direction.value if c.direction else "", r.document_date,
               c.sender, c.recipients, c.subject, r.title, r.principal, r.state.value, r.id)


def disposition_rows(records: Iterable[Record],
                     certificates: Mapping[str, CertificateFile]) -> Iterator[tuple[object, ...]]:
    for r in records:
        cert = certificates.get(r.id)
        line = cert.line_for(r.id) if cert else {}
        body = cert.certificate.body if cert else {}
        yield (r.registry_number, r.record_class, line.get("class_name", ""), r.principal,
               r.document_date, r.filed_at, line.get("retention_trigger"),
               line.get("retention_until") or r.retention_until, line.get("basis", ""),
               line.get("action", ""), r.disposed_at, body.get("proposed_by", ""),
               body.get("approvers", ()), cert.certificate.certificate_id if cert else "",
               cert.member if cert else "", r.id)


def readme_text() -> str:
    """The plain-language guide inside every export (English, with short sl/et lines)."""
    return README.replace("\n", "\r\n")


README = """\
STRONGROOM AUDIT EXPORT
=======================

This ZIP was made by Strongroom, an offline records system. It holds:

  records.csv         every record filed in the period (within the scope named in
                      manifest.json): registry number, class, fixity SHA-256,
                      retention date, holds, state
  contracts.csv       the contracts register for the same records
  correspondence.csv  incoming and outgoing correspondence for the same records
  dispositions.csv    records destroyed in the period, with their destruction
                      certificates (certificates/*.json)
  audit.jsonl         the audit trail of the period, one entry per line; each entry
                      carries the hash of the entry before it ("prev") and its own
                      "hash", so no line can be changed, removed or reordered unseen
  checkpoints.jsonl   the home's signed checkpoints that fall inside that trail: each
                      signs the entry count and head hash at one moment
  audit-bridge.jsonl  (only when present) the entries between the previous export
                      and this period, so the two exports link without a gap
  documents/          (only when asked for) the original documents
  manifest.json       the SHA-256 of every file above, the chain head, the period,
                      the scope and the public key that signed it
  manifest.sig        the Ed25519 signature over manifest.json (base64)

The CSV files are UTF-8 with a byte order mark, separated by ";", dates as
YYYY-MM-DD and times in UTC; they open directly in Excel and LibreOffice.
Cells that began with = + - or @ start with an apostrophe so that no
spreadsheet runs them as formulas.

HOW TO VERIFY
-------------
1. Get the office's audit public key from them by another way (on paper, by
   e-mail) and compare its fingerprint with manifest.json "key" / "fingerprint".
2. Run, on any computer with Strongroom installed (no home, no passphrase needed):

       strongroom verify-export THIS.zip --public-key KEY.txt
       strongroom verify-export THIS.zip --previous EARLIER.zip   (consecutive exports)

   Exit code 0: verified. 1: something was changed (the first broken file or
   entry is named). 2: the file cannot be read as an export.
3. Without Strongroom: check every SHA-256 in manifest.json (sha256sum), then check
   the signature, which covers the line "strongroom audit export manifest v1"
   followed by the bytes of manifest.json, e.g. with OpenSSL 3:
       ( printf 'strongroom audit export manifest v1\\n'; cat manifest.json ) > signed.bin
       base64 -d manifest.sig > sig.bin
       openssl pkeyutl -verify -pubin -inkey KEY.pem -rawin -in signed.bin -sigfile sig.bin
   Each audit entry's hash is the SHA-256 of the entry without its "hash" field,
   written as JSON with sorted keys and no spaces.

A signature made on the office's own computer shows that nothing changed after the
export; it cannot show that someone with the office's passphrase did not rewrite the
trail before it. Keep each export's chain head (manifest.json "chain" / "head"), and
check that the next export continues it.

SLOVENŠČINA: Izvoz revizijske sledi. Preverite ga z ukazom
  strongroom verify-export TA.zip --public-key KLJUC.txt
(izhodna koda 0 pomeni, da je izvoz nespremenjen). Datoteke CSV so v UTF-8, ločilo ";".

EESTI: Auditilogi eksport. Kontrollige seda käsuga
  strongroom verify-export SEE.zip --public-key VOTI.txt
(väljumiskood 0 tähendab, et eksporti ei ole muudetud). CSV-failid on UTF-8, eraldaja ";".
"""
