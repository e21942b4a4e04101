"""Search bench: sealed vs plain Whoosh storage on a synthetic corpus (not part of the test suite).

    .venv/bin/python bench/search.py            # 100,000 records (builds each index once; minutes)
    .venv/bin/python bench/search.py --n 20000  # quicker

Each phase runs in its own process so peak RSS is per phase. Prints one JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from whoosh.filedb.filestore import FileStorage  # noqa: E402

from bench.corpus import PRINCIPALS, Vocabulary, corpus, queries, text_of  # noqa: E402
from indexer import generations  # noqa: E402
from indexer import search as search_module  # noqa: E402
from records.access import AccessScope  # noqa: E402
from records.model import Confidentiality, RecordId, Role  # noqa: E402
from records.ports import SearchRequest  # noqa: E402

KEY = bytes(range(32))


class PlainStorage(FileStorage):
    """Stock FileStorage with the two maintenance calls the index makes (for the comparison only)."""

    def __init__(self, path: str | Path, key: bytes, **_: Any) -> None:
        super().__init__(str(path))

    def remove_leftovers(self) -> list[str]:
        return []

    def leftover_files(self) -> list[str]:
        return []


def _use(storage: str) -> None:
    if storage == "plain":
        generations.SealedStorage = PlainStorage  # type: ignore[misc,assignment]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(root: Path, n: int) -> dict[str, Any]:
    vocab = Vocabulary()
    t0 = time.perf_counter()
    count = search_module.rebuild(root, KEY, corpus(vocab, n), batch=10_000)
    seconds = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    return {"docs": count, "seconds": round(seconds, 1), "docs_per_s": round(count / seconds),
            "bytes": size, "peak_rss_mb": round(_peak_mb())}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def query(root: Path, count: int) -> dict[str, Any]:
    vocab = Vocabulary()
    t0 = time.perf_counter()
    index = search_module.open_index(root, KEY)
    open_ms = (time.perf_counter() - t0) * 1000
    qs = queries(vocab, count)
    admin = AccessScope.system()
    viewer = AccessScope(actor="half", role=Role.VIEWER, clearance=Confidentiality.SECRET,
                         principals=frozenset(PRINCIPALS[:3]))

    def source(rid: RecordId) -> str:
        return text_of(vocab, int(rid[1:]))
    out: dict[str, Any] = {"open_ms": round(open_ms, 1)}
    for name, scope in (("admin", admin), ("viewer", viewer)):
        index.search(SearchRequest(qs[0]), scope, source)  # warm the scope filter
        times, totals = [], []
        for q in qs:
            t = time.perf_counter()
            result = index.search(SearchRequest(q, page_len=10), scope, source)
            times.append((time.perf_counter() - t) * 1000)
            totals.append(result.total)
        out[name] = {"p50_ms": _pct(times, 0.5), "p95_ms": _pct(times, 0.95), "max_ms": round(max(times), 1),
                     "mean_ms": round(statistics.mean(times), 1), "hits_total": sum(totals)}
    out["peak_rss_mb"] = round(_peak_mb())
    return out


def _phase(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=None, help="Work folder (default: a temp folder, removed).")
    parser.add_argument("--phase", choices=["build", "query"])
    parser.add_argument("--storage", choices=["sealed", "plain"], default="sealed")
    args = parser.parse_args()
    if args.phase:
        _use(args.storage)
        root = args.dir / args.storage
        print(json.dumps(build(root, args.n) if args.phase == "build" else query(root, args.queries)))
        return
    work = args.dir or Path(tempfile.mkdtemp(prefix="strongroom-bench-"))
    summary: dict[str, Any] = {"n": args.n, "queries": args.queries}
    try:
        for storage in ("sealed", "plain"):
            common = ["--dir", str(work), "--n", str(args.n), "--queries", str(args.queries), "--storage", storage]
            summary[storage] = {"build": _phase(["--phase", "build", *common]),
                                "query": _phase(["--phase", "query", *common])}
            print(json.dumps({storage: summary[storage]}), file=sys.stderr, flush=True)
        s, p = summary["sealed"], summary["plain"]
        summary["ratios"] = {
            "index_time_sealed_over_plain": round(s["build"]["seconds"] / p["build"]["seconds"], 2),
            "admin_p50_sealed_over_plain": round(s["query"]["admin"]["p50_ms"] / p["query"]["admin"]["p50_ms"], 2),
            "admin_p95_sealed_over_plain": round(s["query"]["admin"]["p95_ms"] / p["query"]["admin"]["p95_ms"], 2),
        }
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
