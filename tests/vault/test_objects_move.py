"""`strongroom objects move-to`: an existing home's objects/ moved into a bucket (the real SeaweedFS on
loopback), killed midway, damaged in the bucket, disposed of in between, and run again until it ends."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE
from tests.records.test_cli import cli_home, run  # noqa: F401  (the fixture: a home with the default plan)
from tests.reliability.crash_support import Child
from tests.vault.servers import S3_KEY_ID, S3_SECRET, SeaweedS3, seaweed  # noqa: F401
from tests.vault.test_objects_s3 import OBJECTS_BUCKET, Bucket
from vault import open_home
from vault.objects import ObjectStore

DOCUMENTS = 30


def _referenced(home: Path) -> dict[str, str]:
    """object id -> record id, for every record's objects."""
    with open_home(home, PASSPHRASE) as opened:
        return {b.object_id: r.id for r in opened.catalog.find() for b in r.blobs
                if opened.catalog.data_key(r.id) is not None}


def _toml(home: Path) -> str:
    path = home / "strongroom.toml"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_moving_objects_into_a_bucket_resumes_verifies_and_switches(
        seaweed: SeaweedS3, cli_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET)
    prefix = f"moved/{uuid.uuid4().hex[:12]}"
    spec = f"s3:{seaweed.endpoint}/{OBJECTS_BUCKET}/{prefix}"
    b = Bucket(spec, prefix + "/", seaweed.client(), seaweed)
    if OBJECTS_BUCKET not in {x["Name"] for x in b.client.list_buckets().get("Buckets", ())}:
        b.client.create_bucket(Bucket=OBJECTS_BUCKET)  # as an office makes it; the move would too
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(DOCUMENTS):
        (docs / f"dopis-{i:02d}.txt").write_text(f"Dopis {i} o dobavi.\n", encoding="utf-8")
    code, out, err = run(["import", str(docs), "--class", "correspondence", "--document-date", "2019-04-01",
                          "--json"], capsys)
    assert code == 0, err
    local = ObjectStore.ids_in(cli_home / "objects")
    assert len(local) == 2 * DOCUMENTS and set(_referenced(cli_home)) == local

    # Killed midway: part of the objects are in the bucket; the home still keeps them in objects/.
    child = Child.start(cli_home, ["objects", "move-to", spec], AWS_ACCESS_KEY_ID=S3_KEY_ID,
                        AWS_SECRET_ACCESS_KEY=S3_SECRET)
    child.wait_until(lambda: len(b.ids()) >= 12, timeout=120)
    assert child.kill(), "the move ended before the kill: " + "".join(child.err)
    sent = b.ids()
    assert 0 < len(sent) < len(local), sent
    assert "objects" not in _toml(cli_home) and ObjectStore.ids_in(cli_home / "objects") == local
    target = tmp_path / "out.txt"
    some = next(iter(_referenced(cli_home).values()))
    assert run(["get", some, "-o", str(target)], capsys)[0] == 0  # the home works on, from objects/

    # Meanwhile a record whose objects were already sent is disposed of, and one sent object is damaged.
    referenced = _referenced(cli_home)
    disposed = next(rid for oid, rid in sorted(referenced.items()) if oid in sent)
    assert run(["settings", "set", "require-second-approver", "off"], capsys)[0] == 0
    code, _, err = run(["dispose", disposed, "--as-of", "2026-01-01", "--reason", "Retention ended", "--yes"],
                       capsys)
    assert code == 0, err
    gone = {oid for oid, rid in referenced.items() if rid == disposed}
    victim = sorted(sent - gone)[0]
    key = f"{b.prefix}{victim[:2]}/{victim}"
    data = bytearray(b.client.get_object(Bucket=OBJECTS_BUCKET, Key=key)["Body"].read())
    data[len(data) // 2] ^= 0x01  # the same size: only reading it back finds it
    b.client.put_object(Bucket=OBJECTS_BUCKET, Key=key, Body=bytes(data))

    code, out, err = run(["objects", "move-to", spec], capsys)
    assert code == 1 and "Traceback" not in err, out + err
    assert f"did not arrive whole in {spec} (the first: {victim})" in err and "run the move again" in err, err
    assert "objects" not in _toml(cli_home)  # not switched
    assert victim not in b.ids() and not gone & b.ids()  # the bad copy and the disposed record's are gone

    code, out, err = run(["objects", "move-to", spec], capsys)
    assert code == 0, out + err
    remaining = local - gone
    assert f"{len(remaining)} objects are in {spec}, each read back and authenticated (" in out, out
    assert f"{len(remaining)} local copies removed." in out and f'objects = "{spec}"' in out, out
    assert f'objects = "{spec}"' in _toml(cli_home)
    assert ObjectStore.ids_in(cli_home / "objects") == set()
    assert b.ids() == remaining == set(_referenced(cli_home))
    code, out, err = run(["verify"], capsys)
    assert code == 0, out + err
    assert run(["get", some if some != disposed else next(iter(_referenced(cli_home).values())),
                "-o", str(tmp_path / "after.txt")], capsys)[0] == 0
    with open_home(cli_home, PASSPHRASE) as home:
        moves = [dict(e.event.details) for e in home.catalog.audit_entries() if e.event.action == "vault.objects.move"]
    assert moves == [{"to": spec, "objects": str(len(remaining)), "uploaded": moves[0]["uploaded"],
                      "switched": "yes"}]
    assert 0 < int(moves[0]["uploaded"]) < len(remaining)  # the rerun sent only what the killed run had not

    # Run once more: nothing left to move is no error, and nothing changes.
    code, out, err = run(["objects", "move-to", spec], capsys)
    assert code == 0 and "0 uploaded now); 0 local copies removed." in out, out + err
    code, _, err = run(["objects", "move-to", f"s3:{seaweed.endpoint}/{OBJECTS_BUCKET}/elsewhere"], capsys)
    assert code == 1 and "already keeps its objects in" in err, err


def test_a_move_is_refused_while_another_process_has_the_home_open(
        seaweed: SeaweedS3, cli_home: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET)
    spec = f"s3:{seaweed.endpoint}/{OBJECTS_BUCKET}/busy-{uuid.uuid4().hex[:8]}"
    with open_home(cli_home, PASSPHRASE):  # e.g. `serve`
        code, out, err = run(["objects", "move-to", spec], capsys)
    assert code == 1 and "Another Strongroom process has this home open" in err, out + err
    assert "objects" not in _toml(cli_home)
