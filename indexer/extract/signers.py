"""Signer certificates: the name and identity code they state, and whether the office trusts them.

Trust is only what the office said: certificates it added as trusted (`<home>/trusted-certificates/`)
are the anchors; a signer certificate is trusted when it chains to one of them and was valid at the
claimed signing time. Revocation (OCSP, CRL) is not checked: that needs the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from cryptography import x509
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID

from records.model import Trust

MAX_ANCHORS = 200


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    value = values[0].value if values else ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def named_by(cert: x509.Certificate) -> tuple[str, str]:
    """The signer's name (given name and surname when the certificate states them, else its common
    name) and identity code (the subject's serialNumber, e.g. PNOEE-38001085718)."""
    subject = cert.subject
    given, surname = _attribute(subject, NameOID.GIVEN_NAME), _attribute(subject, NameOID.SURNAME)
    name = f"{given} {surname}".strip() if given and surname else _attribute(subject, NameOID.COMMON_NAME)
    if not name:
        name = _attribute(subject, NameOID.ORGANIZATION_NAME) or subject.rfc4514_string()
    return " ".join(name.split())[:200], _attribute(subject, NameOID.SERIAL_NUMBER).strip()[:100]


def load_anchors(ders: Sequence[bytes]) -> list[x509.Certificate]:
    """The office's trusted certificates (DER, as the parent read them from the home)."""
    return [x509.load_der_x509_certificate(der) for der in ders[:MAX_ANCHORS]]


def trust_of(cert: x509.Certificate, others: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate],
             at: datetime | None) -> Trust:
    """UNCHECKED without anchors; else whether `cert` chains (through `others`, the certificates the
    signature carries) to an anchor, valid at `at` (the claimed signing time, else now)."""
    if not anchors:
        return Trust.UNCHECKED
    moment = at or datetime.now(timezone.utc)
    try:
        verifier = (verification.PolicyBuilder().store(verification.Store(list(anchors))).time(moment)
                    .extension_policies(ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                                        ee_policy=verification.ExtensionPolicy.permit_all())
                    .build_client_verifier())
        verifier.verify(cert, list(others))
    except (verification.VerificationError, ValueError, TypeError):
        return Trust.UNTRUSTED
    return Trust.TRUSTED
