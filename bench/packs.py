"""Time to make a 100-page meeting pack (5 PDF materials of 20 pages) through the sandboxed pack worker, as a
ratio against bare pypdf joining the same materials without cover, bookmarks or watermark (the baseline, in
the same run); also the same pack made in-process (what the server did before the sandbox), to show what the
sandbox itself costs. Median and spread (min-max) over the rounds.

    .venv/bin/python bench/packs.py --rounds 5
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pypdf import PdfReader, PdfWriter  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfgen import canvas  # noqa: E402

from indexer.extract.pack_pages import PackBuilder, Stamp  # noqa: E402
from indexer.extract.pack_sandbox import Front, PackPart, SandboxedPackMaker  # noqa: E402
from records.meeting_bodies import DEFAULTS  # noqa: E402
from records.meetings import AgendaItem, Meeting, Participant  # noqa: E402
from records.model import Confidentiality, Record, RecordId  # noqa: E402
from records.packs import PackContent, PackItem, PackMaterial  # noqa: E402
from web.meeting_pack import FONT, PackWords, render_pack  # noqa: E402
from web.office import shared_pack_maker  # noqa: E402
from web.settings import Settings  # noqa: E402

WORDS = ("poročilo", "uprava", "sklep", "pogodba", "dobavitelj", "revizija", "proračun", "nadzorni", "svet", "leto")


def material(n: int, pages: int) -> bytes:
    """A typical board material: pages of running text (about 45 lines each), made by another tool."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for page in range(pages):
        pdf.setFont("Helvetica", 10)
        for line in range(45):
            words = " ".join(WORDS[(n + page + line + i) % len(WORDS)] for i in range(12))
            pdf.drawString(56, 790 - 16 * line, f"{page + 1}.{line + 1} {words}".encode("latin-1", "replace")
                           .decode("latin-1"))
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def content(datas: list[bytes]) -> PackContent:
    def record(n: int) -> Record:
        return Record(id=RecordId(f"r{n}"), registry_number=f"00.4-{n}/2026", title=f"Gradivo {n}",
                      record_class="00.4", principal="", confidentiality=Confidentiality.INTERNAL,
                      document_date=None, filed_at=datetime(2026, 3, 1, tzinfo=timezone.utc), filed_by="anna",
                      original_name=f"g{n}.pdf", media_type="application/pdf", size=len(datas[n - 1]), sha256="")
    items = tuple(PackItem(n, f"Točka {n}", (PackMaterial(record(n), datas[n - 1]),)) for n in range(1, len(datas) + 1))
    meeting = Meeting(meeting_id="ab", body="uprava", seq=3, year=2026, day=date(2026, 3, 12), place="Ljubljana",
                      principal="", confidentiality=Confidentiality.INTERNAL, record_class="00.4",
                      participants=(Participant("Ana Žužek", "ana"),),
                      items=tuple(AgendaItem(str(n), f"Točka {n}") for n in range(len(datas))))
    return PackContent(meeting=meeting, body=DEFAULTS["SI"][0], recipient=meeting.participants[0],
                       day=date(2026, 3, 10), items=items)


class InProcess(SandboxedPackMaker):
    """The same PackBuilder the worker runs, in this process: the pack as the server made it before."""

    def make(self, parts: list[PackPart], stamp: Stamp, font: Path,  # type: ignore[override]
             compose: Callable[[Mapping[int, int], Mapping[int, str]], Front]) -> object:
        from indexer.extract.pack_sandbox import Joined
        builder = PackBuilder(font, stamp)
        pages = {i: builder.add(i, p.kind, p.heading, p.data) for i, p in enumerate(parts)}
        front = compose(pages, {})
        data, total = builder.build(front.pdf, list(front.bookmarks), front.title, lambda _i: None)
        return Joined(data=data, pages=total, left_out={})


def bare(datas: list[bytes]) -> int:
    writer = PdfWriter()
    for data in datas:
        writer.append(PdfReader(io.BytesIO(data)))
    out = io.BytesIO()
    writer.write(out)
    return len(writer.pages)


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def spread(values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    return (f"median {statistics.median(values) * scale:.2f} {unit}, spread {min(values) * scale:.2f}-"
            f"{max(values) * scale:.2f} {unit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--materials", type=int, default=5)
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()
    rounds = max(3, args.rounds)
    datas = [material(n, args.pages) for n in range(1, args.materials + 1)]
    pack = content(datas)
    words = PackWords.of("sl")
    sandboxed = shared_pack_maker(Settings())
    in_process = InProcess()
    made = render_pack(pack, words, sandboxed)  # warm: imports, fonts, the first worker's start
    assert not made.left_out and made.pages == 2 + args.materials * args.pages, made.pages
    assert bare(datas) == args.materials * args.pages
    print(f"{args.materials} materials x {args.pages} pages ({sum(map(len, datas)) / 2**20:.1f} MiB), pack of "
          f"{made.pages} pages ({len(made.data) / 2**20:.1f} MiB); font {FONT.name}")
    base, sandbox, inproc = [], [], []
    for n in range(1, rounds + 1):
        base.append(timed(lambda: bare(datas)))
        sandbox.append(timed(lambda: render_pack(pack, words, sandboxed)))
        inproc.append(timed(lambda: render_pack(pack, words, in_process)))
        print(f"round {n}: bare pypdf join {base[-1]:.3f} s, pack in the sandbox {sandbox[-1]:.3f} s "
              f"({sandbox[-1] / base[-1]:.1f}x), the same pack in-process {inproc[-1]:.3f} s")
    ratios = [s / b for s, b in zip(sandbox, base)]
    overhead = [s / i for s, i in zip(sandbox, inproc)]
    print(f"bare pypdf join (baseline): {spread(base)}")
    print(f"pack in the sandbox: {spread(sandbox)}")
    print(f"pack in-process: {spread(inproc)}")
    print(f"pack / bare join: median {statistics.median(ratios):.1f}x, spread {min(ratios):.1f}-{max(ratios):.1f}x "
          f"over {rounds} rounds")
    print(f"sandbox / in-process: median {statistics.median(overhead):.2f}x, spread {min(overhead):.2f}-"
          f"{max(overhead):.2f}x")


if __name__ == "__main__":
    main()
