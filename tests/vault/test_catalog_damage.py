"""One flipped byte anywhere in catalog.db: `strongroom verify` says so in one sentence and exits 3
(issue 17, item 9: it used to end in a traceback). The real CLI runs in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from records.audit import AuditEvent
from tests.conftest import PASSPHRASE
from vault import KdfParams, init_home, open_home
from vault.home import CATALOG_FILE

ROOT = Path(__file__).resolve().parents[2]
PAGE = 4096  # SQLCipher 4's default page size
# (page, offset in the page): the header page (salt, then encrypted header), the first b-tree pages,
# the middle and the last page, page bodies and the reserved IV/HMAC tail of a page.
FLIPS = [(0, 3), (0, 40), (0, 2000), (1, 10), (1, PAGE - 20), (2, 1500), ("mid", 100), ("mid", PAGE - 1),
         ("last", 700), ("last", PAGE - 70)]


@pytest.fixture(scope="module")
def sound_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed home whose catalogue spans many pages (a few hundred audit entries)."""
    path = tmp_path_factory.mktemp("damage") / "home"
    init_home(path, PASSPHRASE, kdf=KdfParams.fast_for_tests())
    with open_home(path, PASSPHRASE) as home, home.catalog.transaction() as tx:
        for i in range(400):
            tx.append_audit(AuditEvent(ts=datetime.now(timezone.utc), actor="tina", action="record.view",
                                       details=(("query", home.audit_hmac(f"iskanje {i}")),)))
    return path


@pytest.mark.parametrize(("page", "offset"), FLIPS)
def test_a_flipped_byte_is_one_sentence_and_exit_3(sound_home: Path, tmp_path: Path, page: object,
                                                    offset: int) -> None:
    home = tmp_path / "home"
    shutil.copytree(sound_home, home)
    db = home / CATALOG_FILE
    data = bytearray(db.read_bytes())
    pages = len(data) // PAGE
    assert pages > 20
    index = {"mid": pages // 2, "last": pages - 1}.get(page, page)  # type: ignore[call-overload]
    data[int(index) * PAGE + offset] ^= 0x40
    db.write_bytes(bytes(data))

    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    env.update(STRONGROOM_PASSPHRASE=PASSPHRASE, STRONGROOM_HOME=str(home), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", "from web.cli import main; main()", "verify"],
                          env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "catalogue" in proc.stderr and "backup" in proc.stderr
