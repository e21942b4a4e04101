"""Hostile and odd files through the real sandbox: each gets an outcome in time and the pool survives."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from make_corpus import hostile_corpus, write_corpus

from indexer.extract.sandbox import SandboxedExtractor
from records.errors import ExtractionFailed
from records.ports import Extraction

# original name -> ("ok", expected note fragment) or ("fail", expected reason fragment)
EXPECTED = {
    "truncated.pdf": ("fail", "the PDF is damaged"),
    "encrypted.pdf": ("ok", "no text: the PDF is password-protected"),
    "many-pages.pdf": ("ok", "text read from the first 2000 of 3000 pages"),
    "flate-bomb.pdf": ("any", ""),
    "huge-array.pdf": ("fail", "safety limits"),
    "deep-page-tree.pdf": ("fail", "safety limits"),
    "ratio-bomb.docx": ("fail", "zip bomb"),
    "lying-sizes.docx": ("fail", ""),
    "declared-bomb.docx": ("fail", "more than 200 MB"),
    "many-entries.docx": ("fail", "more than 1000 packed parts"),
    "traversal.docx": ("fail", "unsafe path"),
    "symlink.docx": ("fail", "symbolic link"),
    "billion-laughs.docx": ("fail", "XML declarations"),
    "external-entity.docx": ("fail", "XML declarations"),
    "nested-100.eml": ("fail", "more than 10 levels deep"),
    "attachments-80.eml": ("fail", "more than 50 attachments"),
    "pdf-named.docx": ("ok", "the file is a PDF although its name ends in .docx"),
    "html-named.pdf": ("fail", "not a PDF"),
    "random.bin": ("ok", "no text: file type not supported"),
    "random.pdf": ("fail", "not a PDF"),
    "empty.txt": ("ok", "no text: the file is empty"),
    "nul-bytes.txt": ("ok", "no text: file type not supported"),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_corpus(tmp_path_factory.mktemp("hostile"))


def _outcome(extractor: SandboxedExtractor, path: Path, name: str) -> Extraction | ExtractionFailed:
    try:
        return extractor.extract(str(path), name)
    except ExtractionFailed as failed:
        return failed


@pytest.mark.parametrize("name", list(hostile_corpus()))
def test_every_hostile_file_gets_an_outcome_in_time(extractor: SandboxedExtractor, corpus: dict[str, Path],
                                                     name: str) -> None:
    started = time.monotonic()
    outcome = _outcome(extractor, corpus[name], name)
    assert time.monotonic() - started < extractor.timeout_s + 5
    kind, fragment = EXPECTED.get(name, ("ok", ""))
    if kind == "fail":
        assert isinstance(outcome, ExtractionFailed), outcome
        assert fragment in str(outcome)
        message = str(outcome)
        assert "\n" not in message and message.endswith(".") and len(message) < 200
    elif kind == "ok":
        assert isinstance(outcome, Extraction), outcome
        assert fragment in outcome.note
    assert extractor.extract_bytes(b"still alive", "ping.txt").text == "still alive"


def test_flate_bomb_pdf_is_flagged_not_silently_empty(extractor: SandboxedExtractor,
                                                      corpus: dict[str, Path]) -> None:
    outcome = _outcome(extractor, corpus["flate-bomb.pdf"], "flate-bomb.pdf")
    if isinstance(outcome, Extraction):
        assert outcome.text == "" and outcome.note.startswith("no text extracted (scanned?)")


def test_external_entity_never_leaks_local_files(extractor: SandboxedExtractor, corpus: dict[str, Path]) -> None:
    outcome = _outcome(extractor, corpus["external-entity.docx"], "x.docx")
    assert "root:" not in str(outcome)


def test_unicode_and_very_long_names(extractor: SandboxedExtractor, corpus: dict[str, Path]) -> None:
    name = next(n for n in hostile_corpus() if n.startswith("č"))
    result = extractor.extract(str(corpus[name]), name)
    assert "Long unicode name" in result.text
    # A 255-byte Unicode name on disk, read directly.
    path = corpus[name].parent / ("ž" * 120 + ".txt")
    path.write_text("Šentjur in Võru", encoding="utf-8")
    assert extractor.extract(str(path), path.name).text == "Šentjur in Võru"


def test_too_large_input_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * (2 * 1024 * 1024 + 1))
    with SandboxedExtractor(workers=1, max_input_mb=2) as pool:
        with pytest.raises(ExtractionFailed, match="larger than 2 MB"):
            pool.extract(str(path), "big.txt")
        assert pool.pids() == []  # refused in the parent: no worker was needed


def test_the_hostile_corpus_takes_seconds_not_minutes(extractor: SandboxedExtractor,
                                                      corpus: dict[str, Path]) -> None:
    started = time.monotonic()
    outcomes = [_outcome(extractor, path, name) for name, path in corpus.items()]
    elapsed = time.monotonic() - started
    assert len(outcomes) == len(corpus)
    assert elapsed < 20, f"hostile corpus took {elapsed:.1f} s"
