"""Writes the hostile and odd extraction corpus (tests/indexer/extract use it at test time, into tmp_path)."""

from __future__ import annotations

import io
import os
import random
import sys
import zipfile
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from pypdf import PdfWriter
from reportlab.pdfgen import canvas

_DOCX_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
               b'package/2006/content-types"></Types>')
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def simple_pdf(lines: list[str], pages: int = 1) -> bytes:
    out = io.BytesIO()
    sheet = canvas.Canvas(out)
    for _ in range(pages):
        for row, line in enumerate(lines):
            sheet.drawString(72, 750 - 16 * row, line)
        sheet.showPage()
    sheet.save()
    return out.getvalue()


def docx_with(document_xml: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _DOCX_TYPES)
        archive.writestr("word/document.xml", document_xml)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def _body(text: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{_W}"><w:body><w:p><w:r>'
            f"<w:t>{text}</w:t></w:r></w:p></w:body></w:document>").encode()


def truncated_pdf() -> bytes:
    data = simple_pdf(["Truncated contract"] * 20)
    return data[: len(data) // 2]


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(simple_pdf(["Secret minutes"])))
    writer.encrypt(user_password="letmein", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def many_pages_pdf(pages: int = 3000) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def raw_pdf(objects: list[bytes]) -> bytes:
    """A minimal PDF from numbered object bodies (1 is the catalog), with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


_CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"


def flate_bomb_pdf(megabytes: int = 120) -> bytes:
    """One page whose content stream inflates to `megabytes` MB of spaces (about 1000:1)."""
    import zlib

    packed = zlib.compress(b" " * (megabytes * 1024 * 1024), 9)
    return raw_pdf([_CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
                    b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"])


def huge_array_pdf(elements: int = 150_000) -> bytes:
    return raw_pdf([_CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    b"<< /Type /Page /Parent 2 0 R /MediaBox [" + b"0 " * elements + b"] >>"])


def deep_page_tree_pdf(depth: int = 150) -> bytes:
    levels = [b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (index + 3) for index in range(depth)]
    return raw_pdf([_CATALOG, *levels, b"<< /Type /Page /MediaBox [0 0 10 10] >>"])


def docx_lying_sizes() -> bytes:
    """The directory declares 100 bytes for a 5 MB document.xml: the reader must not trust it."""
    body = _body("x" * (5 * 1024 * 1024))
    data = bytearray(docx_with(body))
    real = len(body).to_bytes(4, "little")
    fake = (100).to_bytes(4, "little")
    start = 0
    while (found := data.find(real, start)) >= 0:  # local header and central directory size fields
        data[found:found + 4] = fake
        start = found + 4
    return bytes(data)


def docx_ratio_bomb() -> bytes:
    """word/document.xml inflates 1000:1 to 300 MB: refused from the central directory alone."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _DOCX_TYPES)
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b" " * (1 << 20)
            for _ in range(300):
                member.write(chunk)
    return out.getvalue()


def docx_declared_bomb() -> bytes:
    """300 entries of 1 MB each, individually modest ratios, 300 MB declared in total."""
    rng = random.Random(7)
    noise = bytes(rng.getrandbits(8) for _ in range(16 * 1024))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _DOCX_TYPES)
        archive.writestr("word/document.xml", _body("bomb"))
        payload = (noise * 64)[: 1 << 20]  # repeats 16 KB of noise: inflates ~64:1, under the ratio cap
        for index in range(300):
            archive.writestr(f"word/media/part{index}.bin", payload)
    return out.getvalue()


def docx_many_entries() -> bytes:
    return docx_with(_body("many"), {f"word/media/e{i}.txt": b"x" for i in range(1500)})


def docx_traversal() -> bytes:
    return docx_with(_body("traversal"), {"../../etc/cron.d/evil": b"* * * * * root true"})


def docx_symlink() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", _DOCX_TYPES)
        archive.writestr("word/document.xml", _body("link"))
        link = zipfile.ZipInfo("word/link")
        link.external_attr = (0o120777 << 16)
        archive.writestr(link, "/etc/passwd")
    return out.getvalue()


def docx_billion_laughs() -> bytes:
    lol = "".join(f'<!ENTITY lol{i} "{"&lol%d;" % (i - 1) * 10}">' for i in range(1, 10))
    xml = (f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY lol0 "lol">{lol}]>'
           f'<w:document xmlns:w="{_W}"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>')
    return docx_with(xml.encode())


def docx_external_entity() -> bytes:
    xml = (f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           f'<w:document xmlns:w="{_W}"><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>')
    return docx_with(xml.encode())


def nested_mime_email(levels: int = 100) -> bytes:
    inner = EmailMessage()
    inner.set_content("the bottom")
    for level in range(levels):
        outer = EmailMessage()
        outer["Subject"] = f"level {level}"
        outer.make_mixed()
        outer.attach(inner)
        inner = outer
    inner["From"] = "deep@example.org"
    inner["To"] = "tajnistvo@example.si"
    return inner.as_bytes()


def many_attachments_email(count: int = 80) -> bytes:
    message = EmailMessage()
    message["From"] = "spam@example.org"
    message["To"] = "tajnistvo@example.si"
    message["Subject"] = "attachments"
    message.set_content("see attached")
    for index in range(count):
        message.add_attachment(b"x", maintype="application", subtype="octet-stream", filename=f"a{index}.bin")
    return message.as_bytes()


def hostile_corpus() -> dict[str, Callable[[], bytes]]:
    """name -> maker; the names carry the extension the file arrives with."""
    rng = random.Random(1)
    return {
        "truncated.pdf": truncated_pdf,
        "encrypted.pdf": encrypted_pdf,
        "many-pages.pdf": many_pages_pdf,
        "flate-bomb.pdf": flate_bomb_pdf,
        "huge-array.pdf": huge_array_pdf,
        "deep-page-tree.pdf": deep_page_tree_pdf,
        "ratio-bomb.docx": docx_ratio_bomb,
        "lying-sizes.docx": docx_lying_sizes,
        "declared-bomb.docx": docx_declared_bomb,
        "many-entries.docx": docx_many_entries,
        "traversal.docx": docx_traversal,
        "symlink.docx": docx_symlink,
        "billion-laughs.docx": docx_billion_laughs,
        "external-entity.docx": docx_external_entity,
        "nested-100.eml": nested_mime_email,
        "attachments-80.eml": many_attachments_email,
        "pdf-named.docx": lambda: simple_pdf(["Renamed report"]),
        "html-named.pdf": lambda: b"<!DOCTYPE html><html><body><script>alert(1)</script>hi</body></html>",
        "random.bin": lambda: bytes(rng.getrandbits(8) for _ in range(64 * 1024)),
        "random.pdf": lambda: bytes(rng.getrandbits(8) for _ in range(4096)),
        "empty.txt": lambda: b"",
        "nul-bytes.txt": lambda: b"\x00" * 5000,
        ("\u010d" * 100) + "\u202etxt.pdf": lambda: simple_pdf(["Long unicode name"]),
    }


def write_corpus(folder: Path) -> dict[str, Path]:
    """Writes every hostile file under a safe on-disk name; returns original name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for index, (name, make) in enumerate(hostile_corpus().items()):
        path = folder / f"{index:02d}{os.path.splitext(name)[1][:8]}"
        path.write_bytes(make())
        written[name] = path
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/corpus/hostile")
    for original, path in write_corpus(target).items():
        print(f"{path}\t{path.stat().st_size}\t{original!r}")
