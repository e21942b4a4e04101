"""Signatures read offline in the sandbox: PDFs signed with pyHanko, DigiDoc containers built by hand."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from tests.indexer.extract.signing import (NOW, asice, container, der, make_ca, make_signer, manifest_xml, signature_xml,
                     signed_pdf)

from indexer.errors import IndexerError
from indexer.extract.sandbox import SandboxedExtractor
from indexer.extract.trust import trusted_certificates
from records.errors import ExtractionFailed
from records.model import Integrity, Trust

CA = make_ca()
MARI = make_signer(CA)
JAAN = make_signer(CA, given="JAAN", surname="TAMM", code="37605030299", elliptic=True)
DOCUMENTS = {"leping.txt": "Üürileping: Kuusikupõllu talu, rent 400 eurot.\n".encode(),
             "lisa 1.txt": "Lisa: Rõõmsameelne inventar.\n".encode()}


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


# ---- signed PDF -----------------------------------------------------------------------------------


def test_a_pdf_signed_with_pyhanko_is_intact_and_names_its_signer(extractor: SandboxedExtractor) -> None:
    before = datetime.now(timezone.utc)
    pdf = signed_pdf(MARI, "Pogodba Srebrnolisti")
    after = datetime.now(timezone.utc)
    result = extractor.extract_bytes(pdf, "pogodba.pdf")
    assert "Srebrnolisti" in result.text
    [fact] = result.signatures
    assert (fact.signer, fact.identity_code, fact.kind) == ("MARI MAASIKAS", "PNOEE-38001085718", "PAdES")
    assert fact.integrity is Integrity.INTACT and fact.problem == ""
    assert fact.trust is Trust.UNCHECKED
    # pyHanko stamps the signing moment (whole seconds); NOW is the module's import time, which a
    # long suite can leave minutes behind.
    assert fact.signed_at is not None and before - timedelta(seconds=1) <= fact.signed_at <= after


def test_one_byte_of_the_signed_pdf_altered_is_seen(extractor: SandboxedExtractor) -> None:
    signed = signed_pdf(MARI, "Pogodba Srebrnolisti")
    altered = _flip(signed, signed.index(b"Srebrnolisti"))
    [fact] = extractor.extract_bytes(altered, "pogodba.pdf").signatures
    assert fact.integrity is Integrity.ALTERED
    assert fact.problem == "the signed content of the PDF differs from what was signed."


def test_an_unsigned_pdf_has_no_signatures(extractor: SandboxedExtractor) -> None:
    from tests.indexer.extract.signing import plain_pdf

    assert extractor.extract_bytes(plain_pdf("Nepodpisano"), "a.pdf").signatures == ()


# ---- DigiDoc container ----------------------------------------------------------------------------


@pytest.mark.parametrize("exclusive", [False, True], ids=["c14n11", "exc-c14n"])
@pytest.mark.parametrize("signer", [MARI, JAAN], ids=["rsa", "ecdsa"])
def test_a_container_built_by_hand_is_intact(extractor: SandboxedExtractor, exclusive: bool, signer: object) -> None:
    result = extractor.extract_bytes(asice(signer, DOCUMENTS, exclusive=exclusive), "leping.asice")  # type: ignore[arg-type]
    assert result.media_type == "application/vnd.etsi.asic-e+zip"
    assert [(a.name, a.data) for a in result.attachments] == list(DOCUMENTS.items())
    [fact] = result.signatures
    assert fact.integrity is Integrity.INTACT, fact.problem
    assert fact.kind == "XAdES" and fact.trust is Trust.UNCHECKED
    assert fact.identity_code in ("PNOEE-38001085718", "PNOEE-37605030299")
    assert fact.signed_at is not None and fact.signed_at.date() == (NOW - timedelta(days=1)).date()
    assert result.note == ""


def test_one_byte_of_a_document_in_the_container_altered_is_seen(extractor: SandboxedExtractor) -> None:
    altered = {"leping.txt": _flip(DOCUMENTS["leping.txt"], 20)}
    [fact] = extractor.extract_bytes(asice(MARI, DOCUMENTS, contents=altered), "leping.asice").signatures
    assert fact.integrity is Integrity.ALTERED
    assert fact.problem == "the document 'leping.txt' differs from what was signed."


def test_a_changed_signature_value_is_seen(extractor: SandboxedExtractor) -> None:
    xml = signature_xml(MARI, DOCUMENTS)
    value = re.search(rb"<ds:SignatureValue Id=\"S0-SIG\">([^<]+)<", xml)
    assert value is not None
    raw = bytearray(base64.b64decode(value.group(1)))
    raw[len(raw) // 2] ^= 0x01
    forged = xml.replace(value.group(1), base64.b64encode(bytes(raw)))
    [fact] = extractor.extract_bytes(asice(MARI, DOCUMENTS, signatures=forged), "leping.asice").signatures
    assert fact.integrity is Integrity.ALTERED
    assert fact.problem == "the signature value does not match what was signed."


def test_an_altered_document_with_its_digest_rewritten_fails_the_signature_value(
        extractor: SandboxedExtractor) -> None:
    altered = {"leping.txt": b"Rent 4 eurot.\n"}
    # The forger recomputes the reference's digest; only the signer's key could re-sign SignedInfo.
    honest = signature_xml(MARI, DOCUMENTS)
    forged = signature_xml(MARI, {**DOCUMENTS, **altered})
    spliced = honest.split(b"<ds:SignatureValue")[0].replace(
        honest.split(b"<ds:SignedInfo>")[1].split(b"</ds:SignedInfo>")[0],
        forged.split(b"<ds:SignedInfo>")[1].split(b"</ds:SignedInfo>")[0]) + b"<ds:SignatureValue" + \
        honest.split(b"<ds:SignatureValue")[1]
    [fact] = extractor.extract_bytes(asice(MARI, DOCUMENTS, contents=altered, signatures=spliced),
                                     "leping.asice").signatures
    assert fact.integrity is Integrity.ALTERED
    assert fact.problem == "the signature value does not match what was signed."


def test_a_changed_signing_time_is_seen(extractor: SandboxedExtractor) -> None:
    xml = signature_xml(MARI, DOCUMENTS)
    stamp = re.search(rb"<xades:SigningTime>([^<]+)<", xml)
    assert stamp is not None
    forged = xml.replace(stamp.group(1), b"2020-01-01T00:00:00Z")
    [fact] = extractor.extract_bytes(asice(MARI, DOCUMENTS, signatures=forged), "leping.asice").signatures
    assert fact.integrity is Integrity.ALTERED
    assert "signed properties" in fact.problem


def test_a_document_added_after_signing_is_named(extractor: SandboxedExtractor) -> None:
    result = extractor.extract_bytes(asice(MARI, DOCUMENTS, contents={"extra.txt": b"smuggled"}), "x.asice")
    assert result.signatures[0].integrity is Integrity.INTACT
    assert "not covered by any signature: extra.txt" in result.note


def test_trust_follows_the_offices_certificates(extractor: SandboxedExtractor) -> None:
    data = asice(MARI, DOCUMENTS)
    trusting = SandboxedExtractor(workers=1, timeout_s=20, trusted=(der(CA[0]),))
    stranger = SandboxedExtractor(workers=1, timeout_s=20, trusted=(der(make_ca("Other CA")[0]),))
    with trusting, stranger:
        assert trusting.extract_bytes(data, "a.asice").signatures[0].trust is Trust.TRUSTED
        assert stranger.extract_bytes(data, "a.asice").signatures[0].trust is Trust.UNTRUSTED
        assert trusting.extract_bytes(signed_pdf(MARI, "Pogodba"), "p.pdf").signatures[0].trust is Trust.TRUSTED


def test_the_trusted_folder_is_read_as_pem_or_der(tmp_path: object) -> None:
    from pathlib import Path

    from cryptography.hazmat.primitives.serialization import Encoding

    folder = Path(str(tmp_path)) / "trusted-certificates"
    assert trusted_certificates(folder) == ()
    folder.mkdir()
    (folder / "esteid.pem").write_bytes(CA[0].public_bytes(Encoding.PEM))
    (folder / "other.cer").write_bytes(der(make_ca("Other")[0]))
    (folder / "README.txt").write_text("ignored")
    assert len(trusted_certificates(folder)) == 2
    (folder / "broken.crt").write_bytes(b"not a certificate")
    with pytest.raises(IndexerError, match=r"broken\.crt is not a certificate"):
        trusted_certificates(folder)


# ---- hostile containers: one sentence each ------------------------------------------------------------


def _reason(extractor: SandboxedExtractor, data: bytes) -> str:
    with pytest.raises(ExtractionFailed) as failed:
        extractor.extract_bytes(data, "hostile.asice")
    reason = str(failed.value)
    assert reason.count(". ") == 0 and reason.endswith("."), reason  # one sentence
    return reason


def test_a_zip_bomb_container_is_rejected(extractor: SandboxedExtractor) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.etsi.asic-e+zip")
        archive.writestr("META-INF/manifest.xml", manifest_xml({"bomb.txt": b""}))
        archive.writestr("bomb.txt", b"\0" * (20 * 1024 * 1024), compress_type=zipfile.ZIP_DEFLATED)
    assert "zip bomb" in _reason(extractor, buffer.getvalue())


def test_a_container_without_manifest_is_rejected(extractor: SandboxedExtractor) -> None:
    data = container({**DOCUMENTS, "META-INF/signatures0.xml": signature_xml(MARI, DOCUMENTS)})
    assert "has no manifest" in _reason(extractor, data)


@pytest.mark.parametrize("payload", [
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    b'<asic:XAdESSignatures xmlns:asic="http://uri.etsi.org/02918/v1.2.1#">&lol2;</asic:XAdESSignatures>',
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b'<asic:XAdESSignatures xmlns:asic="http://uri.etsi.org/02918/v1.2.1#">&e;</asic:XAdESSignatures>',
], ids=["billion-laughs", "external-entity"])
def test_xml_entities_in_a_signature_file_are_rejected(extractor: SandboxedExtractor, payload: bytes) -> None:
    data = asice(MARI, DOCUMENTS, signatures=payload)
    assert "declares a DTD or XML entities" in _reason(extractor, data)


def test_a_named_container_without_its_mimetype_is_rejected(extractor: SandboxedExtractor) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("leping.txt", b"x")
    assert "not a signed container" in _reason(extractor, buffer.getvalue())
