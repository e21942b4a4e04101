"""The rejected folder: each file listed with its reason, sent back to a drop folder, or discarded;
companions (reason, sidecar) go with it and nothing is followed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vault.inbox import RejectedFolder, RejectedNotFound
from vault.inbox.errors import IntakeError


@pytest.fixture
def folder(tmp_path: Path) -> RejectedFolder:
    home = tmp_path / "home"
    (home / "rejected").mkdir(parents=True)
    (home / "inbox" / "contracts").mkdir(parents=True)
    (home / "inbox" / "_unsorted").mkdir()
    return RejectedFolder(home, frozenset({"contracts"}))


def _reject(folder: RejectedFolder, name: str, reason: str, data: bytes = b"x") -> None:
    (folder.path / name).write_bytes(data)
    (folder.path / f"{name}.reason.txt").write_text(reason + "\n", encoding="utf-8")


def test_files_are_listed_with_their_reasons(folder: RejectedFolder) -> None:
    _reject(folder, "pogodba.pdf", "The PDF could not be read.")
    (folder.path / "pogodba.pdf.json").write_text("{}")
    _reject(folder, "račun.txt", "The file is empty.")
    listed = {f.original_name: f.note for f in folder.files()}
    assert listed == {"pogodba.pdf": "The PDF could not be read.", "račun.txt": "The file is empty."}


def test_retry_moves_the_file_and_its_sidecar_back_and_drops_the_reason(folder: RejectedFolder) -> None:
    _reject(folder, "pogodba.pdf", "The PDF could not be read.", b"%PDF-1.4")
    (folder.path / "pogodba.pdf.json").write_text('{"title": "Najem"}')
    (folder.inbox / "contracts" / "pogodba.pdf").write_bytes(b"another file of that name")
    moved = folder.retry("pogodba.pdf", "contracts")
    assert moved == "pogodba (2).pdf"
    assert (folder.inbox / "contracts" / moved).read_bytes() == b"%PDF-1.4"
    assert (folder.inbox / "contracts" / f"{moved}.json").read_text() == '{"title": "Najem"}'
    assert os.listdir(folder.path) == []
    _reject(folder, "b.txt", "No class.")
    assert folder.retry("b.txt", "_unsorted") == "b.txt" and (folder.inbox / "_unsorted" / "b.txt").exists()


def test_discard_deletes_the_entry_and_its_companions(folder: RejectedFolder, tmp_path: Path) -> None:
    target = tmp_path / "outside.txt"
    target.write_text("keep me")
    (folder.path / "link.txt").symlink_to(target)
    (folder.path / "link.txt.reason.txt").write_text("A symbolic link is never followed.")
    assert [f.note for f in folder.files()] == ["A symbolic link is never followed."]
    with pytest.raises(IntakeError, match="not a regular file"):
        folder.retry("link.txt", "contracts")
    folder.discard("link.txt")
    assert os.listdir(folder.path) == [] and target.read_text() == "keep me"


@pytest.mark.parametrize("name", ["", "..", "../inbox/x", "nothing.pdf", "a.pdf.reason.txt"])
def test_unknown_or_unsafe_names_are_refused(folder: RejectedFolder, name: str) -> None:
    _reject(folder, "a.pdf", "Bad.")
    with pytest.raises(RejectedNotFound):
        folder.discard(name)
    with pytest.raises(RejectedNotFound):
        folder.retry(name, "contracts")


def test_retry_only_into_a_drop_folder(folder: RejectedFolder) -> None:
    _reject(folder, "a.pdf", "Bad.")
    with pytest.raises(IntakeError, match="no drop folder"):
        folder.retry("a.pdf", "../../etc")
    assert (folder.path / "a.pdf").exists()
