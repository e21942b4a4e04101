"""Per-file cost of the sandboxed pool vs in-process pypdf (200 one-page PDFs), and the hostile corpus time."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pypdf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from make_corpus import simple_pdf, write_corpus  # noqa: E402

from indexer.extract.sandbox import SandboxedExtractor  # noqa: E402
from records.errors import ExtractionFailed  # noqa: E402


def main(count: int = 200) -> None:
    pdfs = [simple_pdf([f"Contract number {i}", "Between the municipality and the supplier"]) for i in range(count)]

    started = time.perf_counter()
    for data in pdfs:
        reader = pypdf.PdfReader(io.BytesIO(data))
        "".join(page.extract_text() for page in reader.pages)
    direct = time.perf_counter() - started

    with SandboxedExtractor(workers=1) as pool:
        started = time.perf_counter()
        pool.extract_bytes(pdfs[0], "warm.pdf")
        first = time.perf_counter() - started
        started = time.perf_counter()
        for data in pdfs:
            pool.extract_bytes(data, "c.pdf")
        sandboxed = time.perf_counter() - started

    import tempfile

    with tempfile.TemporaryDirectory() as folder, SandboxedExtractor(workers=2, timeout_s=30) as pool:
        files = write_corpus(Path(folder))
        started = time.perf_counter()
        outcomes = []
        for name, path in files.items():
            try:
                pool.extract(str(path), name)
                outcomes.append("ok")
            except ExtractionFailed:
                outcomes.append("rejected")
        hostile = time.perf_counter() - started

    print(f"{count} one-page PDFs, in-process pypdf: {direct * 1000 / count:.2f} ms/file")
    print(f"{count} one-page PDFs, sandbox (1 reused worker): {sandboxed * 1000 / count:.2f} ms/file "
          f"(overhead {(sandboxed - direct) * 1000 / count:.2f} ms/file)")
    print(f"first call incl. worker start: {first * 1000:.0f} ms")
    print(f"hostile corpus: {len(files)} files in {hostile:.2f} s "
          f"({outcomes.count('ok')} filed, {outcomes.count('rejected')} rejected)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
