"""Search bench: sealed vs plain Whoosh storage on a synthetic corpus (not part of the test suite).

    .venv/bin/python bench/search.py            # 100,000 records (builds each index once; minutes)
    .venv/bin/python bench/search.py --n 20000  # quicker

Against an older commit, in the same run (a copy of its files runs the same phases):

    # index build, docs/s and peak RSS (the whole process tree), new / old, per round
    .venv/bin/python bench/search.py --baseline 5840022 --what build --n 20000 --rounds 3
    # query p50 / p95, each side on an index its own code built (once into --dir/new and
    # --dir/old, then reused), new / old
    .venv/bin/python bench/search.py --baseline 5840022 --what query --n 100000 --dir /tmp/bench100k --rounds 3

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

# --baseline runs this script's phases on an older commit's code: STRONGROOM_BENCH_CODE names its files
sys.path.insert(0, os.environ.get("STRONGROOM_BENCH_CODE") or str(Path(__file__).resolve().parents[1]))

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


def build(root: Path, n: int, batch: int) -> dict[str, Any]:
    vocab = Vocabulary()
    t0 = time.perf_counter()
    count = search_module.rebuild(root, KEY, corpus(vocab, n), batch=batch)
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
        times, cpu, totals = [], [], []
        for q in qs:
            t, c = time.perf_counter(), time.thread_time()
            result = index.search(SearchRequest(q, page_len=10), scope, source)
            cpu.append((time.thread_time() - c) * 1000)  # the search's own CPU: what a busy machine moves least
            times.append((time.perf_counter() - t) * 1000)
            totals.append(result.total)
        out[name] = {"p50_ms": _pct(times, 0.5), "p95_ms": _pct(times, 0.95), "max_ms": round(max(times), 1),
                     "mean_ms": round(statistics.mean(times), 1), "cpu_p50_ms": _pct(cpu, 0.5),
                     "cpu_p95_ms": _pct(cpu, 0.95), "hits_total": sum(totals)}
    out["peak_rss_mb"] = round(_peak_mb())
    return out


def _phase(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of `pid` and all its descendants (a parallel build's workers count too)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def _sampled_phase(code: Path | None, args: list[str]) -> dict[str, Any]:
    """A phase of this script in its own process, on the baseline's code when `code` names it;
    the process tree's peak RSS sampled every 50 ms."""
    env = dict(os.environ, STRONGROOM_BENCH_CODE=str(code)) if code else None
    proc = subprocess.Popen([sys.executable, __file__, *args], cwd=code or Path(__file__).resolve().parents[1],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.05)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(err)
    result = dict(json.loads(out.strip().splitlines()[-1]))
    result["tree_peak_rss_mb"] = round(peak / 1024)
    return result


def _baseline_tree(rev: str, work: Path) -> Path:
    """The files of commit `rev` (git archive: the repository's worktree list is left alone)."""
    tree = Path(tempfile.mkdtemp(prefix=f"baseline-{rev}-", dir=work))
    archive = subprocess.run(["git", "archive", rev], check=True, capture_output=True,
                             cwd=Path(__file__).resolve().parents[1]).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2), "max": round(max(values), 2)}


def compare(args: argparse.Namespace) -> dict[str, Any]:
    """Rounds of old-then-new (alternating which goes first), each phase in its own process."""
    work = args.dir or Path(tempfile.mkdtemp(prefix="strongroom-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    old_tree = _baseline_tree(args.baseline, Path(tempfile.gettempdir()))
    code: dict[str, Path | None] = {"old": old_tree, "new": None}
    common = ["--n", str(args.n), "--queries", str(args.queries), "--storage", "sealed", "--batch", str(args.batch)]
    rounds: list[dict[str, Any]] = []
    try:
        if args.what == "query":
            # each side queries an index its own code built (the posting format changed with
            # indexer/codec.py: older code cannot read the new one); built once, then reused
            for which in ("new", "old"):
                if not (work / which / "sealed").exists():
                    built = _sampled_phase(code[which], ["--phase", "build", "--dir", str(work / which), *common])
                    print(json.dumps({"built": which, **built}), file=sys.stderr, flush=True)
        for r in range(args.rounds):
            row: dict[str, Any] = {}
            for which in (("old", "new") if r % 2 == 0 else ("new", "old")):
                if args.what == "build":
                    folder = work / f"build-{which}"
                    row[which] = _sampled_phase(code[which], ["--phase", "build", "--dir", str(folder), *common])
                    shutil.rmtree(folder, ignore_errors=True)
                else:
                    row[which] = _sampled_phase(code[which], ["--phase", "query", "--dir", str(work / which), *common])
            print(json.dumps({"round": r + 1, **row}), file=sys.stderr, flush=True)
            rounds.append(row)
    finally:
        shutil.rmtree(old_tree, ignore_errors=True)
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    summary: dict[str, Any] = {"n": args.n, "what": args.what, "baseline": args.baseline, "rounds": rounds}
    if args.what == "build":
        for which in ("old", "new"):
            summary[which] = {"docs_per_s": _spread([r[which]["docs_per_s"] for r in rounds]),
                              "tree_peak_rss_mb": _spread([r[which]["tree_peak_rss_mb"] for r in rounds])}
        summary["docs_per_s_new_over_old"] = _spread([r["new"]["docs_per_s"] / r["old"]["docs_per_s"] for r in rounds])
    else:
        for scope in ("admin", "viewer"):
            for figure in ("p50_ms", "p95_ms", "cpu_p50_ms", "cpu_p95_ms"):
                for which in ("old", "new"):
                    summary.setdefault(which, {})[f"{scope}_{figure}"] = _spread([r[which][scope][figure] for r in rounds])
                summary[f"{scope}_{figure}_new_over_old"] = _spread(
                    [r["new"][scope][figure] / r["old"][scope][figure] for r in rounds])
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=None, help="Work folder (default: a temp folder, removed).")
    parser.add_argument("--phase", choices=["build", "query"])
    parser.add_argument("--storage", choices=["sealed", "plain"], default="sealed")
    parser.add_argument("--batch", type=int, default=10_000,
                        help="Documents per commit (old code) or per worker segment (new code).")
    parser.add_argument("--baseline", help="A commit to compare against in the same run (new / old ratios).")
    parser.add_argument("--what", choices=["build", "query"], default="query", help="With --baseline.")
    parser.add_argument("--rounds", type=int, default=3, help="With --baseline.")
    args = parser.parse_args()
    if args.baseline and not args.phase:
        print(json.dumps(compare(args), indent=2))
        return
    if args.phase:
        _use(args.storage)
        root = args.dir / args.storage
        print(json.dumps(build(root, args.n, args.batch) if args.phase == "build" else query(root, args.queries)))
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
