"""Every main page of a home, timed once warm: which pages grow with the number of records.

    .venv/bin/python bench/pages.py --home DIR      # a home seeded by web_mix.py --home DIR (say 100k)
    .venv/bin/python bench/pages.py --records 2000  # a fresh throwaway home

Serves the home with `strongroom serve` (its own process, loopback, no watcher), signs in as admin
and prints, per page, the best of three GETs, the status and the page's size. A slow page here is a
page a secretary waits for at that size of archive.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.web_load import Client, build  # noqa: E402
from bench.web_mix import free_port, record_count, start_server  # noqa: E402

PAGES = ("/", "/search?q=pogodba", "/retention/", "/registers/", "/registers/invoices", "/registers/correspondence",
         "/calendar.ics", "/audit/", "/meetings", "/casefiles/", "/plan/", "/unsorted", "/exports/")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a seeded home (kept); seeded here first when empty")
    parser.add_argument("--records", type=int, default=2000, help="records to seed a new home with")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="strongroom-pages-"))
    home = args.home or work / "home"
    server = None
    try:
        if not (home / "catalog.db").exists():
            build(home, args.records)
        records = record_count(home)
        port = free_port()
        server = start_server(home, port, False, work / "server.log")
        client = Client(port, "admin")
        print(f"pages of a home with {records} records (best of 3, warm):")
        for path in PAGES:
            times = []
            for _ in range(3):
                started = time.perf_counter()
                status, body = client.request("GET", path)
                times.append(time.perf_counter() - started)
            print(f"  {path:28} {status}  {min(times) * 1000:8.0f} ms  {len(body.encode()) // 1024:6d} kB", flush=True)
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
