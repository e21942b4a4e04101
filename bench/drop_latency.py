"""Benchmark: drop-to-searchable latency of one 10-page PDF through the watcher, median and p95 over 20 drops.

Each drop copies a fresh 10-page PDF (reportlab) into inbox/contracts/ of a real home (default
Argon2id; unlocking is not timed); the clock stops when the watcher reports the record filed, which
is after the index commit (file_document indexes before it returns). The figure includes the
stability window after close-write (`--stability`, default the Settings default) and the tick.
Extraction and index: the real adapters, as in bench/intake.py (sandboxed pool, sealed WhooshIndex).
Run: .venv/bin/python bench/drop_latency.py [--drops 20] [--stability 2.0]
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

from intake import PASSPHRASE, WORDS, adapters  # noqa: E402  (bench/intake.py)
from vault.inbox import IntakeResult  # noqa: E402
from web.office import create_home  # noqa: E402
from web.settings import Settings  # noqa: E402


def ten_pages(seed: int) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    for page in range(10):
        for line in range(45):
            pdf.drawString(50, 800 - 16 * line, " ".join(WORDS[(seed + page + line + k) % len(WORDS)]
                                                         for k in range(12)) + f" {seed}-{page}-{line}")
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drops", type=int, default=20)
    parser.add_argument("--stability", type=float, default=Settings().stability_seconds)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-drop-"))
    try:
        home_path = root / "home"
        settings = Settings(home=home_path, stability_seconds=args.stability)
        extractor, kind = adapters()
        office, _recovery = create_home(settings, PASSPHRASE, extractor=extractor)  # the shells' own wiring
        with office:
            done = threading.Event()
            finished: list[float] = []

            def on_result(result: IntakeResult) -> None:
                finished.append(time.perf_counter())
                done.set()

            intake = office.intake()
            watcher = office.start_watcher(on_result=on_result)
            latencies = []
            try:
                for i in range(args.drops):
                    data = ten_pages(i)
                    done.clear()
                    with open(intake.folder_path("contracts") / f"drop-{i:02d}.pdf", "wb") as fh:
                        fh.write(data)
                    dropped = time.perf_counter()  # the writer has closed the file
                    if not done.wait(60):
                        raise SystemExit("a drop was not filed within 60 s")
                    latencies.append(finished[-1] - dropped)
            finally:
                watcher.stop()
                if hasattr(extractor, "close"):
                    extractor.close()
        latencies.sort()
        p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
        print(f"{args.drops} drops of a 10-page PDF ({kind}; stability window {args.stability:.1f} s): "
              f"median {statistics.median(latencies):.2f} s, p95 {p95:.2f} s, "
              f"min {latencies[0]:.2f} s, max {latencies[-1]:.2f} s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
