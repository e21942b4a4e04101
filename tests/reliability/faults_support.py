"""Fixtures for the fault tests: a home on a small tmpfs (as root) to fill, read-only remounts, the CLI."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from records.ports import RecordFilter
from tests.conftest import PASSPHRASE
from vault import Home, KdfParams, init_home, open_home
from web.cli import main

ROOT = Path(__file__).resolve().parents[2]
SMALL_DISK_BYTES = 8 * 1024 * 1024


def _mount_tmpfs(target: Path, size: int) -> bool:
    """True when a tmpfs of `size` bytes is now mounted at `target` (root with CAP_SYS_ADMIN only)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(target)],
                          capture_output=True, check=False)
    return done.returncode == 0


def _unmount(target: Path) -> None:
    # -l: a watcher thread of a failed test may still hold a file open; never leave a mount behind.
    subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An empty 8 MiB tmpfs (skipped unless running as root where mounts are allowed)."""
    target = tmp_path / "disk"
    target.mkdir()
    if not _mount_tmpfs(target, SMALL_DISK_BYTES):
        pytest.skip("needs root and tmpfs mounts to fill a real disk; the ENOSPC simulation test covers this")
    try:
        yield target
    finally:
        _unmount(target)


@contextmanager
def disk_filled(disk: Path, leave: int = 0) -> Iterator[None]:
    """Fill `disk` until ENOSPC, then free `leave` bytes; the space returns on exit."""
    filler = disk / "filler"
    block = b"\0" * 65536
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(block)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    # Smaller writes top up what the last 64 KiB block could not.
    with open(filler, "ab", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 512)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    try:
        yield
    finally:
        filler.unlink()


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make `path` a read-only bind mount of itself (root) for the duration."""
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True, capture_output=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], check=True, capture_output=True)
        yield
    finally:
        _unmount(path)


def can_bind_mount(tmp: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    probe = Path(tempfile.mkdtemp(dir=tmp))
    try:
        with read_only(probe):
            try:
                (probe / "x").write_bytes(b"")
            except OSError:
                return True
            return False
    except subprocess.CalledProcessError:
        return False
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def new_home(path: Path) -> Path:
    """A fast-KDF home with the default plan copied in and the drop folders made (what `init` does)."""
    from records.plan import default_plan_text, load_default
    from vault.inbox import create_drop_folders
    init_home(path, PASSPHRASE, kdf=KdfParams.fast_for_tests())
    (path / "plan.toml").write_text(default_plan_text(), encoding="utf-8")
    create_drop_folders(path, load_default())
    return path


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A clean STRONGROOM_* environment (the passphrase set) and a private $TMPDIR; `run` names the home."""
    for name in list(os.environ):
        if name.startswith("STRONGROOM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", PASSPHRASE)
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    yield


def run(home: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`strongroom --home HOME argv...` in this process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(["--home", str(home), *argv])
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def process_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a `strongroom` child process: this home, the test passphrase, no other
    STRONGROOM_* variable from the outside, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    env.update({"STRONGROOM_HOME": str(home), "STRONGROOM_PASSPHRASE": PASSPHRASE, "PYTHONPATH": str(ROOT),
                **extra})
    return env


def run_process(home: Path, argv: list[str], timeout: float = 60, **extra: str) -> tuple[int, str, str]:
    """`strongroom` as its own process (no in-process caches, e.g. the shared search index)."""
    done = subprocess.run([sys.executable, "-c", "from web.cli import main; main()", *argv], cwd=ROOT,
                          env=process_env(home, **extra), capture_output=True, text=True, timeout=timeout,
                          check=False)
    return done.returncode, done.stdout, done.stderr


def one_clear_sentence(err: str) -> str:
    """The CLI's error line: one `strongroom: ...` sentence, no traceback; returns the sentence."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("strongroom: ")]
    assert len(lines) == 1, err
    sentence = lines[0].removeprefix("strongroom: ")
    assert sentence.endswith(".") and len(sentence) < 400, sentence
    return sentence


def records_of(home_path: Path) -> list[tuple[str, str]]:
    """(registry number, sha256) of every record, from a fresh unlock."""
    with open_home(home_path, PASSPHRASE) as home:
        return sorted((r.registry_number, r.sha256) for r in home.catalog.find(RecordFilter()))


def object_files(home_path: Path) -> list[Path]:
    """Every file under objects/ (finished objects and temp leftovers alike)."""
    return sorted(p for p in (home_path / "objects").rglob("*") if p.is_file())


def original_bytes(home: Home, record_id: str) -> bytes:
    from records.model import BlobRole
    record = home.catalog.get(record_id)  # type: ignore[arg-type]
    key = home.catalog.data_key(record.id)
    ref = record.blob(BlobRole.ORIGINAL)
    assert key is not None and ref is not None
    return b"".join(home.blobs.open(record.id, key, ref))
