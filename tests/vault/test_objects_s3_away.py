"""The drop-folder watcher while the bucket of sealed objects is away: nothing is lost or committed,
one sentence says why filing waits, and the file is filed once the bucket is back (a real SeaweedFS on
loopback, stopped and started again at the same address)."""

from __future__ import annotations

import io
import logging
import secrets
import uuid
from collections.abc import Iterator
from typing import Any
from pathlib import Path

import pytest

from records.filing import FilingOutcome, FilingStatus
from tests.conftest import PASSPHRASE
from tests.records.conftest import PlainExtractor
from tests.records.test_cli import cli_home  # noqa: F401  (the fixture: a home with the default plan)
from tests.vault.inbox.conftest import wait_for
from tests.web.conftest import add_users, login
from tests.vault.servers import S3_KEY_ID, S3_SECRET, SeaweedProcess
from vault import BucketObjects, StorageUnavailable, TargetOptions, open_home
from vault.backuptarget.s3 import PART
from vault.s3objects import MARKER
from vault.sealed import OBJECT_ID_SIZE
from vault.sessions import SESSIONS_DIR
from web.app import create_app
from web.office import Office
from web.settings import Settings

LETTER = "Dopis o zamudi dobave.\n"


@pytest.fixture
def weed(tmp_path: Path) -> Iterator[SeaweedProcess]:
    process = SeaweedProcess(tmp_path / "seaweedfs")
    process.start()
    try:
        yield process
    finally:
        process.stop()


def test_the_watcher_waits_for_an_unreachable_bucket_and_files_when_it_is_back(
        weed: SeaweedProcess, cli_home: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("STRONGROOM_OBJECTS", f"s3:{weed.server.endpoint}/office-objects/{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET)
    monkeypatch.setenv("STRONGROOM_STABILITY_SECONDS", "0.3")
    monkeypatch.setenv("STRONGROOM_RESCAN_SECONDS", "1")  # the watcher tries the bucket again as often
    caplog.set_level(logging.INFO, logger="strongroom.intake")
    outcomes: list[FilingOutcome] = []
    with Office.open(Settings.load(), passphrase=PASSPHRASE, extractor=PlainExtractor()) as office:
        folder = cli_home / "inbox" / office.plan.resolve("correspondence").slug  # type: ignore[union-attr]
        add_users(office.home)
        browser = create_app(office, secret_key=b"test-only-secret-key-0123456789").test_client()
        assert login(browser, "anna") == 302

        def start_page() -> str:
            return browser.get("/").get_data(as_text=True)

        watcher = office.start_watcher(on_result=outcomes.append)  # as `serve` and `watch` start it
        try:
            (folder / "first.txt").write_text(LETTER, encoding="utf-8")
            wait_for(lambda: any(o.status is FilingStatus.FILED for o in outcomes), 60, "the first filing")

            weed.stop()  # the bucket goes away
            dropped = folder / "late.txt"
            dropped.write_text("Dopis, ki pride med izpadom.\n", encoding="utf-8")
            wait_for(lambda: watcher.paused is not None, 120, "filing to pause")
            [returned] = [o for o in outcomes if o.status is FilingStatus.RETURNED]
            reason = returned.reason
            assert reason == watcher.paused
            assert reason.startswith("Filing waits and the file stays in its drop folder until the bucket answers: "
                                     "the sealed objects cannot be reached: the S3 service at "), reason
            assert reason.count(". ") == 0 and reason.endswith("."), reason  # one sentence
            assert dropped.read_text(encoding="utf-8").startswith("Dopis, ki pride")  # nothing lost
            assert watcher.running and watcher.error is None  # the watcher waits; it does not stop
            assert office.filing_paused() == reason and 'id="filing-paused"' in start_page()

            weed.start()  # the bucket is back at the same address
            wait_for(lambda: not dropped.exists() and watcher.paused is None, 120, "the late file to be filed")
            wait_for(lambda: sum(o.status is FilingStatus.FILED for o in outcomes) == 2, 30, "its outcome")
            assert office.filing_paused() is None and 'id="filing-paused"' not in start_page()
        finally:
            watcher.stop()
        assert watcher.error is None, watcher.error
        assert len(office.home.catalog.find()) == 2  # each filed once
        assert office.home.verify() == []
    said = [r.getMessage() for r in caplog.records if r.name == "strongroom.intake" and r.levelno >= logging.WARNING]
    assert said.count(reason) == 1, said  # said once, however many times it tried again
    assert "filing resumed: the sealed objects can be reached again" in said
    assert [o.status for o in outcomes].count(FilingStatus.RETURNED) == 1


class _GoesAway(io.RawIOBase):
    """Sealed bytes in parts; the bucket goes away once the first part has been read (mid-upload)."""

    def __init__(self, size: int, weed: SeaweedProcess) -> None:
        self._left = size
        self._weed = weed
        self._reads = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self._reads += 1
        if self._reads == 3:  # after the first part went up: S3Target.put reads two parts ahead of it
            self._weed.stop()
        n = self._left if size < 0 else min(size, self._left)
        self._left -= n
        return b"\0" * n


def _unfinished(weed: SeaweedProcess, prefix: str) -> list[str]:
    found = weed.server.client().list_multipart_uploads(Bucket="office-objects", Prefix=prefix)  # type: ignore[attr-defined]
    return [str(u["Key"]) for u in found.get("Uploads", ())]


def _back(weed: SeaweedProcess, prefix: str) -> None:
    """Start the bucket again and wait until it serves objects (its S3 gateway answers before its
    volume server does)."""
    weed.start()
    client: Any = weed.server.client()

    def serves() -> bool:
        try:
            client.get_object(Bucket="office-objects", Key=f"{prefix}/{MARKER}")["Body"].read()
            return True
        except Exception:  # noqa: BLE001 - not yet
            return False
    wait_for(serves, 60, "the restarted bucket to serve objects")


def test_a_failed_upload_is_aborted_when_the_bucket_is_back_or_swept_at_the_next_open(
        weed: SeaweedProcess, home_path: Path) -> None:
    prefix = f"homes/{uuid.uuid4().hex[:8]}"
    where = BucketObjects(f"s3:{weed.server.endpoint}/office-objects/{prefix}",
                          TargetOptions(s3_access_key_id=S3_KEY_ID, s3_secret_access_key=S3_SECRET, timeout_seconds=5))
    sessions = home_path / SESSIONS_DIR

    # The bucket goes away mid-upload and is back before the home closes: the next call aborts it.
    with open_home(home_path, PASSPHRASE, objects=where) as home:
        assert home.blobs.sizes() == {}  # reached: this home holds the prefix
        with pytest.raises(StorageUnavailable):
            home.blobs.put_sealed(secrets.token_hex(OBJECT_ID_SIZE), _GoesAway(3 * PART, weed))  # type: ignore[attr-defined]
        _back(weed, prefix)
        assert _unfinished(weed, prefix), "the abort cannot have reached a stopped bucket"
        home.blobs.put_sealed(secrets.token_hex(OBJECT_ID_SIZE), io.BytesIO(b"small"))  # type: ignore[attr-defined]
        assert _unfinished(weed, prefix) == []
    assert not any(sessions.iterdir())  # nothing left to sweep

    # Away until the home closes: the session is left to be swept, and the next open alone aborts it.
    with open_home(home_path, PASSPHRASE, objects=where) as home:
        with pytest.raises(StorageUnavailable):
            home.blobs.put_sealed(secrets.token_hex(OBJECT_ID_SIZE), _GoesAway(3 * PART, weed))  # type: ignore[attr-defined]
    assert any(sessions.iterdir())
    _back(weed, prefix)
    assert _unfinished(weed, prefix)
    with open_home(home_path, PASSPHRASE, objects=where) as home:
        assert home.session.interrupted
    assert _unfinished(weed, prefix) == []
    assert not any(sessions.iterdir())
