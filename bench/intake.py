"""Benchmark: `strongroom import` of 1,000 small files against the bare pipeline, same process tree, same run.

Corpus: 500 one-page PDFs (reportlab) and 500 text files, each different.
Bare pipeline (the floor): per file pypdf extraction (text files decoded), AES-256-GCM sealing of
the original and the text to a temp file with fsync + rename + directory fsync, and one Whoosh
commit of all texts at the end; sequential, in this process.
Strongroom: `web.intake.bulk_import` on a real home (default Argon2id; unlocking is not timed, and
the sandbox workers start during it, as in `strongroom import`):
keyed MAC and duplicate look-up, sealing, SQLCipher commit with the audit chain (WAL, FULL),
extraction in indexer.extract's SandboxedExtractor and batched commits to the sealed WhooshIndex.
Run: .venv/bin/python bench/intake.py [--n 1000] [--rounds 1]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pypdf  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402
from whoosh import fields, index  # noqa: E402

from records.filing import FilingRequest  # noqa: E402
from web.intake import bulk_import  # noqa: E402
from web.office import create_home  # noqa: E402
from web.settings import Settings  # noqa: E402

PASSPHRASE = "benchmark passphrase of some length"
WORDS = ("pogodba dobava leping arve zapisnik sklep nadzorni svet juhatus protokoll "
         "invoice contract minutes board resolution payment terms").split()
SCHEMA = fields.Schema(id=fields.ID(stored=True, unique=True), text=fields.TEXT)


def make_corpus(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    out = []
    for i in range(n):
        words = " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(60))
        if i % 2 == 0:
            buf = io.BytesIO()
            pdf = canvas.Canvas(buf, pagesize=A4)
            pdf.drawString(50, 800, f"Dokument {i}")
            for line in range(6):
                pdf.drawString(50, 780 - 16 * line, words[line * 60:(line + 1) * 60])
            pdf.showPage()
            pdf.save()
            path = folder / f"doc-{i:04d}.pdf"
            path.write_bytes(buf.getvalue())
        else:
            path = folder / f"doc-{i:04d}.txt"
            path.write_text(f"Dokument {i}\n{words}\n", encoding="utf-8")
        out.append(path)
    return out


def extract_text(path: str) -> str:
    if path.endswith(".pdf"):
        return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)
    return Path(path).read_text(encoding="utf-8")


# ---- the bare pipeline ----------------------------------------------------------------------


def seal(folder: Path, aead: AESGCM, data: bytes, n: int) -> None:
    tmp = folder / f".tmp-{n}"
    with open(tmp, "wb") as fh:
        fh.write(aead.encrypt(os.urandom(12), data, b"bench"))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / f"obj-{n}")
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def bare(files: Sequence[Path], work: Path) -> float:
    objects, ix_dir = work / "objects", work / "index"
    objects.mkdir()
    ix_dir.mkdir()
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    started = time.perf_counter()
    ix = index.create_in(str(ix_dir), SCHEMA)
    texts = []
    for n, path in enumerate(files):
        text = extract_text(str(path))
        seal(objects, aead, path.read_bytes(), 2 * n)
        seal(objects, aead, text.encode(), 2 * n + 1)
        texts.append((str(n), text))
    writer = ix.writer()
    for doc_id, text in texts:
        writer.add_document(id=doc_id, text=text)
    writer.commit()
    return time.perf_counter() - started


# ---- Strongroom ------------------------------------------------------------------------------


def adapters(extractor: Any = None) -> tuple[Any, str]:
    """The sandboxed pool `strongroom import` uses (the Office adds the sealed index)."""
    from indexer.extract.sandbox import SandboxedExtractor
    return extractor or SandboxedExtractor(), "sandboxed extractor, sealed WhooshIndex"


def strongroom(files: Sequence[Path], work: Path, workers: int | None) -> tuple[float, str]:
    from indexer.extract.sandbox import SandboxedExtractor
    home_path = work / "home"
    pool = SandboxedExtractor()
    pool.warm()  # as `strongroom import` does: the workers start while the passphrase is stretched
    extractor, kind = adapters(pool)
    office, _recovery = create_home(Settings(home=home_path), PASSPHRASE, extractor=extractor)
    with office:
        template = FilingRequest(original_name="", record_class="contracts", actor="bench", channel="import")
        summary = bulk_import(office, files, template, workers=workers)
        if hasattr(extractor, "close"):
            extractor.close()
    assert summary.filed == len(files), [i.reason for i in summary.rejected][:3]
    return summary.seconds, kind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="filing threads (default: cores + 1)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    try:
        files = make_corpus(root / "corpus", args.n)
        ratios: list[float] = []
        for r in range(args.rounds):
            # Alternate the order so neither side always runs on a warmer page cache.
            order = ("bare", "strongroom") if r % 2 == 0 else ("strongroom", "bare")
            times: dict[str, float] = {}
            for side in order:
                work = root / f"{side}-{r}"
                work.mkdir()
                if side == "bare":
                    times[side] = bare(files, work)
                else:
                    times[side], kind = strongroom(files, work, args.workers)
                shutil.rmtree(work)
            print(f"round {r + 1}: {args.n} files; bare {times['bare']:.2f} s, strongroom import "
                  f"{times['strongroom']:.2f} s ({kind}, an index commit per 100): "
                  f"ratio {times['strongroom'] / times['bare']:.2f}x", flush=True)
            ratios.append(times["strongroom"] / times["bare"])
        print(f"import / bare pipeline: median {statistics.median(ratios):.2f}x "
              f"(spread {min(ratios):.2f}-{max(ratios):.2f}x, {len(ratios)} rounds)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
