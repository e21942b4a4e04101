"""Mixed web load: C signed-in clients search, view, preview, download and upload for S seconds against
`strongroom serve` (its own process, waitress, loopback), then every acknowledged upload is looked up.

    .venv/bin/python bench/web_mix.py [--clients 20] [--seconds 60] [--records 1000] [--think 0] [--no-watch]

The home is fresh in a temp dir, seeded through file_document with web_load's test-only KDF (not a KDF
bench); the server is `strongroom --home H serve --port P`, drop-folder watcher on unless --no-watch.
Even clients sign in as admin (they also upload: small text files and PDFs, each with a unique word),
odd clients as viewer. With --think T each client pauses 0..2T s between requests, and before its
first, so the clients do not all start in the same instant (people, not a saturation test; the
default 0 saturates the server). Every response must be 200 (302 only for the sign-in); an upload that answered
"filed" must afterwards be findable by its word on /search and be in the catalogue with the same SHA-256.
One search before the load waits for the server's search workers to warm up; it is timed apart
(`first_search_s`), and the summary's `windows` give p50/p95 per 10 s of the load.
Prints a JSON summary and one line; exits 1 on any error response, lost upload, server traceback or
a server that does not stop cleanly on SIGTERM.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus import Vocabulary  # noqa: E402
from bench.web_load import CLASSES, Client, build, web_queries  # noqa: E402
from records.model import RecordId  # noqa: E402
from web.office import Office  # noqa: E402
from web.unlock import write_secret_key  # noqa: E402
from web.settings import Settings  # noqa: E402

PASSPHRASE = "bench passphrase"  # web_load.build's
WINDOW_S = 10.0
KINDS = ("search", "view", "preview", "download", "upload")
# per admin client; viewers drop "upload"
WEIGHTS = {"search": 40, "view": 20, "preview": 10, "download": 10, "upload": 20}
FILTERS = ("class:03.1", "class:04.1", 'principal:"Acme d.o.o."', "year:2026", "confidentiality:internal")
_RECORD_LINK = re.compile(r'href="/records/([0-9a-f]{32})"')
_RESULT_ROW = re.compile(r'<tr class="(filed|duplicate|rejected)">(.*?)</tr>', re.S)
_FRESH = random.Random()
_ALERT = re.compile(r'role="alert">(.*?)</p>', re.S)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(slots=True)
class Upload:
    record_id: str
    word: str
    sha256: str


@dataclass(slots=True)
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    timeline: list[tuple[float, str, float]] = field(default_factory=list)  # (started, kind, seconds)
    errors: list[dict[str, object]] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, kind: str, status: int, detail: str) -> None:
        said = _ALERT.search(detail)  # an error page's one sentence, not its header
        detail = said.group(1) if said else detail
        with self.lock:
            self.errors.append({"kind": kind, "status": status, "detail": detail[:300]})


class MixClient(Client):
    """web_load's signed-in client plus raw bytes and multipart uploads on the same connection."""

    def __init__(self, port: int, user: str) -> None:
        self.port, self.user = port, user
        super().__init__(port, user)
        self.csrf = ""

    def raw(self, method: str, path: str, body: bytes | None = None,
            content_type: str | None = None) -> tuple[int, bytes]:
        headers = {"Host": "127.0.0.1", "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if content_type:
            headers["Content-Type"] = content_type
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        for cookie in response.msg.get_all("Set-Cookie") or ():  # web_load.Client's cookie jar
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value
        return response.status, data

    def upload(self, name: str, content: bytes, fields: dict[str, str]) -> tuple[int, str]:
        if not self.csrf:
            status, page = self.raw("GET", "/upload")
            found = _CSRF.search(page.decode("utf-8", "replace"))
            if status != 200 or found is None:
                return status, page.decode("utf-8", "replace")
            self.csrf = found.group(1)
        boundary = "----strongroom" + os.urandom(12).hex()
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in {"csrf_token": self.csrf, **fields}.items()]
        media = "application/pdf" if name.endswith(".pdf") else "text/plain"
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                     f"Content-Type: {media}\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        status, page = self.raw("POST", "/upload", body, f"multipart/form-data; boundary={boundary}")
        return status, page.decode("utf-8", "replace")


def canary(rng: random.Random) -> str:
    # q, w, x, y are not in the corpus alphabet, so the word exists only in this upload
    return "qx" + "".join(rng.choice("abcdefghijklmnoprstuvz") for _ in range(10)) + "q"


def document(word: str, n: int, rng: random.Random, vocab: Vocabulary) -> tuple[str, bytes]:
    text = " ".join(vocab.sample(rng, 60)) + f" {word} " + " ".join(vocab.sample(rng, 60))
    if n % 2:
        return f"upload-{word}.txt", text.encode("utf-8")
    from reportlab.pdfgen import canvas
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    words = text.split()
    for line in range(0, len(words), 10):
        pdf.drawString(40, 800 - 14 * (line // 10), " ".join(words[line:line + 10]))
    pdf.showPage()
    pdf.save()
    return f"upload-{word}.pdf", buffer.getvalue()


def client_loop(k: int, port: int, deadline: float, tally: Tally, qs: list[str], think: float) -> None:
    try:
        _client_loop(k, port, deadline, tally, qs, think)
    except Exception as exc:  # a bench bug must fail the run, not shrink it to the clients that survived
        tally.error("client", -1, f"client {k} stopped: {type(exc).__name__}: {exc}")


def _client_loop(k: int, port: int, deadline: float, tally: Tally, qs: list[str], think: float) -> None:
    admin = k % 2 == 0
    client = MixClient(port, "admin" if admin else "viewer")
    rng = random.Random(1000 + k)
    vocab = Vocabulary()
    kinds = [kind for kind in KINDS if admin or kind != "upload"]
    weights = [WEIGHTS[kind] for kind in kinds]
    seen: list[str] = []
    mine: dict[str, tuple[bytes, str]] = {}  # record id -> (content, word)
    n = 0
    if think:
        # people arrive at random moments, not all in the same millisecond: each client starts at a
        # random point of its think cycle (20 first searches at once measured a burst, not people)
        time.sleep(rng.uniform(0, 2 * think))
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0] if seen else "search"
        n += 1
        t0 = time.perf_counter()
        try:
            status, detail = step(kind, client, rng, vocab, seen, mine, qs, tally, k, n)
        except (OSError, http.client.HTTPException) as exc:
            status, detail = 0, f"{type(exc).__name__}: {exc}"
            client = MixClient(port, client.user)
        elapsed = time.perf_counter() - t0
        with tally.lock:
            tally.latencies[kind].append(elapsed)
            tally.timeline.append((time.monotonic() - elapsed, kind, elapsed))
        if status != 200:
            tally.error(kind, status, detail)
        if think:
            time.sleep(min(rng.uniform(0, 2 * think), max(0.0, deadline - time.monotonic())))


def step(kind: str, client: MixClient, rng: random.Random, vocab: Vocabulary, seen: list[str],
         mine: dict[str, tuple[bytes, str]], qs: list[str], tally: Tally, k: int, n: int) -> tuple[int, str]:
    if kind == "search":
        with tally.lock:
            recent = [u.word for u in tally.uploads[-20:]]
        pick = rng.random()
        if pick < 0.15 and recent:
            q = rng.choice(recent)  # another client's fresh upload: read-your-writes across clients
        elif pick < 0.4:
            q = f"{rng.choice(qs)} {rng.choice(FILTERS)}"
        else:
            q = rng.choice(qs)
        params = {"q": q, **({"sort": "-date"} if rng.random() < 0.2 else {}),
                  **({"page": "2"} if rng.random() < 0.1 else {})}
        status, page = client.raw("GET", "/search?" + urlencode(params))
        text = page.decode("utf-8", "replace")
        for rid in _RECORD_LINK.findall(text):
            if rid not in seen:
                seen.append(rid)
        del seen[:-200]
        return status, text
    if kind == "upload":
        word = canary(_FRESH)  # unseeded: a reused --home must not see last run's uploads as duplicates
        name, content = document(word, n, rng, vocab)
        fields = {"record_class": rng.choice(CLASSES), "title": f"Bench upload {k}-{n}",
                  "principal": "Acme d.o.o.", "confidentiality": rng.choice(("", "internal", "secret"))}
        status, text = client.upload(name, content, fields)
        if status != 200:
            return status, text
        row = _RESULT_ROW.search(text)
        link = _RECORD_LINK.search(row.group(2)) if row else None
        if row is None or row.group(1) != "filed" or link is None:
            return -1, f"upload not filed: {row.group(0) if row else text[:300]}"
        rid = link.group(1)
        mine[rid] = (content, word)
        seen.append(rid)
        with tally.lock:
            tally.uploads.append(Upload(rid, word, hashlib.sha256(content).hexdigest()))
        return status, ""
    own = kind == "download" and mine and rng.random() < 0.5
    rid = rng.choice(list(mine)) if own else rng.choice(seen)
    suffix = {"view": "", "preview": "/preview", "download": "/download"}[kind]
    status, body = client.raw("GET", f"/records/{rid}{suffix}")
    if status == 200 and own and body != mine[rid][0]:
        return -2, f"download of {rid} differs from what was uploaded"
    return status, body[:300].decode("utf-8", "replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home_dir: Path, port: int, watch: bool, log: Path) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("strongroom")
    command = [str(exe), "--home", str(home_dir), "serve", "--port", str(port), *([] if watch else ["--no-watch"])]
    env = {**os.environ, "STRONGROOM_PASSPHRASE": PASSPHRASE}
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server ended at start:\n{log.read_text()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server did not listen within 60 s:\n{log.read_text()}")


def first_search(port: int) -> float:
    """One search before the load: it waits for the search workers `serve` started to warm up
    (open and read the index). Timed and reported apart: the load measures a server in use."""
    t0 = time.perf_counter()
    status, _ = MixClient(port, "admin").raw("GET", "/search?" + urlencode({"q": "pogodba"}))
    if status != 200:
        raise SystemExit(f"the first search answered {status}")
    return time.perf_counter() - t0


def lost_uploads(port: int, uploads: list[Upload]) -> list[dict[str, str]]:
    """Every acknowledged upload, found by its word on /search (admin sees every level)."""
    client = MixClient(port, "admin")
    lost = []
    for u in uploads:
        status, page = client.raw("GET", "/search?" + urlencode({"q": u.word}))
        if status != 200 or f'href="/records/{u.record_id}"' not in page.decode("utf-8", "replace"):
            lost.append({"record_id": u.record_id, "word": u.word, "why": f"not found by search ({status})"})
    return lost


def missing_in_catalogue(home_dir: Path, uploads: list[Upload]) -> tuple[list[dict[str, str]], int]:
    from records.errors import RecordNotFound
    lost = []
    with Office.open(Settings(home=home_dir), passphrase=PASSPHRASE) as office:
        for u in uploads:
            try:
                record = office.ports.catalog.get(RecordId(u.record_id))
            except RecordNotFound:
                lost.append({"record_id": u.record_id, "word": u.word, "why": "not in the catalogue"})
                continue
            if record.sha256 != u.sha256:
                lost.append({"record_id": u.record_id, "word": u.word, "why": "catalogue SHA-256 differs"})
        total = len(office.ports.catalog.find())
    return lost, total


def record_count(home_dir: Path) -> int:
    with Office.open(Settings(home=home_dir), passphrase=PASSPHRASE) as office:
        return len(office.ports.catalog.find())


def percentiles(values: list[float]) -> dict[str, float]:
    ms = sorted(x * 1000 for x in values)
    if not ms:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "max_ms": 0.0}
    return {"p50_ms": round(ms[len(ms) // 2], 1), "p95_ms": round(ms[max(0, int(len(ms) * 0.95) - 1)], 1),
            "max_ms": round(ms[-1], 1)}


def windows(timeline: list[tuple[float, str, float]], started: float, width: float) -> list[dict[str, float]]:
    """p50/p95 of the requests started in each `width`-second window: a slow start (workers still
    opening the index) shows apart from the steady state."""
    spans: dict[int, list[float]] = defaultdict(list)
    for at, _kind, seconds in timeline:
        spans[int((at - started) // width)].append(seconds)
    return [{"from_s": k * width, "requests": len(v), **percentiles(v)} for k, v in sorted(spans.items())]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--records", type=int, default=1000, help="records filed before the load")
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between a client's requests (s)")
    parser.add_argument("--no-watch", action="store_true", help="serve without the drop-folder watcher")
    parser.add_argument("--keep", action="store_true", help="keep the temp home and server log")
    parser.add_argument("--home", type=Path, help="seed the home here once and reuse it on later runs (a 100k "
                                                  "home takes many minutes to seed); it is kept")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="strongroom-web-mix-"))
    server = None
    try:
        home_dir = args.home or work / "home"
        build_s = 0.0
        if not (home_dir / "catalog.db").exists():
            build_s = build(home_dir, args.records)
        seeded = record_count(home_dir)
        settings = Settings.load({"home": home_dir, "login_attempts_per_minute": 10_000}, environ={})
        settings.settings_file.write_text(settings.toml_text(), encoding="utf-8")
        write_secret_key(settings)
        port, log = free_port(), work / "server.log"
        server = start_server(home_dir, port, not args.no_watch, log)
        first_search_s = first_search(port)
        tally = Tally()
        qs = web_queries()
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [threading.Thread(target=client_loop, args=(k, port, deadline, tally, qs, args.think), daemon=True)
                   for k in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(args.seconds + 120)
        wall = time.monotonic() - started
        lost = lost_uploads(port, tally.uploads)
        server.send_signal(signal.SIGTERM)
        server.wait(60)
        server_log = log.read_text(encoding="utf-8", errors="replace")
        missing, catalogue = missing_in_catalogue(home_dir, tally.uploads)
        lost += missing
        tracebacks = server_log.count("Traceback") + server_log.lower().count("database is locked")
        requests = sum(len(v) for v in tally.latencies.values())
        summary = {
            "clients": args.clients, "seconds": round(wall, 1), "seeded_records": seeded,
            "seed_s": round(build_s, 1), "think_s": args.think, "watcher": not args.no_watch, "server_threads": 8,
            "first_search_s": round(first_search_s, 2), "requests": requests,
            "throughput_rps": round(requests / wall, 1),
            "all": percentiles([x for kind in KINDS for x in tally.latencies[kind]]),
            "kinds": {kind: {"count": len(tally.latencies[kind]), **percentiles(tally.latencies[kind])}
                      for kind in KINDS},
            "windows": windows(tally.timeline, started, WINDOW_S),
            "errors": len(tally.errors), "error_samples": tally.errors[:10],
            "uploads_acknowledged": len(tally.uploads), "lost_uploads": len(lost), "lost_samples": lost[:10],
            "catalogue_records_after": catalogue, "server_tracebacks": tracebacks,
            "server_exit": server.returncode,
        }
        print(json.dumps(summary, indent=2))
        k = summary["kinds"]
        print(f"web mix, {seeded} records, {args.clients} clients, think {args.think} s, {wall:.0f} s: {requests} "
              f"requests ({requests / wall:.1f}/s), all p50 {summary['all']['p50_ms']:.0f} ms p95 "
              f"{summary['all']['p95_ms']:.0f} ms (first search {first_search_s:.1f} s before the load); "
              + ", ".join(f"{kind} {k[kind]['count']} p95 {k[kind]['p95_ms']:.0f} ms" for kind in KINDS)
              + f"; errors {len(tally.errors)}, uploads {len(tally.uploads)}, lost {len(lost)}, "
              f"server tracebacks {tracebacks}")
        if tracebacks:
            print(server_log[-4000:], file=sys.stderr)
        return 1 if tally.errors or lost or tracebacks or server.returncode else 0
    finally:
        if server is not None and server.poll() is None:
            server.kill()
            server.wait()
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
