"""The office's trusted certificates: the CA certificates it put in `<home>/trusted-certificates/`.

Signer certificates are checked against these (signers.py) inside the sandbox; without any, every
signature says "certificate not checked against a trusted list". Certificates are public, so the
folder is plain files like the settings.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ..errors import IndexerError

FOLDER = "trusted-certificates"
SUFFIXES = (".pem", ".crt", ".cer", ".der")
MAX_FILE_BYTES = 1024 * 1024
MAX_CERTIFICATES = 200


def _certificates(path: Path) -> list[x509.Certificate]:
    data = path.read_bytes()[:MAX_FILE_BYTES + 1]
    if len(data) > MAX_FILE_BYTES:
        raise ValueError("too large")
    if b"-----BEGIN CERTIFICATE-----" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def trusted_certificates(folder: Path) -> tuple[bytes, ...]:
    """Every certificate in `folder` (PEM, several per file allowed, or DER), as DER; none when the
    folder is absent. IndexerError (one sentence) names a file that holds no certificate."""
    if not folder.is_dir():
        return ()
    found: list[bytes] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        try:
            found.extend(cert.public_bytes(Encoding.DER) for cert in _certificates(path))
        except (ValueError, OSError):
            raise IndexerError(f"{path} is not a certificate (PEM or DER): remove it from {folder.name}/ "
                               "or replace it with the CA certificate you meant to trust.") from None
    if len(found) > MAX_CERTIFICATES:
        raise IndexerError(f"{folder} holds more than {MAX_CERTIFICATES} certificates: keep only the CAs "
                           "that issue your signers' certificates.")
    return tuple(found)
