"""The meeting-pack sandbox (indexer.extract.pack_sandbox): hostile materials are refused, or stop their own
worker and are left out with the reason, and the pack still comes out; no worker outlives its pack (but the one spare, ended by close())."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Mapping
from pathlib import Path

from make_corpus import flate_bomb_pdf, hostile_corpus, many_pages_pdf, simple_pdf
from pypdf import PdfReader

from indexer.extract.pack_pages import Bookmark, Sheet, Stamp
from indexer.extract.pack_sandbox import Front, PackPart, SandboxedPackMaker
from records.packs import LeftOut

FONT = Path(__file__).resolve().parents[3] / "web" / "fonts" / "DejaVuSans.ttf"
STAMP = Stamp(watermark="Zaupno — za: Ana Žužek, 12. marec 2026", page_label="Stran {n} od {total}")


class Cover:
    """A one-page front that records what the maker told it."""

    def __init__(self) -> None:
        self.pages: Mapping[int, int] = {}
        self.left_out: Mapping[int, str] = {}

    def __call__(self, pages: Mapping[int, int], left_out: Mapping[int, str]) -> Front:
        self.pages, self.left_out = pages, left_out
        doc = Sheet(FONT)
        doc.add_page()
        doc.line_of("Naslovnica")
        return Front(pdf=bytes(doc.output()), bookmarks=(Bookmark("Naslovnica", 0),), title="Uprava 1/2026")


def _pack_workers(besides: frozenset[int] = frozenset()) -> list[int]:
    """Our own children running the pack worker, but those in `besides` (another maker's, started before)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and b"pack_worker" in command and stat[0] != "Z" \
                and int(entry) not in besides:
            found.append(int(entry))
    return found


def _spare(maker: SandboxedPackMaker) -> int:
    """The spare worker the maker starts after a pack, once it has greeted."""
    deadline = time.monotonic() + 120
    while not maker.pids():
        assert time.monotonic() < deadline, "no spare worker"
        time.sleep(0.05)
    return maker.pids()[0]


def test_refused_materials_are_named_and_the_rest_is_stamped() -> None:
    before = frozenset(_pack_workers())
    corpus = hostile_corpus()
    parts = [PackPart("pdf", simple_pdf(["Letno porocilo"], pages=2)),
             PackPart("pdf", corpus["encrypted.pdf"]()),
             PackPart("pdf", corpus["flate-bomb.pdf"]()),  # 120 MB of content: past pypdf's limits
             PackPart("text", "Opomba: čšž õäöü\n".encode(), heading="00.4-4/2026  Opomba")]
    cover = Cover()
    with SandboxedPackMaker(timeout_s=30) as maker:
        joined = maker.make(parts, STAMP, FONT, cover)
        _spare(maker)
        again = maker.make(parts[:1], STAMP, FONT, Cover())  # on the spare worker
    assert again.pages == 3 and not again.left_out
    assert dict(joined.left_out) == {1: LeftOut.UNREADABLE, 2: LeftOut.LIMITS}
    assert dict(cover.pages) == {0: 2, 3: 1} and dict(cover.left_out) == dict(joined.left_out)
    reader = PdfReader(io.BytesIO(joined.data))
    assert joined.pages == len(reader.pages) == 4
    for n, page in enumerate(reader.pages, 1):
        assert "Zaupno — za: Ana Žužek" in page.extract_text() and f"Stran {n} od 4" in page.extract_text()
    assert "Opomba: čšž õäöü" in reader.pages[3].extract_text()
    assert reader.outline[0].title == "Naslovnica"
    assert not _pack_workers(before)


def test_a_material_that_overruns_its_time_is_left_out() -> None:
    before = frozenset(_pack_workers())
    parts = [PackPart("pdf", many_pages_pdf(12_000)),  # stamping alone takes some 20 s on an idle machine
             PackPart("pdf", simple_pdf(["Zapisnik"]))]
    cover = Cover()
    with SandboxedPackMaker(timeout_s=3) as maker:
        joined = maker.make(parts, STAMP, FONT, cover)
    assert dict(joined.left_out) == {0: LeftOut.TIMEOUT}
    assert dict(cover.pages) == {1: 1}
    assert joined.pages == len(PdfReader(io.BytesIO(joined.data)).pages) == 2
    assert not _pack_workers(before)


def test_a_material_that_exhausts_the_workers_memory_is_left_out() -> None:
    before = frozenset(_pack_workers())
    # 70 MB of content stays under pypdf's own caps (75 MB), so only the worker's memory limit stops it.
    parts = [PackPart("pdf", simple_pdf(["Gradivo"])), PackPart("pdf", flate_bomb_pdf(70))]
    with SandboxedPackMaker(timeout_s=30, memory_mb=150) as maker:
        joined = maker.make(parts, STAMP, FONT, Cover())
        spare = _spare(maker)
        assert _pack_workers(before) == [spare]  # the pack's own workers are gone
        # The spare waits with room for the largest upload; lowered to the pack's limit, the bomb fails again.
        again = maker.make(parts, STAMP, FONT, Cover())
        assert spare not in _pack_workers()  # it made this pack and ended with it
    assert dict(joined.left_out) == dict(again.left_out) == {1: LeftOut.MEMORY}
    assert joined.pages == 2
    assert not _pack_workers(before)
