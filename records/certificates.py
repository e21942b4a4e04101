"""Destruction certificates: the signed, permanent proof of what a disposition run destroyed.

A certificate names records by id, registry number, class, dates and retention basis, never
by title (titles are wiped with the content). It is canonical JSON signed with the home's
Ed25519 audit key and kept in the catalogue's settings table under `certificate.<id>`, with
the list of ids under `certificates` (no schema change needed in the vault).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from records.audit import canonical
from records.checkpoints import SignatureCheck
from records.errors import RecordNotFound
from records.ports import Catalog, CatalogTx, Signer

FORMAT = "strongroom.destruction/v2"  # v2: justification, two-person rule, backup horizon, stub metadata
INDEX_KEY = "certificates"
KEY_PREFIX = "certificate."


@dataclass(frozen=True, slots=True)
class Certificate:
    certificate_id: str
    body: dict[str, Any]  # the signed document
    signature: bytes
    public_key: bytes

    def to_json(self) -> dict[str, Any]:
        return {"certificate": self.body, "signature": self.signature.hex(), "public_key": self.public_key.hex()}

    def valid(self, signature_valid: SignatureCheck) -> bool:
        return signature_valid(self.public_key, canonical(self.body), self.signature)


def sign(signer: Signer, body: dict[str, Any]) -> Certificate:
    body = dict(body, format=FORMAT)
    return Certificate(certificate_id=str(body["certificate_id"]), body=body,
                       signature=signer.sign(canonical(body)), public_key=signer.public_key())


def store(tx: CatalogTx, catalog: Catalog, cert: Certificate) -> None:
    tx.put_setting(KEY_PREFIX + cert.certificate_id, json.dumps(cert.to_json(), sort_keys=True))
    known = _ids(catalog)
    tx.put_setting(INDEX_KEY, json.dumps([*known, cert.certificate_id]))


def load(catalog: Catalog, certificate_id: str) -> Certificate:
    raw = catalog.get_setting(KEY_PREFIX + certificate_id)
    if raw is None:
        raise RecordNotFound(f"There is no destruction certificate {certificate_id}: "
                             "list them with `strongroom retention certificates`.")
    doc = json.loads(raw)
    return Certificate(certificate_id=certificate_id, body=doc["certificate"],
                       signature=bytes.fromhex(doc["signature"]), public_key=bytes.fromhex(doc["public_key"]))


def all_certificates(catalog: Catalog) -> list[Certificate]:
    return [load(catalog, cid) for cid in _ids(catalog)]


def _ids(catalog: Catalog) -> list[str]:
    raw = catalog.get_setting(INDEX_KEY)
    return [str(x) for x in json.loads(raw)] if raw else []


def for_record(catalog: Catalog, record_id: str) -> Certificate | None:
    """The certificate that names the destroyed (or transferred) record `record_id`, or None."""
    for cert in all_certificates(catalog):
        if any(line.get("id") == record_id for line in cert.body.get("records", ())):
            return cert
    return None
