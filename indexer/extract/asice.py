"""DigiDoc containers (ASiC-E, .asice/.bdoc): the documents inside, and every XAdES signature checked.

A container is a zip: `mimetype` (application/vnd.etsi.asic-e+zip), `META-INF/manifest.xml`, the
documents, and `META-INF/*signatures*.xml`, each holding XML signatures (XAdES). For each signature
this reader checks, with nothing but lxml's canonicalisation and `cryptography`:

- every document the SignedInfo references: its digest against the document's actual bytes;
- the SignedProperties reference (signing time, signing certificate), canonicalised as it says;
- the signing certificate named in the SignedProperties against the certificate in KeyInfo;
- the signature value over the canonicalised SignedInfo with that certificate's key (RSA, RSA-PSS,
  ECDSA).

A signature is "intact" only when all of these hold; a document in the container that no signature
covers is named in the note. C14N 1.1 is read as C14N 1.0 (they differ only in how xml:id and
xml:base are inherited, which signatures do not use). XML is parsed only after defusedxml has
refused DTDs and entities.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as defused_fromstring
from lxml import etree

from records.errors import ExtractionFailed
from records.model import Integrity, SignatureFact
from records.ports import Attachment, Extraction

from .archive import LIMITS, ZipLimits, open_zip, read_member
from .signers import named_by, trust_of

MIMETYPE = "application/vnd.etsi.asic-e+zip"
LABEL = "DigiDoc container"
MAX_SIGNATURES = 50
MAX_XML_BYTES = 8 * 1024 * 1024
MAX_DOCUMENTS = 500

DS = "{http://www.w3.org/2000/09/xmldsig#}"
XADES = "{http://uri.etsi.org/01903/v1.3.2#}"
MANIFEST = "{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}"
EXC_C14N_NS = "{http://www.w3.org/2001/10/xml-exc-c14n#}"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"

# algorithm URI -> (exclusive, with comments)
_C14N = {
    C14N_10: (False, False),
    C14N_10 + "#WithComments": (False, True),
    "http://www.w3.org/2006/12/xml-c14n11": (False, False),
    "http://www.w3.org/2006/12/xml-c14n11#WithComments": (False, True),
    "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True),
}
_DIGESTS: dict[str, Any] = {
    "http://www.w3.org/2000/09/xmldsig#sha1": hashlib.sha1,
    "http://www.w3.org/2001/04/xmldsig-more#sha224": hashlib.sha224,
    "http://www.w3.org/2001/04/xmlenc#sha256": hashlib.sha256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashlib.sha384,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashlib.sha512,
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_MORE = "http://www.w3.org/2001/04/xmldsig-more#"
# algorithm URI -> (key type, padding or curve scheme, hash name)
_SIGNATURES: dict[str, tuple[str, str]] = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": ("rsa", "sha1"),
    **{f"{_MORE}rsa-{h}": ("rsa", h) for h in ("sha224", "sha256", "sha384", "sha512")},
    **{f"{_MORE}ecdsa-{h}": ("ecdsa", h) for h in ("sha1", "sha224", "sha256", "sha384", "sha512")},
    **{f"http://www.w3.org/2007/05/xmldsig-more#{h}-rsa-MGF1": ("pss", h)
       for h in ("sha224", "sha256", "sha384", "sha512")},
}
# The documents inside are read whole (they are filed as records), up to the container's own bounds.
_DOCUMENT_LIMITS = ZipLimits(max_member_bytes=LIMITS.max_total_bytes)
_SIGNATURE_FILE = re.compile(r"^META-INF/[^/]*signatures[^/]*\.xml$", re.I)


class _Unknown(Exception):
    """The signature uses something this reader cannot check (said in one sentence)."""


class _Forged(Exception):
    """Something in the signature that a correct signer never produces."""


def _xml(data: bytes, what: str) -> Any:
    """The parsed document; DTDs, entities and external references are refused before lxml sees it."""
    if len(data) > MAX_XML_BYTES:
        raise ExtractionFailed(f"the {what} of the {LABEL} is larger than {MAX_XML_BYTES // 2**20} MB; "
                               "it may be hostile.")
    try:
        defused_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ExtractionFailed(f"the {what} of the {LABEL} declares a DTD or XML entities, which signed "
                               "containers never need; it may be hostile.") from None
    except (ParseError, ValueError, UnicodeError):
        raise ExtractionFailed(f"the {what} of the {LABEL} is not well-formed XML; it is damaged.") from None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, ValueError):
        raise ExtractionFailed(f"the {what} of the {LABEL} is not well-formed XML; it is damaged.") from None


def _c14n(element: Any, algorithm: str, prefixes: Sequence[str] = ()) -> bytes:
    if algorithm not in _C14N:
        raise _Unknown(f"it uses the canonicalisation {algorithm}, which Strongroom cannot check.")
    exclusive, comments = _C14N[algorithm]
    data: bytes = etree.tostring(element, method="c14n", exclusive=exclusive, with_comments=comments,
                                 inclusive_ns_prefixes=list(prefixes) if exclusive and prefixes else None)
    return data


def _digest(method: Any, data: bytes) -> bytes:
    algorithm = method.get("Algorithm") if method is not None else None
    if algorithm not in _DIGESTS:
        raise _Unknown(f"it uses the digest {algorithm}, which Strongroom cannot check.")
    return bytes(_DIGESTS[algorithm](data).digest())


def _b64(text: str | None) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        return b""


def _verify(cert: x509.Certificate, algorithm: str, signature: bytes, data: bytes) -> bool:
    if algorithm not in _SIGNATURES:
        raise _Unknown(f"it uses the signature algorithm {algorithm}, which Strongroom cannot check.")
    scheme, hash_name = _SIGNATURES[algorithm]
    chosen = _HASHES[hash_name]()
    key = cert.public_key()
    try:
        if scheme == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            # XML signatures carry ECDSA as r || s, each half the length (RFC 4050); cryptography wants DER.
            half = len(signature) // 2
            if not signature or len(signature) % 2:
                return False
            der = encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                       int.from_bytes(signature[half:], "big"))
            key.verify(der, data, ec.ECDSA(chosen))
        elif scheme == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), chosen)
        elif scheme == "pss" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PSS(padding.MGF1(chosen), chosen.digest_size), chosen)
        else:
            return False  # the algorithm does not fit the certificate's key
    except (InvalidSignature, ValueError, UnsupportedAlgorithm):
        return False
    return True


def _by_id(signature: Any) -> dict[str, Any]:
    """The signature's elements by Id; two with one Id are refused (a wrapping attack's tool)."""
    found: dict[str, Any] = {}
    for element in signature.iter(tag=etree.Element):
        ident = element.get("Id")
        if ident is None:
            continue
        if ident in found:
            raise _Forged(f"two parts of the signature share the Id {ident!r}, which signatures never do.")
        found[ident] = element
    return found


def _claimed_time(properties: Any) -> datetime | None:
    if properties is None:
        return None
    node = properties.find(f".//{XADES}SigningTime")
    if node is None or not node.text:
        return None
    try:
        value = datetime.fromisoformat(node.text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _certificates(signature: Any) -> list[x509.Certificate]:
    found = []
    for node in signature.iterfind(f"{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate"):
        try:
            found.append(x509.load_der_x509_certificate(_b64(node.text)))
        except ValueError:
            continue
    return found


def _certificate_named(properties: Any, cert: x509.Certificate) -> bool:
    """Whether the SignedProperties name this certificate (SigningCertificate or ...V2), if they name one."""
    digests = properties.findall(f".//{XADES}SigningCertificate/{XADES}Cert/{XADES}CertDigest") + \
        properties.findall(f".//{XADES}SigningCertificateV2/{XADES}Cert/{XADES}CertDigest")
    if not digests:
        return True
    der = cert.public_bytes(Encoding.DER)
    for node in digests:
        try:
            if _digest(node.find(f"{DS}DigestMethod"), der) == _b64(node.findtext(f"{DS}DigestValue")):
                return True
        except _Unknown:
            continue
    return False


class _Check:
    """One ds:Signature checked against the container's documents."""

    def __init__(self, signature: Any, documents: dict[str, bytes]) -> None:
        self.signature = signature
        self.documents = documents
        self.covered: set[str] = set()
        self.properties: Any = None

    def problem(self, cert: x509.Certificate) -> str:
        """'' when intact, else one sentence; _Unknown or _Forged when it cannot be judged."""
        signed_info = self.signature.findall(f"{DS}SignedInfo")
        if len(signed_info) != 1:
            raise _Forged("it does not have exactly one SignedInfo.")
        info = signed_info[0]
        ids = _by_id(self.signature)
        problems = [p for ref in info.findall(f"{DS}Reference") if (p := self._reference(ref, ids))]
        if not info.findall(f"{DS}Reference"):
            raise _Forged("it signs nothing (its SignedInfo references no document).")
        if self.properties is not None and not _certificate_named(self.properties, cert):
            problems.append("the signer certificate is not the one the signature names.")
        method = info.find(f"{DS}CanonicalizationMethod")
        algorithm = method.get("Algorithm", "") if method is not None else ""
        prefixes = method.find(f"{EXC_C14N_NS}InclusiveNamespaces") if method is not None else None
        canonical = _c14n(info, algorithm, (prefixes.get("PrefixList") or "").split() if prefixes is not None
                          else ())
        signature_method = info.find(f"{DS}SignatureMethod")
        value = _b64(self.signature.findtext(f"{DS}SignatureValue"))
        if not _verify(cert, signature_method.get("Algorithm", "") if signature_method is not None else "",
                       value, canonical):
            problems.append("the signature value does not match what was signed.")
        return problems[0] if problems else ""

    def _reference(self, ref: Any, ids: dict[str, Any]) -> str:
        uri = ref.get("URI")
        expected = _b64(ref.findtext(f"{DS}DigestValue"))
        transforms = [t.get("Algorithm", "") for t in ref.iterfind(f"{DS}Transforms/{DS}Transform")]
        if uri is None or uri == "":
            raise _Unknown("it signs the whole signature file, which Strongroom cannot check.")
        if uri.startswith("#"):
            target = ids.get(uri[1:])
            if target is None:
                return "a part of the signature it signed is missing."
            if len(transforms) > 1:
                raise _Unknown("it transforms its signed properties in a way Strongroom cannot check.")
            prefixes: list[str] = []
            for node in ref.iterfind(f"{DS}Transforms/{DS}Transform/{EXC_C14N_NS}InclusiveNamespaces"):
                prefixes = (node.get("PrefixList") or "").split()
            data = _c14n(target, transforms[0] if transforms else C14N_10, prefixes)
            if target.tag == f"{XADES}SignedProperties":
                self.properties = target
            if _digest(ref.find(f"{DS}DigestMethod"), data) != expected:
                return "the signature's signed properties (signing time, certificate) were changed."
            return ""
        if transforms:
            raise _Unknown("it transforms a document before signing it, which Strongroom cannot check.")
        name = unquote(uri)
        name = name[2:] if name.startswith("./") else name
        self.covered.add(name)
        document = self.documents.get(name)
        if document is None:
            return f"the document {name!r} it signed is missing from the container."
        if _digest(ref.find(f"{DS}DigestMethod"), document) != expected:
            return f"the document {name!r} differs from what was signed."
        return ""


def _fact(signature: Any, documents: dict[str, bytes], anchors: Sequence[x509.Certificate]
          ) -> tuple[SignatureFact, set[str]]:
    certs = _certificates(signature)
    if not certs:
        return SignatureFact(signer="", identity_code="", signed_at=None, integrity=Integrity.UNKNOWN, kind="XAdES",
                             problem="the signature carries no readable signer certificate."), set()
    cert, others = certs[0], certs[1:]
    name, code = named_by(cert)
    check = _Check(signature, documents)
    try:
        problem = check.problem(cert)
        integrity = Integrity.ALTERED if problem else Integrity.INTACT
    except _Forged as forged:
        problem, integrity = f"the signature is malformed: {forged}", Integrity.ALTERED
    except _Unknown as unknown:
        problem, integrity = f"the signature could not be checked: {unknown}", Integrity.UNKNOWN
    signed_at = _claimed_time(check.properties)
    return SignatureFact(signer=name, identity_code=code, signed_at=signed_at, integrity=integrity,
                         trust=trust_of(cert, others, anchors, signed_at), kind="XAdES",
                         problem=problem), check.covered


def _manifest_names(manifest: Any) -> list[str]:
    return [path for entry in manifest.iterfind(f"{MANIFEST}file-entry")
            if (path := entry.get(f"{MANIFEST}full-path")) and path != "/"]


def read_asice(data: bytes, anchors: Sequence[x509.Certificate]) -> Extraction:
    """The container's documents (as attachments, filed as linked records) and its signature facts."""
    with open_zip(data, LABEL) as archive:
        mimetype = read_member(archive, "mimetype", LABEL)
        if mimetype is None or mimetype.strip() != MIMETYPE.encode():
            raise ExtractionFailed(f"the {LABEL} has no '{MIMETYPE}' mimetype entry; it is damaged or not "
                                   "a DigiDoc container.")
        manifest_bytes = read_member(archive, "META-INF/manifest.xml", LABEL)
        if manifest_bytes is None:
            raise ExtractionFailed(f"the {LABEL} has no manifest (META-INF/manifest.xml); it is damaged or "
                                   "was not made by a signing program.")
        listed = _manifest_names(_xml(manifest_bytes, "manifest"))
        names = [i.filename for i in archive.infolist() if not i.is_dir()]
        document_names = [n for n in names if n != "mimetype" and not n.startswith("META-INF/")]
        if len(document_names) > MAX_DOCUMENTS:
            raise ExtractionFailed(f"the {LABEL} holds more than {MAX_DOCUMENTS} documents; it may be hostile.")
        documents = {n: read_member(archive, n, LABEL, _DOCUMENT_LIMITS) or b"" for n in document_names}
        signature_files = sorted(n for n in names if _SIGNATURE_FILE.match(n))
        facts: list[SignatureFact] = []
        covered: set[str] = set()
        for file_name in signature_files:
            root = _xml(read_member(archive, file_name, LABEL) or b"", "signature file")
            signatures = [root] if root.tag == f"{DS}Signature" else root.findall(f"{DS}Signature")
            for signature in signatures:
                if len(facts) >= MAX_SIGNATURES:
                    raise ExtractionFailed(f"the {LABEL} holds more than {MAX_SIGNATURES} signatures; "
                                           "it may be hostile.")
                fact, names_covered = _fact(signature, documents, anchors)
                facts.append(fact)
                covered |= names_covered
    notes = []
    if not facts:
        notes.append("the container holds no signature")
    unsigned = [n for n in document_names if n not in covered]
    if facts and unsigned:
        notes.append("not covered by any signature: " + ", ".join(unsigned))
    unlisted = [n for n in document_names if n not in listed]
    if unlisted:
        notes.append("not in the container's manifest: " + ", ".join(unlisted))
    return Extraction(text="\n".join(document_names), media_type=MIMETYPE, note="; ".join(notes),
                      attachments=tuple(Attachment(name=n.rsplit("/", 1)[-1], data=documents[n])
                                        for n in document_names),
                      signatures=tuple(facts))
