"""Signed PDFs (PAdES, PKCS#7 detached): each signature checked offline with pyHanko.

"Intact" means: the signed byte ranges hash to the digest in the signature, the signature value
over it verifies with the signer certificate's key, and whatever was appended after signing
(incremental updates) is only what a later signature or form filling may add (pyHanko's
difference analysis). Trust is decided apart (signers.py) from the certificates the signature
carries and the office's trusted certificates; pyHanko is given no trust roots and may fetch nothing.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from datetime import datetime, timezone

from cryptography import x509

from records.model import Integrity, SignatureFact
from records.ports import Extraction

from .signers import named_by, trust_of

MAX_SIGNATURES = 50
_UNREADABLE = "the signature could not be read, so it was not checked."

# pyHanko logs validation details with document fragments; keep them out of any handler.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


def preload() -> None:
    """Import pyHanko and the modules it imports on first use, while the worker may still open files."""
    import asyncio  # noqa: F401
    import asyncio.selector_events  # noqa: F401

    import pyhanko.pdf_utils.reader  # noqa: F401
    import pyhanko.sign.validation  # noqa: F401
    import pyhanko_certvalidator  # noqa: F401


def _claimed_time(embedded: object) -> datetime | None:
    try:
        value = embedded.self_reported_timestamp  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a malformed signing-time attribute is just no claimed time
        return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _fact(embedded: object, anchors: Sequence[x509.Certificate]) -> SignatureFact:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        cert = x509.load_der_x509_certificate(embedded.signer_cert.dump())  # type: ignore[attr-defined]
        others = [x509.load_der_x509_certificate(c.dump())
                  for c in embedded.other_embedded_certs]  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - no usable certificate: nothing to name or verify
        return SignatureFact(signer="", identity_code="", signed_at=None, integrity=Integrity.UNKNOWN,
                             kind="PAdES", problem="the signature carries no readable signer certificate.")
    name, code = named_by(cert)
    signed_at = _claimed_time(embedded)
    trust = trust_of(cert, others, anchors, signed_at)
    try:
        # No trust roots, no fetching: pyHanko checks integrity only; trust is ours (signers.py).
        context = ValidationContext(trust_roots=[], allow_fetching=False, revocation_mode="soft-fail")
        status = validate_pdf_signature(embedded, context)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - pyHanko raises many kinds on malformed signatures
        return SignatureFact(signer=name, identity_code=code, signed_at=signed_at, integrity=Integrity.UNKNOWN,
                             trust=trust, kind="PAdES", problem=_UNREADABLE)
    if not status.intact:
        problem = "the signed content of the PDF differs from what was signed."
    elif not status.valid:
        problem = "the signature value does not match the signed content."
    elif status.docmdp_ok is False:
        problem = "the PDF was changed after signing in ways a signature does not allow."
    else:
        problem = ""
    return SignatureFact(signer=name, identity_code=code, signed_at=signed_at,
                         integrity=Integrity.ALTERED if problem else Integrity.INTACT, trust=trust, kind="PAdES",
                         problem=problem)


def pdf_signatures(data: bytes, anchors: Sequence[x509.Certificate]) -> tuple[tuple[SignatureFact, ...], str]:
    """The facts of every signature in the PDF, and a note when they could not be read at all."""
    if b"/ByteRange" not in data:
        return (), ""  # no signature dictionary: the common, cheap case
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        embedded = list(reader.embedded_regular_signatures)
    except Exception:  # noqa: BLE001 - pypdf read it; pyHanko's stricter reader may not
        return (), "the PDF's signatures could not be read"
    facts = tuple(_fact(e, anchors) for e in embedded[:MAX_SIGNATURES])
    note = f"only the first {MAX_SIGNATURES} signatures were checked" if len(embedded) > MAX_SIGNATURES else ""
    return facts, note


def with_signatures(result: Extraction, data: bytes, anchors: Sequence[x509.Certificate]) -> Extraction:
    """The PDF's extraction with its signature facts (and any note about them) added."""
    import dataclasses

    facts, note = pdf_signatures(data, anchors)
    if not facts and not note:
        return result
    return dataclasses.replace(result, signatures=facts,
                               note="; ".join(n for n in (result.note, note) if n))
