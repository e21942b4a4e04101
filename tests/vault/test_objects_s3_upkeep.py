"""Upkeep of sealed objects in a bucket, against the real SeaweedFS on loopback: unfinished multipart
uploads are aborted by the crash clean-up, verify reads around the read cache, and one cache folder
shared by several stores keeps one limit."""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from records.model import BlobRole, RecordId
from tests.conftest import PASSPHRASE
from tests.records.test_cli import cli_home, run  # noqa: F401  (the fixture: a home with the default plan)
from tests.reliability.crash_support import Child
from tests.vault.servers import S3_KEY_ID, S3_SECRET, seaweed  # noqa: F401
from tests.vault.test_objects_s3 import OBJECTS_BUCKET, Bucket, bucket  # noqa: F401
from vault import BucketObjects, TargetOptions, open_home
from vault.backuptarget.s3 import PART
from vault.objects import ObjectStore
from vault.s3objects import CACHE_FOLDER
from vault.sealed import OBJECT_ID_SIZE

ROOT = Path(__file__).resolve().parents[2]


def _options() -> TargetOptions:
    return TargetOptions(s3_access_key_id=S3_KEY_ID, s3_secret_access_key=S3_SECRET, timeout_seconds=5)


def _unfinished(b: Bucket) -> list[str]:
    """Keys of the multipart uploads under the prefix that were started and neither completed nor aborted."""
    found = b.client.list_multipart_uploads(Bucket=OBJECTS_BUCKET, Prefix=b.prefix)
    return sorted(str(u["Key"]) for u in found.get("Uploads", ()))


def _die_holding(home: Path) -> None:
    """A process that unlocks the home and is killed (SIGKILL) while it has it open: a dead session."""
    code = ("import os, signal; from vault import open_home; "
            f"h = open_home({str(home)!r}, {PASSPHRASE!r}); os.kill(os.getpid(), signal.SIGKILL)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == -9, done.stderr


# ---- unfinished multipart uploads ----------------------------------------------------------------


def test_the_crash_clean_up_aborts_unfinished_uploads_of_objects_under_the_prefix(
        bucket: Bucket, home_path: Path) -> None:  # noqa: F811
    where = BucketObjects(bucket.spec, _options())
    with open_home(home_path, PASSPHRASE, objects=where) as home:  # this home holds the prefix
        key = home.blobs.new_data_key(RecordId("r"))
        home.blobs.seal(RecordId("r"), key, BlobRole.ORIGINAL, io.BytesIO(b"kept"))
    # An upload of an object that a killed process left behind (started and given a part, never completed),
    # and one of something else under the prefix, which is not ours to abort.
    object_id = secrets.token_hex(OBJECT_ID_SIZE)
    started = {}
    for name in (f"{object_id[:2]}/{object_id}", "notes/readme"):
        upload = bucket.client.create_multipart_upload(Bucket=OBJECTS_BUCKET, Key=bucket.prefix + name)["UploadId"]
        bucket.client.upload_part(Bucket=OBJECTS_BUCKET, Key=bucket.prefix + name, UploadId=upload, PartNumber=1,
                                  Body=b"\0" * (5 * 1024 * 1024))
        started[name] = upload
    assert _unfinished(bucket) == sorted(bucket.prefix + name for name in started)
    _die_holding(home_path)

    with open_home(home_path, PASSPHRASE, objects=where) as home:
        assert home.session.interrupted
        assert home.verify() == []
        recovered = [e.event for e in home.catalog.audit_entries() if e.event.action == "vault.recover"]
    assert _unfinished(bucket) == [bucket.prefix + "notes/readme"]
    assert ("unfinished_uploads", "1") in recovered[-1].details  # audited with the rest of the clean-up
    bucket.client.abort_multipart_upload(Bucket=OBJECTS_BUCKET, Key=bucket.prefix + "notes/readme",
                                         UploadId=started["notes/readme"])


def test_a_filing_killed_mid_upload_leaves_no_multipart_upload_after_the_next_open(
        bucket: Bucket, cli_home: Path, tmp_path: Path) -> None:  # noqa: F811
    scan = tmp_path / "docs" / "big-scan.bin"
    scan.parent.mkdir()
    scan.write_bytes(os.urandom(4 * PART))  # sealed, well above the multipart threshold: four parts
    child = Child.start(cli_home, ["import", str(scan), "--class", "contracts"], STRONGROOM_OBJECTS=bucket.spec,
                        AWS_ACCESS_KEY_ID=S3_KEY_ID, AWS_SECRET_ACCESS_KEY=S3_SECRET)
    child.wait_until(lambda: bool(_unfinished(bucket)), timeout=120)
    assert child.kill(), "the import finished before the kill: " + "".join(child.err)
    assert _unfinished(bucket), "the kill must land during the upload"

    where = BucketObjects(bucket.spec, _options())
    with open_home(cli_home, PASSPHRASE, objects=where) as home:
        assert home.session.interrupted
        assert home.catalog.find() == []  # nothing committed without its objects
        assert home.verify() == []
    assert _unfinished(bucket) == []
    assert bucket.ids() == set()


# ---- verify reads around the cache ---------------------------------------------------------------


def test_verify_and_backups_read_around_the_read_cache(bucket: Bucket, cli_home: Path, tmp_path: Path,  # noqa: F811
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_OBJECT_CACHE_MB", "1")  # room for about three of the eight objects
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(4):
        words = " ".join(secrets.token_hex(4) for _ in range(36_000))  # ~320 KB of text, barely compressible
        (docs / f"letter-{i}.txt").write_text(f"Dopis {i}\n{words}\n", encoding="utf-8")
    code, out, err = run(["import", str(docs), "--class", "correspondence", "--json"], capsys)
    assert code == 0, err
    cache = cli_home / CACHE_FOLDER

    def cached() -> set[str]:
        return ObjectStore.ids_in(cache)

    before = cached()
    assert 0 < len(before) < len(bucket.ids()), (before, bucket.ids())  # a full cache, not all of the vault
    code, out, err = run(["verify"], capsys)
    assert code == 0, out + err
    assert cached() == before  # what people were reading is still there
    code, out, err = run(["backup", str(tmp_path / "usb")], capsys)  # a backup reads the whole vault too
    assert code == 0, out + err
    assert cached() == before
    # A damaged object in the bucket is found even when a sound copy sits in the cache.
    victim = sorted(before)[0]
    name = f"{bucket.prefix}{victim[:2]}/{victim}"
    data = bytearray(bucket.client.get_object(Bucket=OBJECTS_BUCKET, Key=name)["Body"].read())
    data[len(data) // 2] ^= 0x01
    bucket.client.put_object(Bucket=OBJECTS_BUCKET, Key=name, Body=bytes(data))
    code, out, err = run(["verify"], capsys)
    assert code == 3 and victim in "".join(line for line in (out + err).splitlines() if "damaged" in line.lower()
                                           or victim in line), out + err


# ---- one cache folder, several stores --------------------------------------------------------------


def _on_disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("??/*") if p.is_file())


def test_two_stores_sharing_one_cache_folder_keep_one_limit(bucket: Bucket, home_path: Path,  # noqa: F811
                                                             tmp_path: Path) -> None:
    limit = 1_000_000
    shared = tmp_path / "shared-cache"
    where = BucketObjects(bucket.spec, _options(), cache_folder=shared, cache_bytes=limit)
    with open_home(home_path, PASSPHRASE, objects=where) as first, \
            open_home(home_path, PASSPHRASE, objects=where) as second:  # e.g. `serve` and a command beside it
        sealed: list[tuple[Any, RecordId, Any, Any, bytes]] = []
        for i in range(8):
            home = first if i % 2 == 0 else second
            rid, data = RecordId(f"r{i}"), os.urandom(300_000)
            key = home.blobs.new_data_key(rid)
            ref = home.blobs.seal(rid, key, BlobRole.ORIGINAL, io.BytesIO(data)).ref
            sealed.append((home, rid, key, ref, data))
            assert _on_disk(shared) <= limit, f"after {i + 1} objects the folder holds {_on_disk(shared)} bytes"
            assert ref.object_id in ObjectStore.ids_in(shared)  # the newest is kept
        assert first.blobs.cache.total == second.blobs.cache.total == _on_disk(shared)  # type: ignore[attr-defined]
        # Each store reads back what it sealed, fetching what the other pushed out, within the one limit.
        for home, rid, key, ref, data in sealed:
            assert b"".join(home.blobs.open(rid, key, ref)) == data
            assert _on_disk(shared) <= limit
    # A new process counts the folder afresh, and a smaller limit holds at once.
    with open_home(home_path, PASSPHRASE, objects=BucketObjects(bucket.spec, _options(), cache_folder=shared,
                                                                 cache_bytes=400_000)) as home:
        assert _on_disk(shared) <= 400_000
        assert home.blobs.cache.total == _on_disk(shared)  # type: ignore[attr-defined]
