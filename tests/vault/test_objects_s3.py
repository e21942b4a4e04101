"""Sealed objects in an S3-compatible bucket (setting `objects`), against the real SeaweedFS on loopback.

Filing, search, opening, disposal, verify and backups work as with objects/; the local read cache
holds sealed bytes only and stays within its limit; an unreachable bucket is one sentence; and the
bucket's raw data (SeaweedFS's own disk) and the cache hold no word of any document or title.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from records.model import BlobRole, RecordId
from tests.conftest import PASSPHRASE
from tests.records.test_cli import cli_home, run  # noqa: F401  (the fixture: a home with the default plan)
from tests.vault.servers import S3_KEY_ID, S3_SECRET, SeaweedS3, free_port, seaweed  # noqa: F401
from vault import BucketObjects, StorageUnavailable, TargetOptions, open_home
from vault.objects import ObjectStore
from vault.s3objects import CACHE_FOLDER, MARKER

Scan = Callable[[Iterable[Path | str], Iterable[str]], list[str]]
OBJECTS_BUCKET = "office-objects"  # a dash, as real offices name buckets
# In file names (so in titles) and in the text: none may reach the bucket or the cache in plaintext.
CANARIES = ["Kvarkadabra", "Zlatorogovski", "Bukovnisko", "Triglavnica", "Smaragdnica"]
LETTER = "Dopis Smaragdnica o zamudi, Bukovnisko.\n"
CONTRACT = "Pogodba Bukovnisko, dobava Triglavnica.\n"


@dataclass
class Bucket:
    spec: str
    prefix: str
    client: Any
    server: SeaweedS3

    def ids(self) -> set[str]:
        """The object ids stored under the prefix (the marker left out)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=OBJECTS_BUCKET, Prefix=self.prefix)
        names = {item["Key"][len(self.prefix):] for page in pages for item in page.get("Contents", ())}
        return {name.split("/")[-1] for name in names if name != MARKER}


@pytest.fixture
def bucket(seaweed: SeaweedS3, cli_home: Path, monkeypatch: pytest.MonkeyPatch) -> Bucket:  # noqa: F811
    """`cli_home` keeping its objects under a new prefix of a bucket on the loopback SeaweedFS."""
    prefix = f"homes/{uuid.uuid4().hex[:12]}"
    spec = f"s3:{seaweed.endpoint}/{OBJECTS_BUCKET}/{prefix}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_KEY_ID)  # the same variables as the S3 backup target's
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET)
    monkeypatch.setenv("STRONGROOM_OBJECTS", spec)
    return Bucket(spec, prefix + "/", seaweed.client(), seaweed)


def _file(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, *extra: str) -> str:
    doc = tmp_path / "docs" / name
    doc.parent.mkdir(exist_ok=True)
    doc.write_text(text, encoding="utf-8")
    code, out, err = run(["import", str(doc), "--json", *extra], capsys)
    assert code == 0, err
    return str(json.loads(out)[0]["id"])


def _blob_ids(home: Path, rid: str) -> set[str]:
    with open_home(home, PASSPHRASE) as opened:
        return {b.object_id for b in opened.catalog.get(RecordId(rid)).blobs}


def _cached(home: Path) -> set[str]:
    return ObjectStore.ids_in(home / CACHE_FOLDER)


def _options() -> TargetOptions:
    return TargetOptions(s3_access_key_id=S3_KEY_ID, s3_secret_access_key=S3_SECRET, timeout_seconds=5)


def test_a_home_on_a_bucket_files_searches_opens_verifies_and_disposes(
        bucket: Bucket, cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        canary_scan: Scan) -> None:
    contract = _file(tmp_path, capsys, "Kvarkadabra-pogodba.txt", CONTRACT, "--class", "contracts")
    letter = _file(tmp_path, capsys, "Zlatorogovski.txt", LETTER, "--class", "correspondence",
                   "--document-date", "2019-04-01")
    blobs = _blob_ids(cli_home, contract) | _blob_ids(cli_home, letter)
    assert bucket.ids() == blobs  # each record's original and text rendition, in the bucket
    assert ObjectStore.ids_in(cli_home / "objects") == set()  # and nothing in objects/
    assert _cached(cli_home) == blobs  # just filed: in the read cache too (sealed)

    code, out, err = run(["search", "Bukovnisko", "--json"], capsys)
    assert code == 0 and {h["id"] for h in json.loads(out)["hits"]} == {contract, letter}, err
    target = tmp_path / "out.txt"
    assert run(["get", contract, "-o", str(target)], capsys)[0] == 0 and target.read_text() == CONTRACT
    code, out, err = run(["verify"], capsys)
    assert code == 0, out + err

    # What a thief of the bucket's disks, or of the office PC's cache, would have: no word of any of it.
    assert canary_scan([bucket.server.data, cli_home / CACHE_FOLDER, cli_home], CANARIES) == []

    assert run(["settings", "set", "require-second-approver", "off"], capsys)[0] == 0  # an office of one
    code, _, err = run(["dispose", letter, "--as-of", "2026-01-01", "--reason", "Retention ended", "--yes"], capsys)
    assert code == 0, err
    gone = _blob_ids(cli_home, letter) or (blobs - _blob_ids(cli_home, contract))
    assert not gone & bucket.ids() and not gone & _cached(cli_home)  # deleted from the bucket and the cache
    assert bucket.ids() == _blob_ids(cli_home, contract)
    code, out, err = run(["verify"], capsys)
    assert code == 0, out + err


def test_a_cold_cache_after_a_restart_reads_from_the_bucket(
        bucket: Bucket, cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    rid = _file(tmp_path, capsys, "Kvarkadabra-pogodba.txt", CONTRACT, "--class", "contracts")
    for path in (cli_home / CACHE_FOLDER).rglob("*"):
        if path.is_file():
            path.unlink()
    assert _cached(cli_home) == set()
    target = tmp_path / "out.txt"
    code, _, err = run(["get", rid, "-o", str(target)], capsys)
    assert code == 0 and target.read_text() == CONTRACT, err
    original = {b.object_id for b in _record_blobs(cli_home, rid) if b.role == BlobRole.ORIGINAL}
    assert original <= _cached(cli_home)  # fetched once, kept for the next reader
    code, out, err = run(["search", "Triglavnica", "--json"], capsys)  # the snippet reads the text rendition
    assert code == 0 and [h["id"] for h in json.loads(out)["hits"]] == [rid], err
    assert run(["verify"], capsys)[0] == 0


def _record_blobs(home: Path, rid: str) -> tuple[Any, ...]:
    with open_home(home, PASSPHRASE) as opened:
        return opened.catalog.get(RecordId(rid)).blobs


def test_the_cache_stays_within_its_limit_and_evicts_the_least_recently_used(
        bucket: Bucket, home_path: Path) -> None:
    limit = 1_000_000
    where = BucketObjects(bucket.spec, _options(), cache_bytes=limit)
    payloads = {f"r{i}": os.urandom(300_000) for i in range(5)}
    with open_home(home_path, PASSPHRASE, objects=where) as home:
        sealed = {}
        for rid, data in payloads.items():
            key = home.blobs.new_data_key(RecordId(rid))
            sealed[rid] = (key, home.blobs.seal(RecordId(rid), key, BlobRole.ORIGINAL, io.BytesIO(data)).ref)
            on_disk = sum(p.stat().st_size for p in (home_path / CACHE_FOLDER).rglob("*") if p.is_file())
            assert on_disk <= limit
        ids = {rid: ref.object_id for rid, (_, ref) in sealed.items()}
        assert bucket.ids() == set(ids.values())  # every one durable in the bucket
        assert _cached(home_path) == {ids["r2"], ids["r3"], ids["r4"]}  # three fit; the oldest went first

        def read(rid: str) -> bytes:
            key, ref = sealed[rid]
            return b"".join(home.blobs.open(RecordId(rid), key, ref))

        assert read("r3") == payloads["r3"]  # a hit: r3 is now the most recently used
        assert read("r0") == payloads["r0"]  # a miss: fetched from the bucket, pushing out r2, not r3
        assert _cached(home_path) == {ids["r4"], ids["r3"], ids["r0"]}
        assert read("r1") == payloads["r1"] and ids["r4"] not in _cached(home_path)
        assert not list((home_path / CACHE_FOLDER).rglob(".tmp-*"))
    # A new process starts from what the folder holds and keeps the limit.
    with open_home(home_path, PASSPHRASE, objects=BucketObjects(bucket.spec, _options(), cache_bytes=400_000)):
        assert len(_cached(home_path)) == 1


def test_an_unreachable_bucket_is_one_sentence_and_files_nothing(
        bucket: Bucket, cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    rid = _file(tmp_path, capsys, "Kvarkadabra-pogodba.txt", CONTRACT, "--class", "contracts")
    dead = f"s3:http://127.0.0.1:{free_port()}/{OBJECTS_BUCKET}/{bucket.prefix.rstrip('/')}"
    monkeypatch.setenv("STRONGROOM_OBJECTS", dead)
    doc = tmp_path / "docs" / "Smaragdnica.txt"
    doc.write_text(LETTER, encoding="utf-8")
    code, out, err = run(["import", str(doc), "--json"], capsys)
    assert code != 0 and "Traceback" not in out + err, out + err
    [outcome] = json.loads(out)
    assert outcome["status"] == "rejected" and outcome["id"] is None, outcome
    reason = outcome["reason"]
    assert reason.startswith("The sealed objects cannot be reached: the S3 service at http://127.0.0.1:"), reason
    assert reason.count(". ") == 0 and reason.endswith("try again."), reason  # one sentence
    with open_home(cli_home, PASSPHRASE) as home:
        assert [r.id for r in home.catalog.find()] == [rid]  # nothing committed without its objects
    # A cached object still opens while the bucket is away; an uncached one is the same one sentence.
    target = tmp_path / "out.txt"
    assert run(["get", rid, "-o", str(target)], capsys)[0] == 0 and target.read_text() == CONTRACT
    for path in (cli_home / CACHE_FOLDER).rglob("*"):
        if path.is_file():
            path.unlink()
    code, out, err = run(["get", rid, "-o", str(tmp_path / "again.txt")], capsys)
    assert code == 1 and "Traceback" not in err and "cannot be reached" in err, err
    assert len(err.strip().splitlines()) == 1, err


def test_a_backup_of_a_bucket_home_verifies_and_restores(
        bucket: Bucket, cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    (cli_home / "strongroom.toml").write_text(f'objects = "{bucket.spec}"\n')  # as an office writes it
    monkeypatch.delenv("STRONGROOM_OBJECTS")
    rid = _file(tmp_path, capsys, "Kvarkadabra-pogodba.txt", CONTRACT, "--class", "contracts")
    dest = tmp_path / "usb" / "backup"
    code, out, err = run(["backup", str(dest)], capsys)
    assert code == 0 and "2 objects, 2 new" in out, err
    assert ObjectStore.ids_in(dest / "objects") == bucket.ids()
    assert run(["verify-backup", str(dest)], capsys)[0] == 0

    # A restore drill next to the live home: its objects stay in its own objects/ folder.
    drill = tmp_path / "drill"
    code, out, err = run(["restore", str(dest), "--home", str(drill)], capsys)
    assert code == 0 and "The home is sound" in out and "keeps them in" in out, out + err
    assert "objects" not in (drill / "strongroom.toml").read_text().split()
    assert ObjectStore.ids_in(drill / "objects") == bucket.ids()
    target = tmp_path / "drill.txt"
    assert run(["--home", str(drill), "get", rid, "-o", str(target)], capsys)[0] == 0
    assert target.read_text() == CONTRACT
    # The drill home pointed at the live home's bucket is refused: its sweep would delete newer objects.
    monkeypatch.setenv("STRONGROOM_OBJECTS", bucket.spec)
    code, _, err = run(["--home", str(drill), "get", rid, "-o", str(tmp_path / "x.txt")], capsys)
    assert code == 1 and "another copy of this home" in err, err

    # The office PC is lost: the new one takes the bucket over.
    new = tmp_path / "new-pc"
    code, out, err = run(["restore", str(dest), "--home", str(new), "--take-over-objects"], capsys)
    assert code == 0 and "The home is sound" in out and "(0 uploaded)" in out, out + err
    assert ObjectStore.ids_in(new / "objects") == set()
    target = tmp_path / "new.txt"
    assert run(["--home", str(new), "get", rid, "-o", str(target)], capsys)[0] == 0
    assert target.read_text() == CONTRACT
    for path in (cli_home / CACHE_FOLDER).rglob("*"):
        if path.is_file():
            path.unlink()
    code, _, err = run(["get", rid, "-o", str(tmp_path / "old.txt")], capsys)  # the old home no longer holds it
    assert code == 1 and "another copy of this home" in err, err


def test_another_home_cannot_use_a_prefix_in_use(bucket: Bucket, home_path: Path, tmp_path: Path,
                                                 fast_kdf: Callable[[], Any]) -> None:
    from vault import init_home
    where = BucketObjects(bucket.spec, _options())
    with open_home(home_path, PASSPHRASE, objects=where) as home:
        key = home.blobs.new_data_key(RecordId("r"))
        home.blobs.seal(RecordId("r"), key, BlobRole.ORIGINAL, io.BytesIO(b"x"))
    other = tmp_path / "other"
    init_home(other, PASSPHRASE, kdf=fast_kdf())
    with open_home(other, PASSPHRASE, objects=where) as home:
        key = home.blobs.new_data_key(RecordId("r"))
        with pytest.raises(Exception, match="another home") as info:
            home.blobs.seal(RecordId("r"), key, BlobRole.ORIGINAL, io.BytesIO(b"y"))
        assert not isinstance(info.value, StorageUnavailable)
    assert len(bucket.ids()) == 1
