"""Red-team probes against the drop folders (issue 17 items 1, 10, 13): links, hard links, pipes,
sockets, devices, hidden names, huge sidecars, names that are not UTF-8. Each runs the real watcher
(or the real intake) on a real home, and checks that nothing outside the inbox is filed, read or deleted."""

from __future__ import annotations

import json
import os
import socket
import stat
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from records.filing import FilingOutcome, FilingRequest, FilingStatus
from records.plan import Plan
from records.ports import Ports, RecordFilter
from tests.records.conftest import PlainExtractor
from tests.vault.inbox.conftest import filed_hashes, sha, wait_for
from vault import Home
from vault.inbox import Intake, PendingNotFound, SidecarInvalid, Watcher, classify_pending, list_pending
from vault.inbox.entries import UnsafeEntry, open_file, read_at_most
from vault.inbox.sidecar import MAX_SIDECAR_BYTES, read_sidecar
from web.office import Office
from web.settings import Settings

Start = Callable[..., Watcher]
CANARY = "Vrbnikovskaja"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory outside the home (same file system) holding a secret the attacker wants filed."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(f"passphrase {CANARY} do not file\n")
    return folder


def reason_of(rejected: Path, name: str) -> str:
    return (rejected / (name + ".reason.txt")).read_text(encoding="utf-8")


def records(ports: Ports) -> list[object]:
    return list(ports.catalog.find(RecordFilter()))


def test_symlink_to_a_file_outside_is_rejected_not_filed(intake: Intake, ports: Ports, start: Start,
                                                        outside: Path) -> None:
    secret = outside / "secret.txt"
    before = secret.read_bytes()
    link = intake.folder_path("contracts") / "passwd.txt"
    link.symlink_to(secret)
    (intake.folder_path("contracts") / "real.txt").write_bytes(b"a real contract")
    watcher = start()
    wait_for(lambda: (intake.rejected / "passwd.txt.reason.txt").exists() and len(filed_hashes(ports)) == 1,
             what="the link rejected and the real file filed")
    assert watcher.wait_idle(5)
    assert filed_hashes(ports) == [sha(b"a real contract")]  # the secret is not findable: no record holds it
    assert "symbolic link" in reason_of(intake.rejected, "passwd.txt")
    moved = intake.rejected / "passwd.txt"
    assert moved.is_symlink() and os.readlink(moved) == str(secret)  # the link itself moved, not its target
    assert secret.read_bytes() == before


def test_symlinked_sidecar_is_not_read_and_its_file_is_rejected(intake: Intake, ports: Ports, start: Start,
                                                                outside: Path) -> None:
    meta = outside / "meta.json"
    meta.write_text(json.dumps({"title": CANARY}))
    folder = intake.folder_path("contracts")
    (folder / "lease.txt.json").symlink_to(meta)
    (folder / "lease.txt").write_bytes(b"a lease with a linked sidecar")
    watcher = start()
    wait_for(lambda: (intake.rejected / "lease.txt.reason.txt").exists(), what="the rejection")
    assert watcher.wait_idle(5)
    assert records(ports) == []
    assert "sidecar" in reason_of(intake.rejected, "lease.txt") and "symbolic link" in reason_of(
        intake.rejected, "lease.txt")
    assert (intake.rejected / "lease.txt.json").is_symlink()
    assert json.loads(meta.read_text()) == {"title": CANARY}


@pytest.mark.parametrize("folder", ["contracts", "_unsorted"])
def test_drop_folder_replaced_by_a_link_files_and_deletes_nothing(intake: Intake, ports: Ports, start: Start,
                                                                  tmp_path: Path, folder: str) -> None:
    target = tmp_path / "victim"
    target.mkdir()
    files = {f"doc-{i}.txt": f"{CANARY} {i}".encode() for i in range(5)}
    for name, data in files.items():
        (target / name).write_bytes(data)
    drop = intake.folder_path(folder)
    drop.rmdir()
    drop.symlink_to(target, target_is_directory=True)
    assert list_pending(intake.home, settle_seconds=0) == []  # the unsorted queue does not follow it either
    with pytest.raises(PendingNotFound):
        classify_pending(intake, "doc-0.txt", "contracts")
    watcher = start()
    wait_for(lambda: (intake.rejected / (folder + ".reason.txt")).exists(), what="the folder link rejected")
    wait_for(lambda: intake.folder_path(folder).is_dir() and not intake.folder_path(folder).is_symlink(),
             what="a real folder again")
    assert watcher.wait_idle(5)
    watcher.rescan()
    time.sleep(0.3)  # let a rescan run: still nothing may be filed
    assert watcher.wait_idle(5)
    assert records(ports) == []
    assert {p.name: p.read_bytes() for p in target.iterdir()} == files  # nothing deleted or moved
    assert (intake.rejected / folder).is_symlink()
    assert "never follows links" in reason_of(intake.rejected, folder)


def test_a_file_in_a_linked_folder_is_not_taken(intake: Intake, ports: Ports, tmp_path: Path) -> None:
    # The event path: a hint names inbox/contracts/x.txt while contracts is a link (no scan in between).
    target = tmp_path / "victim"
    target.mkdir()
    (target / "x.txt").write_bytes(CANARY.encode())
    drop = intake.folder_path("contracts")
    drop.rmdir()
    drop.symlink_to(target, target_is_directory=True)
    result = intake.take(drop / "x.txt", "contracts")
    assert result is not None and result.status == FilingStatus.REJECTED and not result.rejected_to
    assert "symbolic link" in result.reason
    assert records(ports) == [] and (target / "x.txt").read_bytes() == CANARY.encode()


def test_hard_link_to_a_file_outside_is_refused(intake: Intake, ports: Ports, start: Start, outside: Path) -> None:
    secret = outside / "secret.txt"
    before = secret.read_bytes()
    os.link(secret, intake.folder_path("contracts") / "linked.txt")
    watcher = start()
    wait_for(lambda: (intake.rejected / "linked.txt.reason.txt").exists(), what="the rejection")
    assert watcher.wait_idle(5)
    assert records(ports) == []
    assert "hard link" in reason_of(intake.rejected, "linked.txt")
    assert secret.read_bytes() == before and secret.stat().st_nlink == 2  # moved to rejected/, not deleted


def test_the_filed_bytes_are_those_of_the_checked_descriptor(home: Home, plan: Plan, ports: Ports,
                                                             outside: Path) -> None:
    """Between the check and the filing, the claimed name is swapped for a link to a secret: what is
    filed is still the inode that was checked (the path handed to filing is the descriptor's)."""
    office = Office(home, Settings(home=home.path), plan=plan, extractor=PlainExtractor())
    real = office.file
    claimed = home.path / "inbox" / ".processing"

    def racing(path: Path, request: FilingRequest) -> FilingOutcome:
        [entry] = [p for p in claimed.glob("*/*") if not p.name.endswith(".json")]
        entry.rename(entry.with_name("moved-away"))
        entry.with_name("moved-away").unlink()
        entry.symlink_to(outside / "secret.txt")
        return real(path, request)

    intake = Intake(home.path, plan, racing)
    intake.ensure_folders()
    (intake.folder_path("contracts") / "honest.txt").write_bytes(b"the honest contract")
    result = intake.take(intake.folder_path("contracts") / "honest.txt", "contracts")
    assert result is not None and result.status == FilingStatus.FILED
    assert filed_hashes(ports) == [sha(b"the honest contract")]


@pytest.fixture
def fifo_sidecar(intake: Intake) -> Iterator[Path]:
    path = intake.folder_path("contracts") / "piped.txt.json"
    os.mkfifo(path)
    yield path


def test_fifo_sidecar_does_not_block_the_watcher(intake: Intake, ports: Ports, start: Start,
                                                 fifo_sidecar: Path) -> None:
    folder = intake.folder_path("contracts")
    (folder / "piped.txt").write_bytes(b"a file whose sidecar is a pipe")
    watcher = start()
    wait_for(lambda: (intake.rejected / "piped.txt.reason.txt").exists(), what="the rejection")
    (folder / "after.txt").write_bytes(b"filed after the pipe")
    wait_for(lambda: len(filed_hashes(ports)) == 1, what="the next file (the watcher is not blocked)")
    assert watcher.wait_idle(5)
    assert "named pipe" in reason_of(intake.rejected, "piped.txt")
    assert stat.S_ISFIFO((intake.rejected / "piped.txt.json").lstat().st_mode)


def test_huge_sparse_sidecar_is_refused_without_reading_it(intake: Intake, ports: Ports) -> None:
    folder = intake.folder_path("contracts")
    with (folder / "big.txt.json").open("wb") as fh:
        fh.truncate(1 << 30)  # 1 GiB, sparse: costs no disk, would cost 1 GiB of memory to read
    (folder / "big.txt").write_bytes(b"a file with a huge sidecar")
    tracemalloc.start()
    try:
        result = intake.take(folder / "big.txt", "contracts")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result is not None and result.status == FilingStatus.REJECTED
    assert "larger than 64 KiB" in result.reason
    assert peak < 8 * 2**20, f"{peak} bytes allocated to refuse a sidecar"


def test_sidecar_reads_are_bounded_on_the_descriptor(tmp_path: Path) -> None:
    grown = tmp_path / "grows.json"
    grown.write_bytes(b" " * (3 * MAX_SIDECAR_BYTES))
    fd = os.open(grown, os.O_RDONLY)
    try:
        with pytest.raises(SidecarInvalid, match="larger than"):
            read_sidecar(fd)
        # A file that grows after the size check is still read only up to the limit + 1 byte.
        assert len(read_at_most(fd, MAX_SIDECAR_BYTES)) == MAX_SIDECAR_BYTES + 1
    finally:
        os.close(fd)
    pipe = tmp_path / "pipe.json"
    os.mkfifo(pipe)
    folder = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(UnsafeEntry, match="named pipe"):
            open_file(folder, "pipe.json", os.fstat(folder).st_dev)  # no open, so no block
    finally:
        os.close(folder)


def _make_socket(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    return sock


def _make_device(path: Path) -> None:
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null
    except PermissionError:
        pytest.skip("creating a device file needs CAP_MKNOD (the socket case covers the same path)")


@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
def test_special_files_are_rejected_with_a_reason(intake: Intake, ports: Ports, start: Start, kind: str) -> None:
    path = intake.folder_path("minutes") / f"special-{kind}.txt"
    sock = None
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        sock = _make_socket(path)
    else:
        _make_device(path)
    try:
        watcher = start()
        wait_for(lambda: (intake.rejected / (path.name + ".reason.txt")).exists(), what="the rejection")
        assert watcher.wait_idle(5)
    finally:
        if sock is not None:
            sock.close()
    words = {"fifo": "named pipe", "socket": "socket", "device": "device file"}[kind]
    assert words in reason_of(intake.rejected, path.name)
    assert records(ports) == [] and not path.exists()


def test_hidden_names_are_reported_and_editor_files_stay_silent(intake: Intake, ports: Ports,
                                                                start: Start) -> None:
    folder = intake.folder_path("board")
    silent = ["~$board.docx", ".~lock.board.odt#", "x.part", "x.tmp", ".memo.txt.swp", ".DS_Store", "._x.pdf"]
    for name in silent:
        (folder / name).write_bytes(b"editor droppings")
    (folder / ".hidden.txt").write_bytes(b"a document nobody would see")
    (folder / ".emptyfolder").mkdir()
    old = time.time() - 3600
    for name in (*silent, ".hidden.txt", ".emptyfolder"):
        os.utime(folder / name, (old, old))
    watcher = start()
    wait_for(lambda: all((intake.rejected / (n + ".reason.txt")).exists() for n in (".hidden.txt", ".emptyfolder")),
             what="the hidden names reported")
    assert watcher.wait_idle(5)
    assert "starts with a dot" in reason_of(intake.rejected, ".hidden.txt")
    assert sorted(p.name for p in folder.iterdir()) == sorted(silent)
    assert records(ports) == []


def test_a_fresh_hidden_name_is_left_to_its_writer(intake: Intake) -> None:
    # rsync writes into ".name.XXXXXX" and renames when done: a fresh dot-name is not reported yet.
    (intake.folder_path("board") / ".minutes.txt.Ab12Cd").write_bytes(b"being copied")
    _, strays = intake.scan(hidden_after=30.0)
    assert strays == []
    _, strays = intake.scan(hidden_after=30.0, now=time.time() + 60)
    assert [s.path.name for s in strays] == [".minutes.txt.Ab12Cd"]


def test_a_name_that_is_not_utf8_is_filed_under_a_repaired_name(intake: Intake, ports: Ports,
                                                                start: Start) -> None:
    folder = os.fsencode(intake.folder_path("contracts"))
    with open(folder + b"/pogodba-\xe8.txt", "wb") as fh:  # "pogodba-č.txt" written by a cp1250 system
        fh.write(b"pogodba z dobaviteljem")
    watcher = start()
    wait_for(lambda: len(filed_hashes(ports)) == 1, what="the file")
    assert watcher.wait_idle(5)
    assert [r.original_name for r in ports.catalog.find(RecordFilter())] == ["pogodba-č.txt"]
    assert not list(intake.rejected.iterdir())
