"""A watcher in its own process for the SIGKILL test: `python -m tests.vault.inbox.crash_child HOME`.

Prints "ready" once watching and one line per settled file, then files until the class folders are empty and exits 0.
The parent kills it at random moments; a later run must finish the job exactly once.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from records.plan import load_default
from records.ports import Ports
from tests.records.conftest import PlainExtractor
from vault import open_home
from vault.inbox import Watcher, WatchOptions
from web.intake import filing_function, intake_for
from web.settings import Settings

PASSPHRASE = "correct horse battery staple"


def main(home_dir: str) -> int:
    home_path = Path(home_dir)
    with open_home(home_path, PASSPHRASE) as home:
        plan = load_default()
        ports = Ports(blobs=home.blobs, catalog=home.catalog, signer=home.signer, extractor=PlainExtractor(),
                      audit_hmac=home.audit_hmac)
        intake = intake_for(home, plan, filing_function(ports, plan, Settings(home=home_path)))
        watcher = Watcher(intake, WatchOptions(stability_seconds=0.05, network_stability_seconds=0.5,
                                               rescan_seconds=1.0, tick=0.02),
                          on_result=lambda result: print(result.status, flush=True)).start()
        print("ready", flush=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if watcher.error is not None:
                    print(f"error: {watcher.error}", file=sys.stderr)
                    return 1
                if watcher.wait_idle(0.2) and not intake.documents():
                    return 0
            return 2
        finally:
            watcher.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
