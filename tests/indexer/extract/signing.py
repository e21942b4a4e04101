"""Signed documents made in the tests with other tools: a test CA (cryptography's x509), PDFs signed
with pyHanko, and DigiDoc containers (ASiC-E) assembled by hand.

The container's XAdES signature is computed here without the reader's code: the canonical forms of
SignedInfo and SignedProperties are written out as text (namespace declarations inherited from the
root, sorted, as C14N renders them) and signed with `cryptography`, so the reader's canonicalisation
is checked against an independent rendering.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from reportlab.pdfgen import canvas

NOW = datetime.now(timezone.utc)
DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
ASIC = "http://uri.etsi.org/02918/v1.2.1#"
MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


@dataclass(frozen=True)
class Identity:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    ca: x509.Certificate


def _key_usage(**on: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{n: on.get(n, False) for n in names})


def make_ca(name: str = "Test ESTEID CA") -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP384R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "EE"),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=365)).not_valid_after(NOW + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA384()))
    return cert, key


def make_signer(ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], *, given: str = "MARI",
                surname: str = "MAASIKAS", code: str = "38001085718", elliptic: bool = False) -> Identity:
    ca_cert, ca_key = ca
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
        ec.generate_private_key(ec.SECP256R1()) if elliptic else rsa.generate_private_key(65537, 2048))
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "EE"),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"{surname},{given},{code}"),
                         x509.NameAttribute(NameOID.SURNAME, surname),
                         x509.NameAttribute(NameOID.GIVEN_NAME, given),
                         x509.NameAttribute(NameOID.SERIAL_NUMBER, f"PNOEE-{code}")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=30)).not_valid_after(NOW + timedelta(days=365))
            .add_extension(_key_usage(content_commitment=True), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA384()))
    return Identity(cert=cert, key=key, ca=ca_cert)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


# ---- PDF signed with pyHanko ------------------------------------------------------------------------


def plain_pdf(text: str) -> bytes:
    """A one-page PDF (reportlab) whose text sits uncompressed in the content stream."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pageCompression=0)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def signed_pdf(identity: Identity, text: str) -> bytes:
    key = identity.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    signer = signers.SimpleSigner(signing_cert=asn1_x509.Certificate.load(der(identity.cert)),
                                  signing_key=asn1_keys.PrivateKeyInfo.load(key),
                                  cert_registry=SimpleCertificateStore.from_certs(
                                      [asn1_x509.Certificate.load(der(identity.ca))]))
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(plain_pdf(text))),
                           signers.PdfSignatureMetadata(field_name="Signature1"), signer=signer)
    return out.getvalue()


# ---- ASiC-E assembled by hand ---------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _sign(identity: Identity, data: bytes) -> tuple[str, bytes]:
    """The SignatureMethod URI and the XML-DSig signature value (ECDSA as r || s)."""
    if isinstance(identity.key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(identity.key.sign(data, ec.ECDSA(hashes.SHA256())))
        size = (identity.key.curve.key_size + 7) // 8
        return ("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
                r.to_bytes(size, "big") + s.to_bytes(size, "big"))
    return ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            identity.key.sign(data, padding.PKCS1v15(), hashes.SHA256()))


def signature_xml(identity: Identity, documents: dict[str, bytes], *, exclusive: bool = False,
                  signing_time: str = "") -> bytes:
    """META-INF/signatures0.xml: one XAdES signature over `documents` and its SignedProperties."""
    signing_time = signing_time or (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    roots = f' xmlns:asic="{ASIC}" xmlns:ds="{DS}" xmlns:xades="{XADES}"'
    cert_digest = _b64(hashlib.sha256(der(identity.cert)).digest())
    props_inner = (
        f'<xades:SignedSignatureProperties><xades:SigningTime>{signing_time}</xades:SigningTime>'
        f'<xades:SigningCertificateV2><xades:Cert><xades:CertDigest>'
        f'<ds:DigestMethod Algorithm="{SHA256}"></ds:DigestMethod><ds:DigestValue>{cert_digest}</ds:DigestValue>'
        f'</xades:CertDigest></xades:Cert></xades:SigningCertificateV2></xades:SignedSignatureProperties>')
    if exclusive:  # only the prefixes the element and its children use, declared where first used
        props_c14n = (f'<xades:SignedProperties xmlns:xades="{XADES}" Id="S0-SignedProperties">'
                      + props_inner.replace('<ds:DigestMethod ', f'<ds:DigestMethod xmlns:ds="{DS}" ')
                      .replace('<ds:DigestValue>', f'<ds:DigestValue xmlns:ds="{DS}">')
                      + '</xades:SignedProperties>')
    else:
        props_c14n = f'<xades:SignedProperties{roots} Id="S0-SignedProperties">{props_inner}</xades:SignedProperties>'
    c14n = EXC_C14N if exclusive else C14N11
    refs = "".join(
        f'<ds:Reference Id="S0-RefId{i}" URI="{quote(name)}"><ds:DigestMethod Algorithm="{SHA256}"></ds:DigestMethod>'
        f'<ds:DigestValue>{_b64(hashlib.sha256(data).digest())}</ds:DigestValue></ds:Reference>'
        for i, (name, data) in enumerate(documents.items()))
    method, _ = _sign(identity, b"")
    info_inner = (
        f'<ds:CanonicalizationMethod Algorithm="{c14n}"></ds:CanonicalizationMethod>'
        f'<ds:SignatureMethod Algorithm="{method}"></ds:SignatureMethod>{refs}'
        f'<ds:Reference Id="S0-RefId-SP" Type="http://uri.etsi.org/01903#SignedProperties" '
        f'URI="#S0-SignedProperties"><ds:Transforms><ds:Transform Algorithm="{c14n}"></ds:Transform>'
        f'</ds:Transforms><ds:DigestMethod Algorithm="{SHA256}"></ds:DigestMethod>'
        f'<ds:DigestValue>{_b64(hashlib.sha256(props_c14n.encode()).digest())}</ds:DigestValue></ds:Reference>')
    info_c14n = (f'<ds:SignedInfo xmlns:ds="{DS}">' if exclusive else f'<ds:SignedInfo{roots}>') \
        + info_inner + '</ds:SignedInfo>'
    _, value = _sign(identity, info_c14n.encode())
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<asic:XAdESSignatures{roots}>'
        f'<ds:Signature Id="S0"><ds:SignedInfo>{info_inner}</ds:SignedInfo>'
        f'<ds:SignatureValue Id="S0-SIG">{_b64(value)}</ds:SignatureValue>'
        f'<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{_b64(der(identity.cert))}</ds:X509Certificate>'
        f'</ds:X509Data></ds:KeyInfo><ds:Object><xades:QualifyingProperties Id="S0-QP" Target="#S0">'
        f'<xades:SignedProperties Id="S0-SignedProperties">{props_inner}</xades:SignedProperties>'
        f'</xades:QualifyingProperties></ds:Object></ds:Signature></asic:XAdESSignatures>').encode()


def manifest_xml(documents: dict[str, bytes]) -> bytes:
    entries = "".join(f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/plain"/>'
                      for name in documents)
    return (f'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="{MANIFEST}" '
            f'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
            f'manifest:media-type="application/vnd.etsi.asic-e+zip"/>{entries}</manifest:manifest>').encode()


def container(members: dict[str, bytes], *, mimetype: bytes = b"application/vnd.etsi.asic-e+zip") -> bytes:
    """A zip laid out as DigiDoc lays it out: `mimetype` first and stored, the rest deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        for name, data in members.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def asice(identity: Identity, documents: dict[str, bytes], *, exclusive: bool = False,
          contents: dict[str, bytes] | None = None, signatures: bytes | None = None) -> bytes:
    """A signed container; `contents` replaces documents' bytes after signing (to alter them),
    `signatures` the signature file."""
    members = {"META-INF/manifest.xml": manifest_xml(documents), **documents, **(contents or {}),
               "META-INF/signatures0.xml": signatures or signature_xml(identity, documents, exclusive=exclusive)}
    return container(members)
