"""Backups to real remote targets on loopback: SeaweedFS's S3 gateway and OpenSSH's sshd (SFTP).

The same `backup`, `verify-backup` and `restore` as for a folder; an upload killed midway resumes;
a flipped byte or a missing object on the server is named; the server's disk holds no plaintext.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.records.test_cli import cli_home, run  # noqa: F401  (the fixture: a home with the default plan)
from tests.vault.servers import S3_KEY_ID, S3_SECRET, BUCKET, seaweed, sshd, wait_for  # noqa: F401
from tests.vault.test_backup import CANARIES, filed  # noqa: F401  (two records with canary words)

Scan = Callable[[Iterable[Path | str], Iterable[str]], list[str]]
_SUMMARY = re.compile(r"(\d+) objects, (\d+) new \((\d+) bytes\), (\d+) removed")


@dataclass
class Remote:
    kind: str
    spec: str
    disk: Path  # the server's own storage on this machine (grepped for canaries)
    names: Callable[[], dict[str, bytes | None]]  # stored name -> bytes (None: not fetched)
    read: Callable[[str], bytes]
    write: Callable[[str, bytes], None]
    remove: Callable[[str], None]


@pytest.fixture(params=["s3", "sftp"])
def remote(request: pytest.FixtureRequest, cli_home: Path, monkeypatch: pytest.MonkeyPatch) -> Remote:  # noqa: F811
    """A fresh, empty backup target on a real server (a new prefix or folder per test)."""
    unique = uuid.uuid4().hex[:12]
    if request.param == "s3":
        server = request.getfixturevalue("seaweed")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_KEY_ID)  # restic's variables, read by the settings
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET)
        client: Any = server.client()
        prefix = f"strongroom/{unique}/"

        def names() -> dict[str, bytes | None]:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
            try:
                return {item["Key"][len(prefix):]: None for page in pages for item in page.get("Contents", ())}
            except client.exceptions.NoSuchBucket:  # the backup makes it
                return {}

        return Remote("s3", server.target(prefix.rstrip("/")), server.data, names,
                      lambda n: client.get_object(Bucket=BUCKET, Key=prefix + n)["Body"].read(),
                      lambda n, b: client.put_object(Bucket=BUCKET, Key=prefix + n, Body=b),
                      lambda n: client.delete_object(Bucket=BUCKET, Key=prefix + n))
    server = request.getfixturevalue("sshd")
    monkeypatch.setenv("STRONGROOM_SFTP_KNOWN_HOSTS", str(server.known_hosts))
    monkeypatch.setenv("STRONGROOM_SFTP_KEY_FILE", str(server.key_file))
    monkeypatch.setenv("STRONGROOM_SFTP_USE_AGENT", "false")
    folder = server.root / unique

    def files() -> dict[str, bytes | None]:
        return {p.relative_to(folder).as_posix(): None for p in folder.rglob("*") if p.is_file()} \
            if folder.is_dir() else {}

    return Remote("sftp", server.target(unique), folder, files, lambda n: (folder / n).read_bytes(),
                  lambda n, b: (folder / n).write_bytes(b), lambda n: (folder / n).unlink())


def _backup(spec: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, int, int, str]:
    code, out, err = run(["backup", spec], capsys)
    assert code == 0, err
    found = _SUMMARY.search(out)
    assert found is not None, out
    return int(found[1]), int(found[2]), int(found[4]), out


def _objects(names: Iterable[str]) -> set[str]:
    """The stored objects' names (not an unfinished upload's temp file)."""
    return {n for n in names if n.startswith("objects/") and ".tmp-" not in n}


def test_backup_verify_and_restore_through_a_remote_target(
        filed: dict[str, bytes], remote: Remote, cli_home: Path, tmp_path: Path,  # noqa: F811
        capsys: pytest.CaptureFixture[str], canary_scan: Scan) -> None:
    objects, copied, removed, _ = _backup(remote.spec, capsys)
    home_objects = {f"objects/{p.parent.name}/{p.name}" for p in (cli_home / "objects").glob("??/*")}
    assert objects == copied == len(home_objects) >= 2 and removed == 0
    stored = remote.names()
    assert _objects(stored) == home_objects
    assert set(stored) - home_objects == {"backup.json", "catalog.db", "keys.json", "plan.toml"}
    assert not any(".tmp-" in name for name in stored)
    # What a thief of the server's disks gets: sizes, counts and times, no text, title or file name.
    assert canary_scan([remote.disk], CANARIES) == []
    assert _backup(remote.spec, capsys)[:3] == (objects, 0, 0)  # incremental: nothing new, nothing sent

    code, out, err = run(["verify-backup", remote.spec], capsys)
    assert code == 0 and "The backup is sound" in out, (out, err)
    new = tmp_path / "restored"
    code, out, err = run(["restore", remote.spec, "--home", str(new)], capsys)
    assert code == 0 and "The home is sound" in out, err
    assert run(["--home", str(new), "verify"], capsys)[0] == 0
    for rid, original in filed.items():
        target = tmp_path / f"{rid}.out"
        code, _, err = run(["--home", str(new), "get", rid, "-o", str(target)], capsys)
        assert code == 0 and target.read_bytes() == original, err


def test_a_flipped_byte_and_a_missing_object_on_the_server_are_named(
        filed: dict[str, bytes], remote: Remote, tmp_path: Path,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    _backup(remote.spec, capsys)
    flipped, missing = sorted(_objects(remote.names()))[:2]
    data = bytearray(remote.read(flipped))
    data[len(data) // 2] ^= 0x01
    remote.write(flipped, bytes(data))
    remote.remove(missing)
    code, out, err = run(["verify-backup", remote.spec], capsys)
    assert code == 3 and err == "", (out, err)
    assert f"{flipped} was changed: its SHA-256 does not match the manifest." in out
    assert f"{missing} is missing from the backup." in out
    code, out, err = run(["restore", remote.spec, "--home", str(tmp_path / "new")], capsys)
    assert code == 3 and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "new").exists()
    code, out, err = run(["backup", "--full", remote.spec], capsys)  # the repair: both stored again
    assert code == 0 and "2 new" in out, (out, err)
    assert run(["verify-backup", remote.spec], capsys)[0] == 0


def test_a_backup_killed_during_the_upload_resumes_and_verifies(
        remote: Remote, cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    docs = tmp_path / "batch"
    docs.mkdir()
    for i in range(40):
        (docs / f"letter-{i:03}.txt").write_text(f"Letter {i}.\n" + f"line {i} of some length\n" * 4000)
    code, _, err = run(["import", str(docs), "--class", "correspondence"], capsys)
    assert code == 0, err
    total = len(list((cli_home / "objects").glob("??/*")))
    child = subprocess.Popen([str(Path(sys.executable).parent / "strongroom"), "backup", remote.spec],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    try:
        wait_for(lambda: len(_objects(remote.names())) >= 3 or child.poll() is not None,
                 "the first uploaded objects", timeout=120)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    stored = remote.names()
    assert child.returncode == -signal.SIGKILL and "backup.json" not in stored, "the backup finished before the kill"
    assert 3 <= len(_objects(stored)) < total

    objects, copied, removed, out = _backup(remote.spec, capsys)
    kept = re.search(r"(\d+) kept from an interrupted run", out)
    assert kept is not None and int(kept[1]) >= 3, out
    assert objects == total and copied + int(kept[1]) == total and removed == 0
    assert not any(".tmp-" in name for name in remote.names())  # the killed upload's temp is gone
    code, out, err = run(["verify-backup", remote.spec], capsys)
    assert code == 0 and "The backup is sound" in out, (out, err)


def test_an_unknown_host_key_and_wrong_s3_keys_are_refused_in_one_sentence(
        cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue("sshd")
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    monkeypatch.setenv("STRONGROOM_SFTP_KNOWN_HOSTS", str(empty))  # never accepted silently
    monkeypatch.setenv("STRONGROOM_SFTP_KEY_FILE", str(server.key_file))
    monkeypatch.setenv("STRONGROOM_SFTP_USE_AGENT", "false")
    code, out, err = run(["backup", server.target("refused")], capsys)
    assert code == 1 and out == "" and err.count("\n") == 1 and "is not in" in err and "SHA256:" in err, err
    assert not (server.root / "refused").exists()

    s3 = request.getfixturevalue("seaweed")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    code, out, err = run(["backup", s3.target("refused")], capsys)
    assert code == 1 and err.count("\n") == 1 and "refused the keys" in err and "not-the-secret" not in err, err
    code, out, _ = run(["backup", "status", "--json"], capsys)
    assert [s["failing"] for s in json.loads(out)] == [True, True]  # both failures recorded
