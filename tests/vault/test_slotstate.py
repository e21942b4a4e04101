"""Every change of keys.json's slots is an audit entry: made by the key change itself, or by the
next open when the change died before its entry (or keys.json was swapped behind Strongroom)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from records.audit import AuditEntry
from tests.conftest import PASSPHRASE
from vault import KdfParams, backup_home, init_home, keyslots, open_home, restore_backup, slotstate

SLOT_ACTIONS = (slotstate.UNRECORDED, slotstate.BASELINE)


def _entries(home_path: Path, after: int = 0) -> list[AuditEntry]:
    """The audit entries after seq `after`, read by an open (which reconciles first)."""
    with open_home(home_path, PASSPHRASE) as home:
        assert home.verify() == []
        return list(home.catalog.audit_entries(after))


def _head(home_path: Path) -> int:
    return _entries(home_path)[-1].seq


def _slot_entries(entries: list[AuditEntry]) -> list[AuditEntry]:
    return [e for e in entries if e.event.action in SLOT_ACTIONS]


def _behind_the_catalogue(home_path: Path, change: Callable[[keyslots.KeyFile, bytes], keyslots.KeyFile]) -> None:
    """Rewrite keys.json with the keyslots functions only, as a key change killed before its COMMIT."""
    keyfile = keyslots.load(home_path / "keys.json")
    master, _ = keyslots.unlock_passphrase(keyfile, PASSPHRASE)
    keyslots.save(home_path / "keys.json", change(keyfile, master))


def test_a_normal_key_change_is_its_own_entry_and_nothing_more(home_path: Path,
                                                                 fast_kdf: Callable[[], KdfParams]) -> None:
    start = _head(home_path)
    with open_home(home_path, PASSPHRASE) as home:
        added = home.add_passphrase("a second passphrase", actor="ana", kdf=fast_kdf())
        changed = home.change_passphrase("a changed passphrase", actor="ana", slot_id=added, kdf=fast_kdf())
        home.remove_passphrase(changed, actor="ana")
        home.new_recovery_key(actor="ana")
    entries = _entries(home_path, start)
    assert [e.event.action for e in entries] == ["key.passphrase.add", "key.passphrase.change",
                                                 "key.passphrase.remove", "key.recovery.replace"]
    assert _slot_entries(_entries(home_path, start)) == []


def test_keys_json_replaced_without_its_entry_is_audited_once_by_the_next_open(
        home_path: Path, fast_kdf: Callable[[], KdfParams]) -> None:
    start = _head(home_path)
    added: list[str] = []

    def add(keyfile: keyslots.KeyFile, master: bytes) -> keyslots.KeyFile:
        keyfile, slot_id = keyslots.add_passphrase(keyfile, master, "slipped in unaudited", fast_kdf())
        added.append(slot_id)
        return keyfile
    _behind_the_catalogue(home_path, add)

    [entry] = _slot_entries(_entries(home_path, start))
    assert entry.event.action == slotstate.UNRECORDED and entry.event.outcome == "recovered"
    assert entry.event.actor == slotstate.ACTOR
    assert dict(entry.event.details) == {"added": f"{added[0]}:passphrase"}
    assert _slot_entries(_entries(home_path, entry.seq)) == []  # recorded: the next open is quiet
    open_home(home_path, "slipped in unaudited").close()


def test_an_old_keys_json_restored_by_hand_names_the_slot_it_brings_back(
        home_path: Path, fast_kdf: Callable[[], KdfParams]) -> None:
    with open_home(home_path, PASSPHRASE) as home:
        leaver = home.add_passphrase("the leaver's passphrase", actor="ana", kdf=fast_kdf())
        old = (home_path / "keys.json").read_bytes()
        home.remove_passphrase(leaver, actor="ana")
    start = _head(home_path)
    (home_path / "keys.json").write_bytes(old)

    [entry] = _slot_entries(_entries(home_path, start))
    assert dict(entry.event.details) == {"added": f"{leaver}:passphrase"}


def test_removed_and_rewritten_slots_are_named(home_path: Path, fast_kdf: Callable[[], KdfParams]) -> None:
    with open_home(home_path, PASSPHRASE) as home:
        second = home.add_passphrase("a second passphrase", actor="ana", kdf=fast_kdf())
    start = _head(home_path)
    recovery = next(s.slot_id for s in keyslots.load(home_path / "keys.json").slots
                    if s.kind is keyslots.SlotKind.RECOVERY)

    def remove_and_touch(keyfile: keyslots.KeyFile, master: bytes) -> keyslots.KeyFile:
        keyfile = keyslots.remove_slot(keyfile, second)  # same id, other bytes: counts as changed
        slots = tuple(dataclasses.replace(s, created="1999-01-01T00:00:00Z") if s.slot_id == recovery else s
                      for s in keyfile.slots)
        return dataclasses.replace(keyfile, slots=slots)
    _behind_the_catalogue(home_path, remove_and_touch)

    [entry] = _slot_entries(_entries(home_path, start))
    assert dict(entry.event.details) == {"removed": f"{second}:passphrase", "changed": f"{recovery}:recovery"}


def test_a_home_from_before_slot_states_records_a_baseline_once(
        tmp_path: Path, fast_kdf: Callable[[], KdfParams], monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        m.setattr(slotstate, "record", lambda tx, keyfile: None)  # as init did before this change
        init_home(tmp_path / "old", PASSPHRASE, kdf=fast_kdf())
    slots = sorted(f"{s.slot_id}:{s.kind}" for s in keyslots.load(tmp_path / "old" / "keys.json").slots)

    [entry] = _slot_entries(_entries(tmp_path / "old"))
    assert entry.event.action == slotstate.BASELINE and entry.event.outcome == "ok"
    assert dict(entry.event.details) == {"slots": ",".join(slots)}
    assert _slot_entries(_entries(tmp_path / "old", entry.seq)) == []


def test_a_restored_backup_opens_without_a_slot_entry(home_path: Path, tmp_path: Path,
                                                       fast_kdf: Callable[[], KdfParams]) -> None:
    with open_home(home_path, PASSPHRASE) as home:
        home.add_passphrase("a second passphrase", actor="ana", kdf=fast_kdf())
        backup_home(home, tmp_path / "backup")
    restored = restore_backup(tmp_path / "backup", tmp_path / "restored", PASSPHRASE)
    open_home(restored.path, PASSPHRASE, actor="ana").close()
    assert _slot_entries(_entries(tmp_path / "restored")) == []
