"""whoosh-reloaded 2.7.5 regressions we patch or avoid: refresh, dedupe, column cache, fresh-compile import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.qparser import QueryParser

from indexer import whoosh_compat


def test_refresh_after_update_sees_one_copy() -> None:
    whoosh_compat.install()
    ix = RamStorage().create_index(Schema(id=ID(unique=True, stored=True)))
    with ix.writer() as w:
        for i in range(4):
            w.add_document(id=f"a{i}")
    searcher = ix.searcher()
    assert searcher.doc_count() == 4
    with ix.writer() as w:
        w.update_document(id="a0")
    searcher = searcher.refresh()  # stock 2.7.5 re-adds the old segment: 5 documents
    assert searcher.doc_count() == 4
    with ix.writer() as w:
        w.delete_by_term("id", "a1")
    searcher = searcher.refresh()
    assert searcher.doc_count() == 3
    assert [h["id"] for h in searcher.search(QueryParser("id", ix.schema).parse("a1"))] == []


def test_commit_checks_a_missing_length_column_once(tmp_path: Path) -> None:
    whoosh_compat.install()
    checked: list[str] = []

    class Counting(FileStorage):  # type: ignore[misc]
        def file_exists(self, name: str) -> bool:
            checked.append(name)
            return bool(super().file_exists(name))

    ix = Counting(str(tmp_path)).create_index(Schema(id=ID(unique=True, stored=True), body=TEXT))
    with ix.writer() as w:
        for i in range(50):
            w.add_document(id=f"a{i}", body=f"word{i} common")
    assert checked.count(next(n for n in checked if n.endswith("_id_len.col"))) == 1  # stock 2.7.5: 50
    with ix.searcher() as s:
        assert s.doc_count() == 50
        assert len(s.search(QueryParser("body", ix.schema).parse("common"), limit=None)) == 50


def test_date_parser_gets_a_naive_utc_basedate() -> None:
    plugin = whoosh_compat.date_parser_plugin()
    assert plugin.basedate.tzinfo is None


def test_import_with_warnings_as_errors_and_a_fresh_pycache(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(tmp_path / "pycache"))
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-W", "error", "-c", "import indexer.search, indexer.query"],
                          cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_posting_skips_land_where_stepping_lands() -> None:
    # skip_to bisects a posting block instead of stepping through it; across block boundaries,
    # past the last posting and onto the current posting it must agree with next() stepping.
    import random

    from whoosh.matching import ReadTooFar
    whoosh_compat.install()
    rng = random.Random(9)
    ix = RamStorage().create_index(Schema(body=TEXT))
    with ix.writer() as w:
        for i in range(2000):
            w.add_document(body="word" if rng.random() < 0.4 else "other")
    with ix.searcher() as s:
        reader = s.reader()
        truth = list(reader.postings("body", "word").all_ids())
        assert len(truth) > 3 * 128, "the case needs several posting blocks"
        for _ in range(40):
            m = reader.postings("body", "word")
            at = 0
            for target in sorted(rng.sample(range(2100), 12)):
                if not m.is_active():
                    break
                m.skip_to(target)
                while at < len(truth) and truth[at] < target:
                    at += 1
                if at == len(truth):
                    assert not m.is_active()
                else:
                    assert m.is_active() and m.id() == truth[at], target
        m = reader.postings("body", "word")
        m.skip_to(truth[-1] + 1)
        assert not m.is_active()
        try:
            m.skip_to(5)
        except ReadTooFar:
            pass
        else:
            raise AssertionError("skip_to past the end must raise ReadTooFar")
