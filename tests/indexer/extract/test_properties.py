"""Property tests of the pure readers (run in-process here; production runs them only in the sandbox)."""

from __future__ import annotations

from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.extract.eml import read_eml
from indexer.extract.reader import read_document
from indexer.extract.text import decode_text
from records.errors import ExtractionFailed

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PRINTABLE = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))
LETTERS = st.text(alphabet=st.sampled_from(list("abcdefghijklmnoprstuvz ,.\n")), min_size=0, max_size=60)


@FAST
@given(st.binary(max_size=2000))
def test_decoder_raises_only_extraction_failed(data: bytes) -> None:
    try:
        text, encoding = decode_text(data)
    except ExtractionFailed as failed:
        assert str(failed).endswith(".")
    else:
        assert isinstance(text, str) and encoding in {"utf-8", "utf-16", "cp1250", "cp1257"}


@FAST
@given(LETTERS, st.lists(st.sampled_from(list("čšžČŠŽ")), min_size=2, max_size=10), LETTERS)
def test_slovene_cp1250_round_trips(prefix: str, diacritics: list[str], suffix: str) -> None:
    text = prefix + "".join(diacritics) + " " + suffix
    encoded = text.encode("cp1250")
    try:
        encoded.decode("utf-8")
    except UnicodeDecodeError:
        assert decode_text(encoded) == (text, "cp1250")
    else:  # some cp1250 byte pairs are valid UTF-8 too (č = E8 9A ...): strict UTF-8 wins, by design
        assert decode_text(encoded)[1] == "utf-8"


@FAST
@given(LETTERS, st.lists(st.sampled_from(list("õäöüÕÄÖÜ")), min_size=2, max_size=10), LETTERS)
def test_estonian_cp1257_round_trips(prefix: str, diacritics: list[str], suffix: str) -> None:
    text = prefix + "".join(diacritics) + " " + suffix
    assert decode_text(text.encode("cp1257")) == (text, "cp1257")


@FAST
@given(st.binary(max_size=3000))
def test_email_reader_raises_only_extraction_failed(data: bytes) -> None:
    try:
        read_eml(b"From: a@b.si\r\nSubject: x\r\n" + data, 10_000)
    except ExtractionFailed:
        pass


@FAST
@given(st.text(PRINTABLE, max_size=300), st.text(PRINTABLE, max_size=80), st.binary(max_size=500),
       st.text(PRINTABLE, max_size=40))
def test_generated_emails_keep_subject_and_body(body: str, subject: str, blob: bytes, filename: str) -> None:
    message = EmailMessage()
    message["From"] = "tajnistvo@obcina.si"
    message["Subject"] = " ".join(subject.split()) or "x"
    message.set_content(body)
    if filename.strip():
        message.add_attachment(blob, maintype="application", subtype="octet-stream", filename=filename)
    result = read_eml(message.as_bytes(), 10_000)
    assert result.title == " ".join(message["Subject"].split())
    assert result.text.split() == body.split()
    assert len(result.attachments) == (1 if filename.strip() else 0)


@FAST
@given(st.binary(max_size=3000), st.sampled_from(["a.pdf", "a.docx", "a.odt", "a.eml", "a.txt", "a", "a.html"]))
def test_any_bytes_under_any_name_give_an_outcome(data: bytes, name: str) -> None:
    try:
        result = read_document(data, name, 100_000)
    except ExtractionFailed as failed:
        assert "\n" not in str(failed)
    else:
        assert isinstance(result.text, str)


@FAST
@given(st.binary(max_size=1500))
def test_pdf_prefixed_garbage(data: bytes) -> None:
    try:
        read_document(b"%PDF-1.7\n" + data, "g.pdf", 100_000)
    except ExtractionFailed:
        pass
