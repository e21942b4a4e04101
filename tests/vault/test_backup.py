"""Backups end to end on a real home: `backup`, `verify-backup`, `restore`, dispositions and tampering."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from records.model import RecordId
from tests.conftest import PASSPHRASE
from tests.records.test_cli import cli_home, run  # noqa: F401  (the fixture: a home with the default plan)
from vault import KdfParams, init_home, open_home
from vault.catalog import SqlCipherCatalog

Scan = Callable[[Iterable[Path | str], Iterable[str]], list[str]]
CANARIES = ["Kvarkadabra", "Zlatorogovski", "Bukovnisko", "Triglavnica", "Smaragdnica"]
_SUMMARY = re.compile(r"(\d+) objects, (\d+) new \((\d+) bytes\), (\d+) removed")


def _file(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, *extra: str) -> str:
    doc = tmp_path / "docs" / name
    doc.parent.mkdir(exist_ok=True)
    doc.write_text(text, encoding="utf-8")
    code, out, err = run(["import", str(doc), "--json", *extra], capsys)
    assert code == 0, err
    return str(json.loads(out)[0]["id"])


def _backup(dest: Path, capsys: pytest.CaptureFixture[str], *home: str) -> tuple[int, int, int]:
    """(objects, copied, removed) of one `strongroom backup` run."""
    code, out, err = run([*home, "backup", str(dest)], capsys)
    assert code == 0, err
    found = _SUMMARY.search(out)
    assert found is not None, out
    return int(found[1]), int(found[2]), int(found[4])


def _objects(root: Path) -> set[str]:
    return {p.name for p in (root / "objects").glob("??/*") if not p.name.startswith(".tmp-")}


@pytest.fixture
def filed(cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, bytes]:  # noqa: F811
    """Two records filed through `strongroom import`; their ids and original bytes."""
    contract = "Pogodba Bukovnisko, dobava Triglavnica.\n"
    letter = "Dopis Smaragdnica o zamudi.\n"
    ids = {_file(tmp_path, capsys, "Kvarkadabra-pogodba.txt", contract, "--class", "contracts"): contract,
           _file(tmp_path, capsys, "Zlatorogovski.txt", letter, "--class", "correspondence"): letter}
    return {rid: text.encode() for rid, text in ids.items()}


def test_backup_then_restore_reads_every_record_and_searches(
        filed: dict[str, bytes], cli_home: Path, tmp_path: Path,  # noqa: F811
        capsys: pytest.CaptureFixture[str], canary_scan: Scan) -> None:
    dest = tmp_path / "usb" / "strongroom-backup"
    objects, copied, removed = _backup(dest, capsys)
    assert objects == copied == len(_objects(cli_home)) >= 2 and removed == 0
    assert _objects(dest) == _objects(cli_home)
    assert sorted(p.name for p in dest.iterdir()) == ["backup.json", "catalog.db", "keys.json", "objects",
                                                       "plan.toml"]
    assert canary_scan([dest], CANARIES) == []  # no text, file name or title: only random object ids
    code, out, _ = run(["verify-backup", str(dest)], capsys)
    assert code == 0 and "The backup is sound" in out

    new = tmp_path / "restored"
    code, out, err = run(["restore", str(dest), "--home", str(new)], capsys)
    assert code == 0, err
    assert "Restored the backup" in out and "The home is sound" in out
    assert (new / "flask-secret.key").stat().st_mode & 0o777 == 0o600
    assert (new / "inbox" / "_unsorted").is_dir() and (new / "inbox" / "contracts").is_dir()
    assert run(["--home", str(new), "verify"], capsys)[0] == 0
    for rid, original in filed.items():
        target = tmp_path / f"{rid}.out"
        code, _, err = run(["--home", str(new), "get", rid, "-o", str(target)], capsys)
        assert code == 0 and target.read_bytes() == original, err
    code, out, _ = run(["--home", str(new), "search", "Bukovnisko", "--json"], capsys)
    assert code == 0 and len(json.loads(out)["hits"]) == 1  # the index was rebuilt
    with open_home(new, PASSPHRASE) as home:
        actions = [e.event.action for e in home.catalog.audit_entries()]
    restored_at = actions.index("vault.restore")
    assert actions[restored_at:restored_at + 3] == ["vault.restore", "index.rebuild", "vault.verify"]


def test_a_second_backup_copies_only_new_objects(filed: dict[str, bytes], cli_home: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "backup"
    first, copied, _ = _backup(dest, capsys)
    assert first == copied
    before = _objects(cli_home)
    kept = {i: (dest / "objects" / i[:2] / i).stat().st_ino for i in before}
    assert _backup(dest, capsys) == (first, 0, 0)  # nothing new: nothing copied
    _file(tmp_path, capsys, "third.txt", "A third letter.\n", "--class", "correspondence")
    new_ids = _objects(cli_home) - before
    objects, copied, removed = _backup(dest, capsys)
    assert len(new_ids) >= 1 and copied == len(new_ids) and objects == first + copied and removed == 0
    assert {i: (dest / "objects" / i[:2] / i).stat().st_ino for i in before} == kept  # not rewritten
    assert run(["verify-backup", str(dest)], capsys)[0] == 0


def test_disposition_reaches_the_next_backup_but_not_an_older_one(
        cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    text = "An old letter, Smaragdnica.\n"
    rid = _file(tmp_path, capsys, "old-letter.txt", text, "--class", "correspondence",
                "--document-date", "2019-04-01")
    with open_home(cli_home, PASSPHRASE) as home:
        blobs = {b.object_id for b in home.catalog.get(RecordId(rid)).blobs}
        catalog_key = home.keyring.catalog
    older, newest = tmp_path / "monday", tmp_path / "rolling"
    _backup(older, capsys)
    _backup(newest, capsys)
    assert blobs <= _objects(newest)
    assert run(["settings", "set", "require-second-approver", "off"], capsys)[0] == 0  # an office of one
    code, _, err = run(["dispose", rid, "--as-of", "2026-01-01", "--reason", "Retention ended", "--yes"], capsys)
    assert code == 0, err

    objects, copied, removed = _backup(newest, capsys)
    assert removed == len(blobs) and copied == 0 and not blobs & _objects(newest)
    probe = tmp_path / "probe.db"  # opening a catalogue switches it to WAL: look at a copy
    shutil.copyfile(newest / "catalog.db", probe)
    catalog = SqlCipherCatalog(probe, catalog_key)
    try:
        assert catalog.data_key(RecordId(rid)) is None and catalog.get(RecordId(rid)).state == "disposed"
    finally:
        catalog.close()
    assert run(["verify-backup", str(newest)], capsys)[0] == 0

    # The documented limit: a backup taken before the disposition still holds the wrapped key.
    code, _, err = run(["restore", str(older), "--home", str(tmp_path / "from-monday")], capsys)
    assert code == 0, err
    out_file = tmp_path / "resurrected.txt"
    code, _, err = run(["--home", str(tmp_path / "from-monday"), "get", rid, "-o", str(out_file)], capsys)
    assert code == 0 and out_file.read_bytes() == text.encode(), err
    code, out, err = run(["restore", str(newest), "--home", str(tmp_path / "from-rolling")], capsys)
    assert code == 0 and "The home is sound" in out, err
    code, _, err = run(["--home", str(tmp_path / "from-rolling"), "get", rid, "-o", str(tmp_path / "x")], capsys)
    assert code == 1 and "disposed of" in err


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("target", ["object", "catalog.db", "backup.json", "missing object", "added file"])
def test_tampering_is_caught_by_verify_backup_and_refused_by_restore(
        filed: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str) -> None:
    dest = tmp_path / "backup"
    _backup(dest, capsys)
    some = sorted(_objects(dest))[0]
    obj = dest / "objects" / some[:2] / some
    named = {"object": f"objects/{some[:2]}/{some}", "missing object": f"objects/{some[:2]}/{some}",
             "catalog.db": "catalog.db", "backup.json": "backup.json", "added file": "notes.txt"}[target]
    if target == "object":
        _flip_last_byte(obj)
    elif target == "missing object":
        obj.unlink()
    elif target == "added file":
        (dest / "notes.txt").write_text("hello")
    elif target == "backup.json":
        doc = json.loads((dest / "backup.json").read_text())
        doc["manifest"]["objects"].pop(some)  # e.g. hide an object; the MAC no longer matches
        (dest / "backup.json").write_text(json.dumps(doc))
    else:
        _flip_last_byte(dest / target)
    code, out, err = run(["verify-backup", str(dest)], capsys)
    assert code == 3 and named in out and err == "", (out, err)
    assert all(line.endswith(".") for line in out.splitlines())
    if target == "added file":
        return  # harmless to a restore, which copies only what the manifest lists
    new = tmp_path / "new"
    code, out, err = run(["restore", str(dest), "--home", str(new)], capsys)
    assert code == 3 and err.count("\n") == 1 and "Traceback" not in err, err
    assert not new.exists()  # nothing half-restored is left


def test_restore_refuses_a_non_empty_folder_and_a_wrong_passphrase(
        filed: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "backup"
    _backup(dest, capsys)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "letter.txt").write_text("mine")
    code, out, err = run(["restore", str(dest), "--home", str(busy)], capsys)
    assert code == 1 and out == "" and err == f"strongroom: {busy} already exists and is not empty: choose an empty or new folder.\n"
    assert sorted(p.name for p in busy.iterdir()) == ["letter.txt"]
    monkeypatch.setenv("STRONGROOM_PASSPHRASE", "not the passphrase")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(["restore", str(dest), "--home", str(empty)], capsys)
    assert code == 1 and out == "" and err.startswith("strongroom: The passphrase is wrong") and err.count("\n") == 1
    assert list(empty.iterdir()) == []
    code, _, err = run(["verify-backup", str(dest)], capsys)
    assert code == 1 and "passphrase is wrong" in err


def test_restore_with_the_recovery_key_is_audited(filed: dict[str, bytes], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "backup"
    _backup(dest, capsys)
    monkeypatch.delenv("STRONGROOM_PASSPHRASE")
    key_file = tmp_path / "recovery-key.txt"  # written by the home fixture
    assert run(["verify-backup", str(dest), "--recovery-key-file", str(key_file)], capsys)[0] == 0
    new = tmp_path / "new"
    code, out, err = run(["restore", str(dest), "--home", str(new), "--recovery-key-file", str(key_file)], capsys)
    assert code == 0 and "passphrase add --recovery-key-file" in out, err
    with open_home(new, PASSPHRASE) as home:
        entries = list(home.catalog.audit_entries())
    unlocks = [dict(e.event.details) for e in entries if e.event.action == "vault.unlock"]
    assert unlocks[-1] == {"key": "recovery"} and entries[-1].event.action == "vault.verify"


def test_backup_refuses_unsafe_destinations(filed: dict[str, bytes], cli_home: Path, tmp_path: Path,  # noqa: F811
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["backup", str(cli_home / "inbox" / "backup")], capsys)
    assert code == 1 and "overlaps the home" in err and not (cli_home / "inbox" / "backup").exists()
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "holiday.jpg").write_bytes(b"jpg")
    code, _, err = run(["backup", str(photos)], capsys)
    assert code == 1 and "not a Strongroom backup (it holds holiday.jpg)" in err
    other = tmp_path / "other-home"
    init_home(other, PASSPHRASE, kdf=KdfParams.fast_for_tests())
    shared = tmp_path / "shared"
    _backup(shared, capsys, "--home", str(other))
    code, _, err = run(["backup", str(shared)], capsys)
    assert code == 1 and "backup of another home" in err


def test_backup_full_repairs_a_damaged_object(filed: dict[str, bytes], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "backup"
    objects, _, _ = _backup(dest, capsys)
    some = sorted(_objects(dest))[0]
    _flip_last_byte(dest / "objects" / some[:2] / some)  # same size: a plain run trusts it
    assert _backup(dest, capsys) == (objects, 0, 0)
    code, out, _ = run(["verify-backup", str(dest)], capsys)
    assert code == 3 and "backup --full" in out
    code, out, err = run(["backup", "--full", str(dest)], capsys)
    assert code == 0 and "1 new" in out, err
    assert run(["verify-backup", str(dest)], capsys)[0] == 0
