"""Load bench of the search page: N records filed through the real use case, then C concurrent
signed-in clients searching for D seconds against waitress on loopback. Stops by itself.

    .venv/bin/python bench/web_load.py [--records 10000] [--clients 20] [--seconds 30]

Prints: filing time, p50/p95/max of GET /search, requests, errors, and the page weight of /search
(HTML + CSS + JS bytes). Uses test-only KDF parameters for the throwaway home (not a KDF bench).
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import CLASSES as CORPUS_CLASSES  # noqa: E402
from bench.corpus import PRINCIPALS, Vocabulary, queries, text_of  # noqa: E402
from records.filing import FilingRequest, Prepared  # noqa: E402
from records.model import Confidentiality, Role, User  # noqa: E402
from vault import KdfParams, hash_password  # noqa: E402
from records.ports import SealBatch  # noqa: E402
from web.app import create_app  # noqa: E402
from web.office import Office, create_home  # noqa: E402
from web.settings import Settings  # noqa: E402

PASSWORD = "bench-password-123"
CLASSES = ("03.1", "04.1", "00.2", "01.1", "02.1", "00.4")


def web_queries(count: int = 200) -> list[str]:
    """The bench queries with their class filters moved onto classes of the plan that `build` files into:
    the corpus's own codes (05.1, 07.1, ...) are not in the default plan, and the search page rightly
    refuses an unknown class (400) instead of finding nothing."""
    moved = {code: CLASSES[i % len(CLASSES)] for i, code in enumerate(CORPUS_CLASSES)}
    return [re.sub(r"class:(\S+)", lambda m: f"class:{moved.get(m.group(1), m.group(1))}", q)
            for q in queries(Vocabulary(), count)]


def build(home_dir: Path, n: int) -> float:
    # The sign-in limit is sealed at init (records.safeguards): the load's clients must not be throttled.
    office, _recovery = create_home(Settings(home=home_dir, login_attempts_per_minute=10_000), "bench passphrase",
                                    kdf=KdfParams.fast_for_tests())
    vocab = Vocabulary()
    ports = office.ports
    # No index while seeding: one reindex at the end builds it in worker processes on every core, several
    # times faster than feeding Whoosh one batch at a time (the catalogue is the truth either way).
    ports = replace(ports, index=None)
    now = datetime.now(timezone.utc)
    started = time.perf_counter()

    def one(i: int, blobs: SealBatch) -> Prepared:
        rng = random.Random(i)
        level = Confidentiality.SECRET if i % 2 else Confidentiality.INTERNAL  # half hidden from the viewer
        return office.prepare(text_of(vocab, i).encode("utf-8"), FilingRequest(
            original_name=f"doc-{i}.txt", record_class=CLASSES[i % len(CLASSES)],
            principal=PRINCIPALS[i % len(PRINCIPALS)], title=" ".join(vocab.sample(rng, 4)).capitalize(),
            confidentiality=level, actor="bench"), blobs)

    # The bulk import's group commit (one folder fsync, one catalogue transaction per 500): seeding 100k
    # records one commit each would take most of an hour.
    with ThreadPoolExecutor(max_workers=4) as pool:
        for first in range(0, n, 500):
            blobs = ports.blobs.batch()
            chunk = range(first, min(n, first + 500))
            office.commit(blobs, list(pool.map(lambda i: one(i, blobs), chunk)), ports=ports)
            if (first + len(chunk)) % 5000 == 0 or first + len(chunk) == n:
                print(f"  filed {first + len(chunk)}/{n} ({time.perf_counter() - started:.0f} s)", flush=True)
    office.reindex(actor="bench")
    print(f"  indexed {n} ({time.perf_counter() - started:.0f} s)", flush=True)
    with office.ports.catalog.transaction() as tx:
        for name, role, level in (("admin", Role.ADMIN, Confidentiality.SECRET),
                                  ("viewer", Role.VIEWER, Confidentiality.INTERNAL)):
            tx.put_user(User(name=name, role=role, clearance=level,
                             password_hash=hash_password(PASSWORD, test=True), created_at=now))
    office.close()
    return time.perf_counter() - started


class Client:
    def __init__(self, port: int, user: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        body = self.request("GET", "/login")[1]
        token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)  # type: ignore[union-attr]
        status, _ = self.request("POST", "/login", urlencode({"username": user, "password": PASSWORD,
                                                              "csrf_token": token}))
        assert status == 302, f"login failed: {status}"

    def request(self, method: str, path: str, form: str | None = None) -> tuple[int, str]:
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=form, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        # the sign-in sets two cookies (the session and the known device): keep the session's
        for cookie in response.msg.get_all("Set-Cookie") or ():
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value
        return response.status, data.decode("utf-8", "replace")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="strongroom-web-bench-"))
    try:
        home_dir = work / "home"
        print(f"filing {args.records} records...", flush=True)
        build_s = build(home_dir, args.records)
        print(f"filed {args.records} records in {build_s:.1f} s ({args.records / build_s:.0f}/s)")
        from waitress import create_server
        settings = Settings.load({"home": home_dir, "login_attempts_per_minute": 1000}, environ={})
        office = Office.open(settings, passphrase="bench passphrase")
        app = create_app(office, secret_key=b"bench-secret-key-0123456789abcdef")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = create_server(app, host="127.0.0.1", port=port, threads=8)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        qs = web_queries()
        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds

        def run(k: int) -> None:
            client = Client(port, "viewer" if k % 2 else "admin")
            rng = random.Random(k)
            mine: list[float] = []
            while time.monotonic() < deadline:
                path = "/search?" + urlencode({"q": rng.choice(qs)})
                t0 = time.perf_counter()
                try:
                    status, _ = client.request("GET", path)
                except (OSError, http.client.HTTPException):
                    status = 0
                    client = Client(port, "viewer" if k % 2 else "admin")
                mine.append(time.perf_counter() - t0)
                if status != 200:
                    with lock:
                        errors[0] += 1
            with lock:
                latencies.extend(mine)

        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            list(pool.map(run, range(args.clients)))
        probe = Client(port, "admin")
        html = probe.request("GET", "/search?" + urlencode({"q": qs[1]}))[1]
        css = probe.request("GET", "/static/strongroom.css")[1]
        js = probe.request("GET", "/static/strongroom.js")[1]
        server.close()
        office.close()
        ms = sorted(x * 1000 for x in latencies)
        p95 = ms[int(len(ms) * 0.95) - 1] if ms else float("nan")
        print(f"search page, {args.clients} clients, {args.seconds:.0f} s: {len(ms)} requests "
              f"({len(ms) / args.seconds:.0f}/s), p50 {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, "
              f"max {ms[-1]:.0f} ms, errors {errors[0]}")
        weight = [len(x.encode()) for x in (html, css, js)]
        print(f"page weight of /search: HTML {weight[0]} B + CSS {weight[1]} B + JS {weight[2]} B "
              f"= {sum(weight)} B")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
