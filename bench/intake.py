"""Benchmark: `strongroom import` of 1,000 small files against the bare pipeline, same process tree, same run.

Corpus: 500 one-page PDFs (reportlab) and 500 text files, each different.
Bare pipeline (the floor), sequential, in this process: per file pypdf extraction (text files
decoded) and AES-256-GCM sealing of the original and the text, and one Whoosh commit of all texts
at the end. Its durability is Strongroom's own, group commit: per batch of 100 files, every sealed
object written to a temp file, fsynced, renamed, then one fsync of the (single) folder.
For comparison the run also times the bare pipeline with a file and a folder fsync per object (what
the bench measured before group commit; `--per-object` prints its ratio too).
Strongroom: `web.intake.bulk_import` on a real home (default Argon2id; unlocking is not timed, and
the sandbox workers start during it, as in `strongroom import`): keyed MAC and duplicate look-up,
sealing, group commit (records.filing.commit: objects made durable, one SQLCipher transaction with
the audit chain (WAL, FULL) and one sealed-Whoosh commit per 100 files), extraction in
indexer.extract's SandboxedExtractor.
Run: .venv/bin/python bench/intake.py [--n 1000] [--rounds 3] [--per-object]
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
    """One object with its own file and folder fsync (the per-object floor)."""
    tmp = folder / f".tmp-{n}"
    with open(tmp, "wb") as fh:
        fh.write(aead.encrypt(os.urandom(12), data, b"bench"))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / f"obj-{n}")
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class GroupSeal:
    """Objects written to temp files; `commit` fsyncs each, renames each, fsyncs the folder once."""

    def __init__(self, folder: Path, aead: AESGCM) -> None:
        self.folder, self.aead, self.pending = folder, aead, []  # type: list[int]

    def seal(self, data: bytes, n: int) -> None:
        with open(self.folder / f".tmp-{n}", "wb") as fh:
            fh.write(self.aead.encrypt(os.urandom(12), data, b"bench"))
        self.pending.append(n)

    def commit(self) -> None:
        for n in self.pending:
            fd = os.open(self.folder / f".tmp-{n}", os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        for n in self.pending:
            os.replace(self.folder / f".tmp-{n}", self.folder / f"obj-{n}")
        fsync_dir(self.folder)
        self.pending = []


def bare(files: Sequence[Path], work: Path, *, group: int = 100) -> float:
    """`group` > 0: group commit every `group` files; 0: a file and a folder fsync per object."""
    objects, ix_dir = work / "objects", work / "index"
    objects.mkdir()
    ix_dir.mkdir()
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    started = time.perf_counter()
    ix = index.create_in(str(ix_dir), SCHEMA)
    texts = []
    batch = GroupSeal(objects, aead)
    for n, path in enumerate(files):
        text = extract_text(str(path))
        if group:
            batch.seal(path.read_bytes(), 2 * n)
            batch.seal(text.encode(), 2 * n + 1)
            if (n + 1) % group == 0:
                batch.commit()
        else:
            seal(objects, aead, path.read_bytes(), 2 * n)
            seal(objects, aead, text.encode(), 2 * n + 1)
        texts.append((str(n), text))
    batch.commit()
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


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f}x (spread {min(values):.2f}-{max(values):.2f}x, {len(values)} rounds)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="filing threads (default: cores + 1)")
    parser.add_argument("--per-object", action="store_true",
                        help="also time the bare pipeline with a file and a folder fsync per object")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    sides = ("bare", "strongroom", "per-object") if args.per_object else ("bare", "strongroom")
    try:
        files = make_corpus(root / "corpus", args.n)
        ratios: dict[str, list[float]] = {"bare": [], "per-object": []}
        for r in range(args.rounds):
            # Rotate the order so no side always runs on a warmer page cache.
            order = sides[r % len(sides):] + sides[:r % len(sides)]
            times: dict[str, float] = {}
            for side in order:
                work = root / f"{side}-{r}"
                work.mkdir()
                if side == "strongroom":
                    times[side], kind = strongroom(files, work, args.workers)
                else:
                    times[side] = bare(files, work, group=100 if side == "bare" else 0)
                shutil.rmtree(work)
            line = (f"round {r + 1}: {args.n} files; bare (group commit) {times['bare']:.2f} s, strongroom import "
                    f"{times['strongroom']:.2f} s ({kind}, a group commit per 100): "
                    f"ratio {times['strongroom'] / times['bare']:.2f}x")
            ratios["bare"].append(times["strongroom"] / times["bare"])
            if args.per_object:
                line += (f"; bare with per-object fsyncs {times['per-object']:.2f} s, "
                         f"ratio {times['strongroom'] / times['per-object']:.2f}x")
                ratios["per-object"].append(times["strongroom"] / times["per-object"])
            print(line, flush=True)
        print(f"import / bare pipeline (group commit): {spread(ratios['bare'])}")
        if args.per_object:
            print(f"import / bare pipeline with per-object fsyncs: {spread(ratios['per-object'])}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
