"""Does web search scale with clients? requests/s at 5 clients against requests/s at 1 client, same run.

    .venv/bin/python bench/web_search_scaling.py [--records 2000] [--seconds 8] [--rounds 3]
        [--saturate 20] [--in-process] [--home DIR]

Files N records through the real use case (bench/web_load.py's home: half the records hidden from
the viewer), serves the real app with waitress on loopback, then per round runs 1 and 5 signed-in
clients searching back to back (the 200 bench queries) for S seconds each. The clients run in
their own processes, so they do not take the server's interpreter lock. Prints per round the
requests/s and p95 of each level and their ratio, then the ratio's median and spread (min-max);
`--saturate C` adds one round of C clients (errors, p95). `--in-process` searches in the server's
process as before the search pool (the baseline). Test-only KDF parameters (not a KDF bench).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.web_load import web_queries  # noqa: E402


def _clients(conn: Connection, port: int, qs: list[str]) -> None:
    """A client process: on ("run", sessions, seconds) it runs that many signed-in sessions in
    threads, each searching back to back, and answers with their (latency, status) pairs."""
    from bench.web_load import Client
    while True:
        message = conn.recv()
        if message[0] != "run":
            return
        _, sessions, seconds, start_at = message
        out: list[tuple[float, int]] = []
        lock = threading.Lock()

        def one(k: int) -> None:
            import http.client
            client = Client(port, "viewer" if k % 2 else "admin")
            rng = random.Random(k * 7919 + int(start_at))
            mine: list[tuple[float, int]] = []
            time.sleep(max(0.0, start_at - time.time()))
            deadline = start_at + seconds
            while time.time() < deadline:
                t0 = time.perf_counter()
                try:
                    status, _ = client.request("GET", "/search?" + urlencode({"q": rng.choice(qs)}))
                except (OSError, http.client.HTTPException):
                    status = 0
                    client = Client(port, "viewer" if k % 2 else "admin")
                mine.append((time.perf_counter() - t0, status))
            with lock:
                out.extend(mine)
        threads = [threading.Thread(target=one, args=(k,)) for k in range(sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        conn.send(out)


class Load:
    """Client processes, one per concurrent client up to `procs`, more sessions each beyond it."""

    def __init__(self, port: int, qs: list[str], procs: int = 5) -> None:
        context = multiprocessing.get_context("spawn")
        self.conns: list[Connection] = []
        self.procs = []
        for _ in range(procs):
            parent, child = context.Pipe()
            p = context.Process(target=_clients, args=(child, port, qs), daemon=True)
            p.start()
            self.conns.append(parent)
            self.procs.append(p)

    def run(self, clients: int, seconds: float) -> tuple[float, float, int, int]:
        """(requests/s, p95 ms, requests, errors) of `clients` concurrent clients for `seconds`."""
        start_at = time.time() + 1.0  # every session signed in before the clock starts
        share = [clients // len(self.conns) + (1 if i < clients % len(self.conns) else 0)
                 for i in range(len(self.conns))]
        used = [(c, n) for c, n in zip(self.conns, share) if n]
        for conn, n in used:
            conn.send(("run", n, seconds, start_at))
        pairs = [p for conn, _ in used for p in conn.recv()]
        ms = sorted(lat * 1000 for lat, _ in pairs)
        errors = sum(1 for _, status in pairs if status != 200)
        p95 = ms[max(0, int(len(ms) * 0.95) - 1)] if ms else float("nan")
        return len(ms) / seconds, p95, len(ms), errors

    def close(self) -> None:
        for conn in self.conns:
            conn.send(("stop",))
        for p in self.procs:
            p.join(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--saturate", type=int, default=0, help="one more round with this many clients")
    parser.add_argument("--in-process", action="store_true", help="no search pool (the old baseline)")
    parser.add_argument("--home", type=Path, help="seed the home here once and reuse it (web_mix.py's --home)")
    args = parser.parse_args()
    from waitress import create_server

    from bench.web_load import build
    from web.app import create_app
    from web.office import Office
    from web.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="strongroom-scaling-bench-"))
    try:
        home_dir = args.home or work / "home"
        if not (home_dir / "catalog.db").exists():
            print(f"filing {args.records} records...", flush=True)
            build(home_dir, args.records)
        settings = Settings.load({"home": home_dir, "login_attempts_per_minute": 1000}, environ={})
        office = Office.open(settings, passphrase="bench passphrase")
        if args.in_process:
            office.search_ports = lambda: office.ports  # type: ignore[method-assign]
        else:
            pool_ports = office.search_ports()
            pool = pool_ports.index.pool  # type: ignore[union-attr]
            while pool.ready < pool.size:
                time.sleep(0.1)
        app = create_app(office, secret_key=b"bench-secret-key-0123456789abcdef")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = create_server(app, host="127.0.0.1", port=port, threads=8)
        threading.Thread(target=server.run, daemon=True).start()
        load = Load(port, web_queries())
        mode = "in-process (no pool)" if args.in_process else "search pool"
        load.run(5, 2.0)  # warm: segment caches, templates, every worker's searcher
        ratios: list[float] = []
        records = len(office.ports.catalog.find())
        print(f"web search scaling, {mode}, {records} records, {args.seconds:.0f} s per level")
        for r in range(1, args.rounds + 1):
            one = load.run(1, args.seconds)
            five = load.run(5, args.seconds)
            ratios.append(five[0] / one[0])
            print(f"  round {r}: 1 client {one[0]:.1f} req/s (p95 {one[1]:.0f} ms, errors {one[3]}); "
                  f"5 clients {five[0]:.1f} req/s (p95 {five[1]:.0f} ms, errors {five[3]}); "
                  f"ratio {ratios[-1]:.2f}", flush=True)
        print(f"requests/s at 5 clients / at 1 client: median {statistics.median(ratios):.2f} "
              f"(spread {min(ratios):.2f}-{max(ratios):.2f}, {len(ratios)} rounds)")
        if args.saturate:
            rps, p95, n, errors = load.run(args.saturate, args.seconds)
            print(f"saturation, {args.saturate} clients: {rps:.1f} req/s, p95 {p95:.0f} ms, "
                  f"{n} requests, errors {errors}")
        load.close()
        server.close()
        office.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
