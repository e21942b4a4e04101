"""Rollback and truncation of the catalogue (issue 17, items 4 and 5): the red-team probes as tests.

An older catalog.db put back while the home is closed, or its newest audit entries (and
checkpoints) deleted, must be refused on open and reported by `strongroom verify` with exit 3;
a kill between a commit and the anchor write, and a restored backup, must still open.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from records.access import AccessScope
from records.audit import AuditEvent
from records.checkpoints import seal_run
from records.export import LAST_EXPORT_SETTING
from records.filing import FilingRequest, file_document
from records.holds import place_hold
from records.model import Confidentiality, Role, User
from records.plan import load_default
from records.ports import Ports
from tests.conftest import PASSPHRASE
from tests.records.conftest import PlainExtractor
from vault import Home, backup_home, open_home, restore_backup
from vault.anchor import ACCEPT_ACTION, ANCHOR_FILE, ANCHORED_SETTING, AnchorFile, seal, state_of
from vault.catalog import SqlCipherCatalog
from vault.errors import RollbackDetected
from vault.home import CATALOG_FILE

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def _ports(home: Home) -> Ports:
    return Ports(blobs=home.blobs, catalog=home.catalog, signer=home.signer, extractor=PlainExtractor(),
                 audit_hmac=home.audit_hmac)


def _note(home: Home, n: int = 1) -> None:
    for _ in range(n):
        with home.catalog.transaction() as tx:
            tx.append_audit(AuditEvent(ts=NOW, actor="tina", action="record.view"))


def _copy_catalog(home_path: Path, to: Path) -> None:
    """A copy of the closed home's catalogue (one file: SQLite merges its WAL on the last close)."""
    assert not (home_path / (CATALOG_FILE + "-wal")).exists()
    shutil.copy2(home_path / CATALOG_FILE, to)


def _put_back(copy: Path, home_path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        (home_path / (CATALOG_FILE + suffix)).unlink(missing_ok=True)
    shutil.copy2(copy, home_path / CATALOG_FILE)


def _raw_catalog(home_path: Path) -> SqlCipherCatalog:
    """The catalogue opened as an insider with the passphrase and a Python prompt would."""
    with open_home(home_path, PASSPHRASE) as home:
        key = home.keyring.catalog
    return SqlCipherCatalog(home_path / CATALOG_FILE, key)


def _cli(home_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    env.update(STRONGROOM_PASSPHRASE=PASSPHRASE, STRONGROOM_HOME=str(home_path), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", "from web.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)


def _assert_refused(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0, proc.stderr
    for word in words:
        assert word in proc.stderr


def test_an_older_catalogue_put_back_is_refused_with_its_hold_and_record(home_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "pogodba.txt"
    source.write_text("Pogodba o najemu\n", encoding="utf-8")
    with open_home(home_path, PASSPHRASE) as home:
        ports = _ports(home)
        with home.catalog.transaction() as tx:
            tx.put_user(User("tina", Role.SECRETARY, Confidentiality.SECRET))
        first = file_document(ports, load_default(), source, FilingRequest(original_name="pogodba.txt",
                              actor="tina", record_class="correspondence"), jurisdiction="SI", now=NOW)
        assert first.record_id is not None
    old = tmp_path / "old-catalog.db"
    _copy_catalog(home_path, old)
    second = tmp_path / "racun.txt"
    second.write_text("Račun 44\n", encoding="utf-8")
    with open_home(home_path, PASSPHRASE) as home:
        ports = _ports(home)
        place_hold(ports, AccessScope.system("tina"), first.record_id, "Court order 12/2026", now=NOW)
        filed = file_document(ports, load_default(), second, FilingRequest(original_name="racun.txt",
                              actor="tina", record_class="correspondence"), jurisdiction="SI", now=NOW)
        assert filed.record_id is not None
    _put_back(old, home_path)  # the hold and the second record vanish from the catalogue

    with pytest.raises(RollbackDetected, match="rolled back"):
        open_home(home_path, PASSPHRASE)
    _assert_refused(_cli(home_path, "verify"), "rolled back", "--accept-rollback")
    assert (home_path / CATALOG_FILE).read_bytes() == old.read_bytes()  # refused before any write


def test_verify_accept_rollback_audits_it_and_the_home_opens_again(home_path: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    _copy_catalog(home_path, old)
    with open_home(home_path, PASSPHRASE) as home:
        _note(home, 3)
    _put_back(old, home_path)
    proc = _cli(home_path, "verify", "--accept-rollback")
    assert proc.returncode == 0, proc.stderr
    assert "Accepted" in proc.stdout and "The home is sound" in proc.stdout
    with open_home(home_path, PASSPHRASE) as home:
        accepted = [e for e in home.catalog.audit_entries() if e.event.action == ACCEPT_ACTION]
        assert len(accepted) == 1 and accepted[0].event.outcome == "recovered"
        assert "records entry" in dict(accepted[0].event.details)["found"]
        assert home.verify() == []


def test_deleting_the_newest_audit_entries_is_refused(home_path: Path) -> None:
    with open_home(home_path, PASSPHRASE) as home:
        _note(home, 5)
        head = home.catalog.audit_head()
        assert head is not None
    raw = _raw_catalog(home_path)
    try:
        raw._conn.execute("DELETE FROM audit WHERE seq > ?", (head.seq - 3,))
    finally:
        raw.close()
    with pytest.raises(RollbackDetected, match=f"ends at entry {head.seq - 3}.*records entry {head.seq}"):
        open_home(home_path, PASSPHRASE)
    _assert_refused(_cli(home_path, "verify"), f"records entry {head.seq}")


def test_deleting_everything_after_a_checkpoint_is_refused(home_path: Path) -> None:
    with open_home(home_path, PASSPHRASE) as home:
        ports = _ports(home)
        _note(home, 2)
        with home.catalog.transaction() as tx:
            first = seal_run(tx, ports.signer, AuditEvent(ts=NOW, actor="ana", action="audit.export"))
        _note(home, 2)
        with home.catalog.transaction() as tx:
            seal_run(tx, ports.signer, AuditEvent(ts=NOW, actor="ana", action="audit.export"))
        _note(home, 2)
    raw = _raw_catalog(home_path)
    try:  # back to the first checkpoint, as if nothing happened after it
        raw._conn.execute("DELETE FROM audit WHERE seq > ?", (first.seq,))
        raw._conn.execute("DELETE FROM checkpoints WHERE size > ?", (first.seq,))
    finally:
        raw.close()
    with pytest.raises(RollbackDetected, match=f"ends at entry {first.seq}"):
        open_home(home_path, PASSPHRASE)


def test_a_removed_checkpoint_is_refused(home_path: Path) -> None:
    with open_home(home_path, PASSPHRASE) as home:
        with home.catalog.transaction() as tx:
            cp = seal_run(tx, home.signer, AuditEvent(ts=NOW, actor="ana", action="audit.export"))
    raw = _raw_catalog(home_path)
    try:
        raw._conn.execute("DELETE FROM checkpoints WHERE size = ?", (cp.seq,))
    finally:
        raw.close()
    with pytest.raises(RollbackDetected, match="checkpoints were removed"):
        open_home(home_path, PASSPHRASE)


def test_a_catalogue_ahead_of_its_anchor_opens_and_the_anchor_catches_up(home: Home, home_path: Path) -> None:
    """A kill between the COMMIT and the anchor write leaves the anchor behind: never locked out."""
    anchor = AnchorFile(home_path, home.keyring.anchor, home.vault_id)
    before = anchor.read()
    home.catalog.after_audit_commit = None  # the process "dies" before each anchor write
    _note(home, 4)
    assert anchor.read() == before
    with open_home(home_path, PASSPHRASE) as again:
        assert again.verify() == []
        _note(again, 1)
    after = anchor.read()
    assert after is not None and before is not None and after.seq > before.seq + 4


def test_a_home_killed_while_committing_opens_again(home_path: Path) -> None:
    script = (
        "import sys\n"
        "from datetime import datetime, timezone\n"
        "from records.audit import AuditEvent\n"
        "from vault import open_home\n"
        f"home = open_home({str(home_path)!r}, {PASSPHRASE!r})\n"
        "for i in range(100000):\n"
        "    with home.catalog.transaction() as tx:\n"
        "        tx.append_audit(AuditEvent(ts=datetime.now(timezone.utc), actor='x', action='t'))\n"
        "    if i == 50:\n"
        "        print('ready', flush=True)\n")
    with subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}) as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        proc.kill()  # SIGKILL mid-loop: somewhere between a commit and its anchor write, or in one
        proc.wait(timeout=60)
    with open_home(home_path, PASSPHRASE) as home:
        assert home.verify() == []


def test_a_deleted_or_foreign_anchor_is_refused(home_path: Path, tmp_path: Path) -> None:
    with open_home(home_path, PASSPHRASE) as home:
        foreign = seal(state_of(home.catalog), b"\x07" * 32, home.vault_id)
    anchor = home_path / ANCHOR_FILE
    anchor.unlink()
    with pytest.raises(RollbackDetected, match="is missing"):
        open_home(home_path, PASSPHRASE)
    anchor.write_bytes(foreign)
    with pytest.raises(RollbackDetected, match="fails authentication"):
        open_home(home_path, PASSPHRASE)


def test_a_home_made_before_anchors_starts_one(home_path: Path) -> None:
    raw = _raw_catalog(home_path)
    try:
        raw._conn.execute("DELETE FROM settings WHERE key = ?", (ANCHORED_SETTING,))
    finally:
        raw.close()
    (home_path / ANCHOR_FILE).unlink()
    with open_home(home_path, PASSPHRASE) as home:
        assert home.catalog.get_setting(ANCHORED_SETTING) == "yes"
    assert (home_path / ANCHOR_FILE).is_file()


def test_a_restored_backup_opens_with_a_new_anchor(home_path: Path, tmp_path: Path) -> None:
    with open_home(home_path, PASSPHRASE) as home:
        backup_home(home, tmp_path / "backup")
        _note(home, 3)  # the home moves on; its anchor is now ahead of the backup's catalogue
    restored = restore_backup(tmp_path / "backup", tmp_path / "restored", PASSPHRASE)
    with open_home(restored.path, PASSPHRASE, actor="system:cli", restored=True) as home:
        assert home.verify() == []
    assert (tmp_path / "restored" / ANCHOR_FILE).is_file()
    with open_home(tmp_path / "restored", PASSPHRASE):  # and opens again as any home does
        pass


def test_verify_reports_a_trail_cut_below_the_anchor_and_the_last_export(home: Home, home_path: Path) -> None:
    _note(home, 3)
    head = home.catalog.audit_head()
    assert head is not None
    with home.catalog.transaction() as tx:
        tx.put_setting(LAST_EXPORT_SETTING, f"{head.seq}:{head.hash}")
        tx.append_audit(AuditEvent(ts=NOW, actor="ana", action="audit.export"))
    AnchorFile(home_path, home.keyring.anchor, home.vault_id).advance(home.catalog)
    home.catalog._conn.execute("DELETE FROM audit WHERE seq >= ?", (head.seq,))  # while it is open
    problems = home.verify()
    assert any("anchor" in p and f"records entry {head.seq + 1}" in p for p in problems), problems
    assert any(f"audit export already covered entry {head.seq}" in p for p in problems), problems


def test_an_anchor_write_from_another_thread_never_deadlocks_a_committing_thread(
        home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    """The keeper's timer thread writes the anchor while a committing thread, holding the catalogue's
    lock, writes it too (the after-commit hook). Both must finish: the file lock is never held while
    waiting for the catalogue's (a bulk import hung on that inversion)."""
    import threading

    from vault import anchor as anchor_module
    real_state_of = anchor_module.state_of
    timer_reads, held = threading.Event(), threading.Event()
    finished: list[str] = []

    def spying_state_of(catalog: object) -> object:
        if threading.current_thread().name == "anchor-timer":
            timer_reads.set()  # the timer is about to wait for the catalogue's lock
        return real_state_of(catalog)  # type: ignore[arg-type]
    monkeypatch.setattr(anchor_module, "state_of", spying_state_of)
    _note(home, 1)

    def commit() -> None:
        with home.catalog._lock:  # as while the after-commit hook runs
            held.set()
            assert timer_reads.wait(30)
            home.anchor.advance(home.catalog)
        finished.append("commit")

    def timer() -> None:
        assert held.wait(30)
        home.anchor.advance(home.catalog)
        finished.append("timer")
    threads = [threading.Thread(target=commit, daemon=True),
               threading.Thread(target=timer, name="anchor-timer", daemon=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(t.is_alive() for t in threads), "the two anchor writers deadlocked"
    assert sorted(finished) == ["commit", "timer"]
