"""The offline verifier of audit exports: needs the ZIP only, never a home or a passphrase."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from records.audit import canonical
from records.checkpoints import ChainVerifier, SignatureCheck, Verdict, parse_checkpoint
from records.errors import VerificationUnavailable
from records.export_package import FORMAT, MANIFEST, SIGNATURE, fingerprint, signed_message
from vault.signing import signature_valid

EXIT_VERIFIED = 0
EXIT_BROKEN = 1  # integrity failure: something was changed
EXIT_UNUSABLE = 2  # not an export, unreadable, or bad arguments

_PEM = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.S)


class UnusableExport(Exception):
    """The file (or the key file) cannot be read at all; one sentence for the user."""


@dataclass(frozen=True, slots=True)
class Point:
    seq: int
    hash: str

    @classmethod
    def of(cls, doc: Any) -> Point | None:
        if not isinstance(doc, dict) or not isinstance(doc.get("seq"), int):
            return None
        return cls(doc["seq"], str(doc.get("hash", "")))


@dataclass(slots=True)
class Verification:
    """What the verifier found: problems make it fail; notes are for the auditor to weigh."""

    path: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unusable: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    key_trusted: bool = False
    chain: ChainVerifier | None = None  # the records core's one chain verifier (None: it could not start)
    kind: str = "export"  # "export" (a ZIP) or "certificate" (a destruction certificate's JSON)

    @property
    def seen(self) -> dict[int, str]:
        """The hashes of the chain points the verifier walked and found sound."""
        return self.chain.seen if self.chain is not None else {}

    @property
    def exit_code(self) -> int:
        if self.unusable:
            return EXIT_UNUSABLE
        return EXIT_BROKEN if self.problems else EXIT_VERIFIED

    def section(self, name: str) -> dict[str, Any]:
        """One object of the manifest; {} when it is missing or not an object."""
        value = self.manifest.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def head(self) -> Point | None:
        return Point.of(self.section("chain").get("head"))

    def to_json(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "file": self.path, "kind": self.kind, "verified": self.exit_code == EXIT_VERIFIED,
            "exit_code": self.exit_code, "unusable": self.unusable,
            "problems": self.problems, "notes": self.notes,
            "key": {"fingerprint": self.section("key").get("fingerprint"),
                    "checked_against_given_key": self.key_trusted},
            "period": m.get("period"), "scope": m.get("scope"), "chain": m.get("chain"),
            "previous_export": m.get("previous_export"), "created_at": m.get("created_at"),
            "members": len(self.section("members")),
        }


def load_public_key(path: str | Path) -> bytes:
    """The raw Ed25519 key from PEM, base64 of the raw key, raw bytes, or `export public-key` text."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnusableExport(f"Cannot read the public key file {path}: {exc.strerror}.") from None
    pem = _PEM.search(data)
    if pem:
        try:
            key = serialization.load_pem_public_key(pem.group(0))
        except ValueError:
            raise UnusableExport(f"{path} holds a PEM block that is not a public key.") from None
        if not isinstance(key, Ed25519PublicKey):
            raise UnusableExport(f"{path} holds a public key that is not Ed25519.")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if len(data) == 32:
        return data
    try:
        raw = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == 32:
        return raw
    raise UnusableExport(f"{path} is not an Ed25519 public key (PEM or base64 of 32 bytes).")


def verify_export(path: str | Path, *, public_key: bytes | None = None, previous: str | Path | None = None,
                  signature_check: SignatureCheck | None = signature_valid) -> Verification:
    """Check one export: signature, members, chain, and (optionally) that it continues `previous`.

    `signature_check` is the Ed25519 check the records core's chain verifier uses; without one the
    export is unusable (exit 2), never verified."""
    result = Verification(str(path))
    try:
        chain = result.chain = ChainVerifier(signature_check)
    except VerificationUnavailable as exc:
        result.unusable = str(exc)
        return result
    if _is_json(path):
        _verify_certificate(path, result, public_key)
        return result
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                _verify_archive(archive, result, public_key, chain)
            except (AttributeError, TypeError, KeyError, ValueError):
                # Only a manifest that Strongroom did not write has an unexpected shape.
                result.problems.append(f"{MANIFEST} has an unexpected structure: it was not "
                                       "written by Strongroom or was altered.")
    except UnusableExport as exc:
        result.unusable = str(exc)
    except FileNotFoundError:
        result.unusable = f"{path} does not exist."
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        result.unusable = f"{path} is not a readable ZIP file; ask for the export again."
    if previous is not None and not result.unusable:
        _check_continues(result, previous, public_key, signature_check)
    return result


def _verify_archive(archive: zipfile.ZipFile, result: Verification, given_key: bytes | None,
                    chain: ChainVerifier) -> None:
    names = [i.filename for i in archive.infolist()]
    if MANIFEST not in names:
        raise UnusableExport(f"{result.path} is not a Strongroom audit export (no {MANIFEST}).")
    for name in sorted({n for n in names if names.count(n) > 1}):
        result.problems.append(f"The ZIP holds {name} more than once, so what it means is ambiguous.")
    body = _read(archive, MANIFEST, result)
    if body is None:
        return
    try:
        manifest = json.loads(body)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError
    except ValueError:
        result.problems.append(f"{MANIFEST} is damaged: it is not a Strongroom export manifest.")
        return
    result.manifest = manifest
    key = _check_signature(archive, body, result, given_key)
    _check_members(archive, result)
    _check_chain(archive, result, chain)
    if key is not None:
        _check_checkpoints(archive, result, key, chain)
        _check_certificates(archive, result, key)


def _check_signature(archive: zipfile.ZipFile, body: bytes, result: Verification,
                     given_key: bytes | None) -> bytes | None:
    """Check the manifest's signature; returns the key later signatures are checked against."""
    key_doc = result.section("key")
    try:
        embedded = base64.b64decode(str(key_doc.get("public_key", "")), validate=True)
        Ed25519PublicKey.from_public_bytes(embedded)
    except (binascii.Error, ValueError):
        result.problems.append(f"{MANIFEST} does not carry a valid Ed25519 public key.")
        return None
    if key_doc.get("fingerprint") != fingerprint(embedded):
        result.problems.append(f"{MANIFEST} states a key fingerprint that does not match its key.")
    sig_text = _read(archive, SIGNATURE, result) if SIGNATURE in archive.namelist() else None
    if sig_text is None:
        result.problems.append(f"{SIGNATURE} is missing, so nothing proves who made the manifest.")
        return None
    try:
        # Exactly what the exporter wrote (base64 and one newline): any other byte is a change.
        signature = base64.b64decode(sig_text.removesuffix(b"\n"), validate=True)
    except (binascii.Error, ValueError):
        result.problems.append(f"{SIGNATURE} is damaged (not base64).")
        return None
    key = given_key if given_key is not None else embedded
    if given_key is not None and given_key != embedded:
        result.problems.append(
            f"{MANIFEST} is signed with the key {fingerprint(embedded)}, not with the key you gave "
            f"({fingerprint(given_key)}): it was re-signed or comes from another home.")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, signed_message(body))
    except InvalidSignature:
        result.problems.append(f"The signature in {SIGNATURE} does not match {MANIFEST}: the "
                               "manifest was changed or replaced after it was signed.")
        return None
    if given_key is None:
        result.notes.append(f"The signing key {fingerprint(embedded)} is only self-asserted by the "
                            "export; compare it with the office's key or pass --public-key.")
    else:
        result.key_trusted = given_key == embedded
    return key


def _check_members(archive: zipfile.ZipFile, result: Verification) -> None:
    members = result.manifest.get("members")
    if not isinstance(members, dict):
        result.problems.append(f"{MANIFEST} lists no members.")
        return
    present = set(archive.namelist())
    for name, meta in members.items():
        if name not in present:
            result.problems.append(f"{name} is listed in the manifest but missing from the ZIP.")
            continue
        digest, size = _digest(archive, name)
        if digest is None:
            result.problems.append(f"{name} is damaged inside the ZIP (it cannot be read back).")
        elif not isinstance(meta, dict) or digest != meta.get("sha256") or size != meta.get("size"):
            result.problems.append(f"{name} was changed: its SHA-256 does not match the manifest.")
    for name in sorted(present - set(members) - {MANIFEST, SIGNATURE}):
        result.problems.append(f"{name} is in the ZIP but not in the manifest (it was added).")


def _check_chain(archive: zipfile.ZipFile, result: Verification, verifier: ChainVerifier) -> None:
    chain = result.section("chain")
    anchor, head = Point.of(chain.get("anchor")), Point.of(chain.get("head"))
    member = str(chain.get("member", "audit.jsonl"))
    if anchor is None or head is None:
        result.problems.append(f"{MANIFEST} does not state the audit chain's anchor and head.")
        return
    verifier.note(anchor.seq, anchor.hash)
    bridge = result.section("bridge")
    if bridge:
        start = Point.of(bridge.get("from"))
        if start is None:
            result.problems.append(f"{MANIFEST} names a bridge without its starting point.")
        else:
            verifier.note(start.seq, start.hash)
            _walk(archive, str(bridge.get("member")), start, anchor, bridge.get("entries"), result, verifier)
    _walk(archive, member, anchor, head, chain.get("entries"), result, verifier)
    stated = Point.of(result.manifest.get("previous_export"))
    if stated is not None:
        _check_point(result, stated, "the previous export's head stated in the manifest",
                     later_is_note=True)


def _check_checkpoints(archive: zipfile.ZipFile, result: Verification, key: bytes,
                       chain: ChainVerifier) -> None:
    """Each signed checkpoint must name a head this export's chain passes through, and verify."""
    member = str(result.section("chain").get("checkpoints", ""))
    if not member or member not in archive.namelist():
        return
    try:
        lines = archive.read(member).splitlines()
    except (zipfile.BadZipFile, OSError, EOFError):
        return  # the member check reports a damaged member
    for number, line in enumerate(lines, 1):
        try:
            doc = json.loads(line)
            cp = parse_checkpoint(str(doc["text"]).encode("utf-8"),
                                  base64.b64decode(doc["signature"], validate=True))
        except (ValueError, KeyError, TypeError, binascii.Error):
            result.problems.append(f"{member} line {number} is not a valid checkpoint.")
            continue
        verdict = chain.judge(cp, key)
        if verdict is Verdict.FORGED:
            result.problems.append(f"{member} line {number}: the checkpoint's signature does not verify.")
        elif verdict is Verdict.UNMATCHED:
            result.problems.append(f"{member} line {number}: the signed checkpoint at entry {cp.size} "
                                   "does not match the exported audit trail.")


def _check_certificates(archive: zipfile.ZipFile, result: Verification, key: bytes) -> None:
    """Each destruction certificate must be signed by the same key as the export."""
    verifier = Ed25519PublicKey.from_public_bytes(key)
    for name in sorted(n for n in set(archive.namelist()) if n.startswith("certificates/")):
        try:
            doc = json.loads(archive.read(name))
            signature = bytes.fromhex(doc["signature"])
            if bytes.fromhex(doc["public_key"]) != key:
                result.problems.append(f"{name} is signed by another key than this export.")
                continue
            verifier.verify(signature, canonical(doc["certificate"]))
        except InvalidSignature:
            result.problems.append(f"{name}: the destruction certificate's signature does not verify.")
        except (ValueError, KeyError, TypeError, zipfile.BadZipFile, OSError, EOFError):
            result.problems.append(f"{name} is not a valid destruction certificate.")


def _is_json(path: str | Path) -> bool:
    try:
        with open(path, "rb") as stream:
            return stream.read(64).lstrip().startswith(b"{")
    except OSError:
        return False


def _verify_certificate(path: str | Path, result: Verification, given_key: bytes | None) -> None:
    """A destruction certificate on its own (`strongroom retention certificates ID` output): its Ed25519
    signature over the canonical body, by the key it names (or the one given)."""
    result.kind = "certificate"
    try:
        doc = json.loads(Path(path).read_bytes())
        body = doc["certificate"]
        signature = bytes.fromhex(doc["signature"])
        embedded = bytes.fromhex(doc["public_key"])
        if not isinstance(body, dict):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        result.unusable = f"{path} is neither an audit export nor a destruction certificate."
        return
    result.manifest = {"certificate": body}
    key = given_key if given_key is not None else embedded
    if given_key is not None and given_key != embedded:
        result.problems.append(f"The certificate names the key {fingerprint(embedded)}, not the key you gave "
                               f"({fingerprint(given_key)}): it was re-signed or comes from another home.")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, canonical(body))
    except (InvalidSignature, ValueError):
        result.problems.append("The certificate's signature does not verify: it was changed after it was signed.")
        return
    if given_key is None:
        result.notes.append(f"The signing key {fingerprint(embedded)} is only self-asserted by the certificate; "
                            "compare it with the office's key or pass --public-key.")
    else:
        result.key_trusted = given_key == embedded


def _walk(archive: zipfile.ZipFile, member: str, start: Point, end: Point, count: Any,
          result: Verification, chain: ChainVerifier) -> None:
    """Walk one JSONL member from `start` (exclusive) to `end` (inclusive)."""
    if member not in archive.namelist():
        return  # already reported as a missing member
    lines = _Lines(start)
    try:
        with archive.open(member) as stream:
            broken = chain.walk(lines.docs(stream), after=start.seq, after_hash=start.hash, withheld_ok=True)
    except (zipfile.BadZipFile, OSError, EOFError):
        return  # the member check reports a damaged member
    if lines.withheld:
        result.notes.append(f"{member}: {lines.withheld} entries withhold a document hash the exporter "
                            "may not see (or of a destroyed record); their stated hashes are taken as "
                            "given, and the entries after them link to those hashes.")
    if lines.problem:
        result.problems.append(f"{member}: {lines.problem}.")
    elif broken:
        result.problems.append(f"{member}: {broken}.")
    elif lines.last != end or (isinstance(count, int) and count != lines.count):
        result.problems.append(f"{member} ends at entry {lines.last.seq}, but the manifest "
                               f"says it ends at {end.seq}: entries were removed or added.")


class _Lines:
    """Feeds JSONL entries to the chain verifier, stopping at the first line that is not an entry."""

    def __init__(self, start: Point) -> None:
        self.last = start
        self.count = 0
        self.withheld = 0
        self.problem = ""

    def docs(self, stream: Any) -> Iterator[dict[str, Any]]:
        for number, line in enumerate(stream, 1):
            try:
                doc = json.loads(line)
            except ValueError:
                doc = None
            point = Point.of(doc)
            if point is None:
                self.problem = f"line {number} is not a valid audit entry"
                return
            self.count += 1
            self.withheld += "withheld" in doc
            self.last = point
            yield doc


def _check_point(result: Verification, point: Point, what: str, *, later_is_note: bool) -> bool:
    """Does the verified chain in this export pass through `point`?"""
    head = result.head
    if point.seq in result.seen:
        if result.seen[point.seq] != point.hash:
            result.problems.append(f"The audit chain does not pass through {what} (entry "
                                   f"{point.seq}): the trail was rewritten between the exports.")
            return False
        return True
    if head is not None and point.seq > head.seq:
        message = (f"This export ends at entry {head.seq}, before {what} (entry {point.seq}), "
                   "so that link is not checked.")
        (result.notes if later_is_note else result.problems).append(message)
        return later_is_note
    result.problems.append(f"Entries between {what} (entry {point.seq}) and this export's first "
                           "entry are in neither file, so the link cannot be checked.")
    return False


def _check_continues(result: Verification, previous: str | Path, given_key: bytes | None,
                     signature_check: SignatureCheck | None) -> None:
    earlier = verify_export(previous, public_key=given_key, signature_check=signature_check)
    if earlier.unusable:
        result.problems.append(f"The previous export cannot be used: {earlier.unusable}")
        return
    if earlier.problems:
        result.problems.append(f"The previous export {previous} does not verify: "
                               f"{earlier.problems[0]}")
        return
    this_key = result.section("key").get("public_key")
    if earlier.section("key").get("public_key") != this_key:
        result.problems.append(f"The previous export {previous} was signed with another key.")
        return
    head = earlier.head
    if head is None:
        result.problems.append(f"The previous export {previous} states no chain head.")
        return
    _check_point(result, Point(head.seq, head.hash), f"the head of {previous}",
                 later_is_note=False)


def _read(archive: zipfile.ZipFile, name: str, result: Verification) -> bytes | None:
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError, EOFError):
        result.problems.append(f"{name} is damaged inside the ZIP (it cannot be read back).")
        return None


def _digest(archive: zipfile.ZipFile, name: str) -> tuple[str | None, int]:
    digest, size = hashlib.sha256(), 0
    try:
        with archive.open(name) as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except (zipfile.BadZipFile, OSError, EOFError):
        return None, size
    return digest.hexdigest(), size


def public_key_text(raw: bytes) -> str:
    """What an auditor keeps: fingerprint, base64 and PEM of the home's audit key."""
    pem = Ed25519PublicKey.from_public_bytes(raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    return (f"Strongroom audit public key (Ed25519)\n"
            f"Fingerprint: {fingerprint(raw)}\n"
            f"Base64: {base64.b64encode(raw).decode('ascii')}\n{pem}")
