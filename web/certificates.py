"""The office's TLS certificates: a private office CA, limited to the office's own names and private
addresses, and the server certificate it issues for this computer (cryptography's x509)."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from vault import HomeNotFound, VaultError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
T = TypeVar("T")
TLS_DIR = "tls"
CA_PEM, CA_CRT, CA_KEY = "office-ca.pem", "office-ca.crt", "office-ca.key"
SERVER_PEM, SERVER_KEY = "server.pem", "server.key"
CA_DAYS = 10 * 365
# Apple's clients refuse a TLS server certificate valid for more than 825 days, even from a private CA.
SERVER_DAYS = 825
LOOPBACK_NAMES = ("localhost",)
LOOPBACK_ADDRESSES = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
# Where the office CA may vouch for an address: loopback and the private ranges of RFC 1918 / RFC 4193.
# A stolen CA key can then impersonate no public site to a manager who installed the CA.
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"))
# A documentation address (RFC 5737): "connecting" a UDP socket to it sends nothing and reveals the
# address of the interface the office's LAN traffic leaves by.
_PROBE = ("192.0.2.1", 9)


class CertificateError(VaultError):
    """A certificate or key that cannot be made, read or used; the message says what to do."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """A server certificate (PEM) and its private key (PEM), as `serve --tls` loads them."""

    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class OfficeCertificates:
    """What `tls init` made: where the files are, the CA's fingerprint, and what the server cert covers."""

    folder: Path
    ca_pem: Path
    ca_crt: Path
    server: TlsFiles
    fingerprint: str
    names: tuple[str, ...]
    addresses: tuple[IPAddress, ...]
    new_ca: bool
    not_after: datetime


def tls_folder(home: Path) -> Path:
    return home / TLS_DIR


def default_files(home: Path) -> TlsFiles:
    """The server certificate `tls init` writes into the home."""
    return TlsFiles(tls_folder(home) / SERVER_PEM, tls_folder(home) / SERVER_KEY)


def this_computer() -> tuple[tuple[str, ...], tuple[IPAddress, ...]]:
    """The names (host name, its fully qualified and .local forms) and the LAN addresses of this computer."""
    host = socket.gethostname().lower()
    names = [host, socket.getfqdn().lower(), f"{host.split('.')[0]}.local"]
    found: list[IPAddress] = []
    try:
        for *_, sockaddr in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP):
            found.append(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]))
    except OSError:
        pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_PROBE)
            found.append(ipaddress.ip_address(probe.getsockname()[0]))
    except OSError:
        pass  # no route at all: loopback only
    addresses = [a for a in found if not (a.is_loopback or a.is_link_local or a.is_unspecified)]
    return tuple(_unique(n for n in names if n and n != "localhost")), tuple(_unique(addresses))


def issue(home: Path, names: Iterable[str], addresses: Iterable[IPAddress], *, now: datetime,
          new_ca: bool = False) -> OfficeCertificates:
    """Make (or reuse) the office CA in <home>/tls/ and issue a server certificate for `names` and
    `addresses` (localhost, 127.0.0.1 and ::1 always added). Private keys are written mode 0600."""
    if not home.is_dir():
        raise HomeNotFound(str(home))
    names = _unique([*(_dns_name(n) for n in names), *LOOPBACK_NAMES])
    addresses = _unique([*addresses, *LOOPBACK_ADDRESSES])
    folder = tls_folder(home)
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    made_ca = new_ca or not (folder / CA_KEY).exists() or not (folder / CA_PEM).exists()
    if made_ca:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _ca_certificate(ca_key, names, addresses, now=now)
        _write(folder / CA_KEY, _private_pem(ca_key), private=True)
        _write(folder / CA_PEM, ca_cert.public_bytes(serialization.Encoding.PEM))
        _write(folder / CA_CRT, ca_cert.public_bytes(serialization.Encoding.DER))
    else:
        ca_key, ca_cert = _load_ca(folder)
        _check_permitted(ca_cert, names, addresses)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _server_certificate(server_key, ca_key, ca_cert, names, addresses, now=now)
    files = default_files(home)
    _write(files.key, _private_pem(server_key), private=True)
    _write(files.cert, server_cert.public_bytes(serialization.Encoding.PEM))
    return OfficeCertificates(folder=folder, ca_pem=folder / CA_PEM, ca_crt=folder / CA_CRT, server=files,
                              fingerprint=fingerprint(ca_cert), names=tuple(names), addresses=tuple(addresses),
                              new_ca=made_ca, not_after=server_cert.not_valid_after_utc)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate, as browsers and `openssl x509 -fingerprint -sha256` show it."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


@dataclass(frozen=True, slots=True)
class ServedCertificate:
    """What a server certificate answers for (host names as a Host header spells them) and until when."""

    hosts: tuple[str, ...]
    not_after: datetime


def served_by(path: Path) -> ServedCertificate:
    """The names and addresses a server certificate (the first in a PEM file) covers."""
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as exc:
        raise CertificateError(f"The certificate {path} cannot be read ({exc.strerror}): check the path, "
                               "or run `strongroom tls init`.") from None
    except ValueError:
        raise CertificateError(f"{path} is not a PEM certificate: give --cert a PEM file "
                               "(-----BEGIN CERTIFICATE-----).") from None
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise CertificateError(f"The certificate {path} names no host (no subjectAltName): browsers refuse "
                               "it; issue one with the server's names, or run `strongroom tls init`.") from None
    hosts = [n.lower() for n in san.get_values_for_type(x509.DNSName)]
    hosts += [f"[{a}]" if a.version == 6 else str(a) for a in san.get_values_for_type(x509.IPAddress)]
    return ServedCertificate(tuple(hosts), cert.not_valid_after_utc)


def _ca_certificate(key: ec.EllipticCurvePrivateKey, names: list[str], addresses: list[IPAddress], *,
                    now: datetime) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Strongroom"),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"Strongroom office CA ({names[0]})")])
    networks = [*PRIVATE_NETWORKS, *(ipaddress.ip_network(a) for a in addresses
                                     if not any(a in n for n in PRIVATE_NETWORKS))]
    constraints = x509.NameConstraints(
        permitted_subtrees=[*(x509.DNSName(n) for n in names), *(x509.IPAddress(n) for n in networks)],
        excluded_subtrees=None)
    public = key.public_key()
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(constraints, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256()))


def _server_certificate(key: ec.EllipticCurvePrivateKey, ca_key: ec.EllipticCurvePrivateKey,
                        ca_cert: x509.Certificate, names: list[str], addresses: list[IPAddress], *,
                        now: datetime) -> x509.Certificate:
    public = key.public_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=SERVER_DAYS))
            .add_extension(x509.SubjectAlternativeName([*(x509.DNSName(n) for n in names),
                                                        *(x509.IPAddress(a) for a in addresses)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))


def _load_ca(folder: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    try:
        key = serialization.load_pem_private_key((folder / CA_KEY).read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate((folder / CA_PEM).read_bytes())
    except (OSError, ValueError, TypeError):
        raise CertificateError(f"The office CA in {folder} cannot be read: run `strongroom tls init --new-ca` "
                               "and install the new CA on the managers' computers.") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        raise CertificateError(f"The office CA key in {folder} does not match its certificate: run "
                               "`strongroom tls init --new-ca` and install the new CA on the managers' computers.")
    return key, cert


def _check_permitted(ca_cert: x509.Certificate, names: list[str], addresses: list[IPAddress]) -> None:
    """A reused CA may only vouch for the names and networks it was made for (its name constraints)."""
    try:
        constraints = ca_cert.extensions.get_extension_for_class(x509.NameConstraints).value
    except x509.ExtensionNotFound:
        return
    dns = [str(n.value).lower() for n in constraints.permitted_subtrees or [] if isinstance(n, x509.DNSName)]
    nets = [n.value for n in constraints.permitted_subtrees or []
            if isinstance(n, x509.IPAddress) and isinstance(n.value, ipaddress.IPv4Network | ipaddress.IPv6Network)]
    outside = [n for n in names if not any(n == d or n.endswith("." + d) for d in dns)]
    outside += [str(a) for a in addresses if not any(a in net for net in nets)]
    if outside:
        raise CertificateError(f"The office CA was not made for {', '.join(outside)}: run `strongroom tls init "
                               "--new-ca` with all the names, and install the new CA on the managers' computers.")


def _dns_name(name: str) -> str:
    text = name.strip().lower().rstrip(".")
    labels = text.split(".")
    if not text or not all(0 < len(p) <= 63 and p.replace("-", "").isalnum() and p.isascii() for p in labels):
        raise CertificateError(f"{name!r} is not a host name: give --name a name like office-pc or "
                               "office-pc.example.lan (an address goes to --address).")
    return text


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write a file whole or not at all; a private key is never readable by anyone but the owner."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # a leftover keeps its old mode under O_CREAT
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _unique(items: Iterable[T]) -> list[T]:
    seen: dict[T, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)
