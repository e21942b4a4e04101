"""Benchmark: filing latency of a 1 MB PDF on a real home, and the share of each step.

A scanned-looking PDF (8 pages of text plus a ~1 MB incompressible image) is filed N times
(each copy differs, so none is a duplicate) through `records.filing.file_document` on a home
made with the DEFAULT Argon2id parameters; unlocking happens once, outside the timing.
Extraction and indexing are the shells' own adapters (`web.office.Office`): the sandboxed
extraction pool (the first filing pays for starting its workers; the median does not show it)
and the sealed Whoosh index, committed once per filing as the watcher and the upload form do.
Run: .venv/bin/python bench/filing.py [--n 20] [--mb 1.0]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.utils import ImageReader  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

from records.filing import FilingRequest, StepTimings  # noqa: E402
from web.office import create_home  # noqa: E402
from web.settings import Settings  # noqa: E402

PASSPHRASE = "benchmark passphrase of some length"
WORDS = ("pogodba dobava leping arve zapisnik sklep nadzorni svet juhatus protokoll "
         "invoice contract minutes board resolution payment terms").split()


def make_pdf(path: Path, mb: float, seed: int) -> None:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    for page in range(8):
        y = 800
        for line in range(45):
            words = [WORDS[(seed + page * 7 + line * 3 + i) % len(WORDS)] for i in range(12)]
            pdf.drawString(50, y, " ".join(words))
            y -= 16
        pdf.showPage()
    # reportlab stores the image ASCII85-encoded (+25%): scale the pixels to land near `mb`.
    side = int((mb * 1e6 / 3 / 1.27) ** 0.5)
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    pdf.drawImage(ImageReader(image), 50, 200, width=500, height=500)
    pdf.showPage()
    pdf.save()
    path.write_bytes(buf.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--mb", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sr-bench-") as tmp:
        root = Path(tmp)
        sources = []
        for i in range(args.n):
            sources.append(root / f"doc{i}.pdf")
            make_pdf(sources[-1], args.mb, i)
        size = sources[0].stat().st_size
        office, _recovery = create_home(Settings(home=root / "home"), PASSPHRASE)  # default KDF, not timed
        with office:  # the shells' own wiring: sandboxed extraction, sealed index
            ext = office.ports.extractor
            timings: list[StepTimings] = []
            for src in sources:
                outcome = office.file(src, FilingRequest(original_name=src.name, record_class="contracts"))
                if outcome.status != "filed":
                    raise SystemExit(f"filing failed: {outcome.reason}")
                timings.append(outcome.timings)
    totals = sorted(t.total for t in timings)
    print(f"extractor: {type(ext).__name__}; file size {size / 1e6:.2f} MB; n = {args.n}")
    print(f"filing latency: median {statistics.median(totals) * 1000:.1f} ms, "
          f"min {totals[0] * 1000:.1f} ms, max {totals[-1] * 1000:.1f} ms")
    steps = StepTimings.STEPS
    for step in steps:
        values = [getattr(t, step) for t in timings]
        median = statistics.median(values)
        share = median / statistics.median(totals) if totals else 0.0
        print(f"  {step:<14} median {median * 1000:7.1f} ms  ({share:5.1%} of the median total)")


if __name__ == "__main__":
    main()
