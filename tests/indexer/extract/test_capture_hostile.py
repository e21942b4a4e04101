"""Hostile spreadsheets, .msg files and OLE compound files: each is refused with one sentence (or
filed without text), in seconds, and the worker pool lives on."""

from __future__ import annotations

import io
import struct
import time
import zipfile

import pytest

from indexer.extract.sandbox import SandboxedExtractor
from records.errors import ExtractionFailed
from tests.indexer.extract.msgfile import Message, compound_file, msg_file
from tests.indexer.extract.test_capture import ods_bytes, sample_msg, xlsx_bytes


def _outcome(extractor: SandboxedExtractor, data: bytes, name: str) -> str:
    started = time.monotonic()
    try:
        result = extractor.extract_bytes(data, name)
        outcome = f"ok: {result.note}"
    except ExtractionFailed as failed:
        outcome = str(failed)
    assert time.monotonic() - started < 15, name
    assert "Traceback" not in outcome and "\n" not in outcome
    return outcome


def _lying_bomb(kind: str) -> bytes:
    """A valid workbook whose biggest part is replaced by 200 MB of zeros that declares 1 KB."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes() if kind == "xlsx" else ods_bytes([["a"]])))
    target = "xl/worksheets/sheet1.xml" if kind == "xlsx" else "content.xml"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == target:
                data = data + b" " * (200 * 2**20)
            archive.writestr(info, data, compress_type=info.compress_type)
    raw = bytearray(out.getvalue())
    # Lower the declared size of the bloated part in its central directory entry to 1 KB.
    at = raw.rfind(target.encode()) - 46  # the name follows the 46-byte fixed part of the entry
    assert raw[at:at + 4] == b"PK\x01\x02"
    struct.pack_into("<I", raw, at + 24, 1024)
    return bytes(raw)


def _honest_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/sharedStrings.xml", b"\0" * (300 * 2**20))
    return out.getvalue()


def _sparse_sheet() -> bytes:
    """Two cells at opposite corners of the largest sheet Excel allows (a 17-billion-cell range)."""
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>'
             '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>b</t></is></c></row></sheetData></worksheet>')
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = sheet.encode() if info.filename == "xl/worksheets/sheet1.xml" else source.read(info)
            archive.writestr(info.filename, data)
    return out.getvalue()


def _fat_loop() -> bytes:
    """A .msg whose FAT makes the directory chain point back at itself."""
    data = bytearray(msg_file(sample_msg()))
    first_fat = struct.unpack_from("<I", data, 76)[0]
    first_dir = struct.unpack_from("<I", data, 48)[0]
    struct.pack_into("<I", data, 512 * (first_fat + 1) + 4 * first_dir, first_dir)
    return bytes(data)


def _deep_msg(levels: int) -> bytes:
    message = Message(subject="dno", sender=("A", "a@b.si"), body="x")
    for level in range(levels):
        message = Message(subject=f"Fw {level}", sender=("A", "a@b.si"), body="x", embedded=[message])
    return msg_file(message)


HOSTILE = {
    "truncated.xlsx": (lambda: xlsx_bytes()[:3000], "damaged"),
    "truncated.ods": (lambda: ods_bytes([["a", "b"]])[:200], "damaged"),
    "truncated.msg": (lambda: msg_file(sample_msg())[:2000], "damaged"),
    "truncated.xls": (lambda: compound_file({"Workbook": b"\x09\x08" + b"\x00" * 5000})[:3000], "damaged"),
    "garbage-workbook.xls": (lambda: compound_file({"Workbook": b"\xff" * 5000}), "damaged"),
    "honest-bomb.xlsx": (_honest_bomb, "zip bomb"),
    "lying-bomb.xlsx": (lambda: _lying_bomb("xlsx"), "zip bomb"),
    "lying-bomb.ods": (lambda: _lying_bomb("ods"), "zip bomb"),
    "sparse.xlsx": (_sparse_sheet, "hostile"),  # calamine aborts allocating the range: the worker dies cleanly
    "fat-loop.msg": (_fat_loop, "Outlook message"),
    "bad-header.msg": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 4000, "damaged"),
    "no-properties.msg": (lambda: compound_file({"Something": b"x" * 100}), "not an Outlook message"),
    "deep.msg": (lambda: _deep_msg(14), "nests messages more than 10 levels"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_refused_with_one_sentence(extractor: SandboxedExtractor, name: str) -> None:
    make, expected = HOSTILE[name]
    outcome = _outcome(extractor, make(), name)
    assert expected in outcome, outcome


def test_the_pool_still_reads_after_the_hostile_files(extractor: SandboxedExtractor) -> None:
    for name, (make, _expected) in HOSTILE.items():
        _outcome(extractor, make(), name)
    assert "Kolibrij" in extractor.extract_bytes(xlsx_bytes(), "ok.xlsx").text
