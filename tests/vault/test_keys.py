"""Key slots: KDF bounds, passphrases added/removed/changed, the recovery key, crash-safe keys.json."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from pathlib import Path

import pytest

from records.model import BlobRole, new_record_id
from tests.conftest import PASSPHRASE
from vault import (Home, KdfParams, KeyFileInvalid, KeyFileMissing, SlotError, WrongPassphrase,
                   WrongRecoveryKey, open_home)
from vault import kdf as kdf_module
from vault import keyslots
from vault.recoverykey import format_recovery_key, new_recovery_key, parse_recovery_key

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "vectors"


def _edit_slot(home_path: Path, **kdf_changes: object) -> None:
    doc = json.loads((home_path / "keys.json").read_text())
    slot = next(s for s in doc["slots"] if s["type"] == "passphrase")
    slot["kdf"].update(kdf_changes)
    (home_path / "keys.json").write_text(json.dumps(doc))


@pytest.mark.parametrize("changes", [
    {"m": 2**40}, {"t": 10**6}, {"p": 0}, {"p": 17}, {"t": 0}, {"salt": "00"}, {"alg": "bcrypt"},
    {"m": "262144"}, {"t": True}, {"m": 8192, "test": False}, {"m": 1}])
def test_out_of_bounds_kdf_params_are_rejected_before_the_kdf_runs(
        home_path: Path, changes: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    _edit_slot(home_path, **changes)
    ran: list[int] = []
    monkeypatch.setattr(kdf_module, "_argon2id", lambda *a: ran.append(1) or b"\0" * 32)
    start = time.perf_counter()
    with pytest.raises(KeyFileInvalid):
        open_home(home_path, PASSPHRASE)
    assert time.perf_counter() - start < 0.05
    assert ran == []


def test_default_params_are_the_documented_ones_and_never_test() -> None:
    p = KdfParams.default()
    assert (p.memory_kib, p.time_cost, p.lanes, p.test) == (256 * 1024, 3, 4, False)
    p.check()
    with pytest.raises(KeyFileInvalid):
        KdfParams(salt=os.urandom(16), memory_kib=8192, time_cost=1, lanes=1).check()  # no test flag


def test_wrong_passphrase_is_one_clear_error(home_path: Path) -> None:
    with pytest.raises(WrongPassphrase) as info:
        open_home(home_path, "not the passphrase")
    assert str(info.value) == ("The passphrase is wrong: nothing was unlocked. "
                               "Try again, or use the recovery key.")


def test_second_passphrase_added_and_used_then_removed(home: Home, home_path: Path) -> None:
    slot = home.add_passphrase("a second person's words", actor="ana")
    with open_home(home_path, "a second person's words") as second:
        assert second.unlocked_with == slot
        assert second.vault_id == home.vault_id
    home.remove_passphrase(slot, actor="ana")
    with pytest.raises(WrongPassphrase):
        open_home(home_path, "a second person's words")
    open_home(home_path, PASSPHRASE).close()
    actions = [e.event.action for e in home.catalog.audit_entries()]
    assert actions[-2:] == ["key.passphrase.add", "key.passphrase.remove"]


def test_last_passphrase_cannot_be_removed(home: Home) -> None:
    with pytest.raises(SlotError, match="last passphrase"):
        home.remove_passphrase(actor="ana")
    recovery = next(s for s in home.slots() if s.kind == "recovery")
    home.add_passphrase("another passphrase", actor="ana")
    with pytest.raises(SlotError, match="recovery slot"):
        home.remove_passphrase(recovery.slot_id, actor="ana")


def _object_hashes(home_path: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (home_path / "objects").rglob("*") if p.is_file()}


def test_change_rewrites_only_keys_json(home: Home, home_path: Path) -> None:
    rid = new_record_id()
    key = home.blobs.new_data_key(rid)
    blob = home.blobs.seal(rid, key, BlobRole.ORIGINAL, io.BytesIO(os.urandom(200_000)))
    before = _object_hashes(home_path)
    home.change_passphrase("a brand new passphrase", actor="ana")
    assert _object_hashes(home_path) == before and len(before) == 1
    with pytest.raises(WrongPassphrase):
        open_home(home_path, PASSPHRASE)
    with open_home(home_path, "a brand new passphrase") as again:
        assert len(b"".join(again.blobs.open(rid, key, blob.ref))) == 200_000


def test_recovery_key_opens_and_a_new_passphrase_can_be_set(home_path: Path, recovery_key: str) -> None:
    with open_home(home_path, recovery_key=recovery_key.lower().replace("-", " ")) as home:
        assert home.unlocked_with == "recovery"
        home.add_passphrase("set after recovery", actor="ana", kdf=KdfParams.fast_for_tests())
    open_home(home_path, "set after recovery").close()


def test_wrong_or_mistyped_recovery_key(home_path: Path, recovery_key: str) -> None:
    with pytest.raises(WrongRecoveryKey, match="does not open"):
        open_home(home_path, recovery_key=format_recovery_key(new_recovery_key()))
    typo = ("B" if recovery_key[0] != "B" else "C") + recovery_key[1:]
    with pytest.raises(WrongRecoveryKey, match="mistyped"):
        open_home(home_path, recovery_key=typo)


def test_replaced_recovery_key_stops_the_old_one(home: Home, home_path: Path, recovery_key: str) -> None:
    new = home.new_recovery_key(actor="ana")
    with pytest.raises(WrongRecoveryKey):
        open_home(home_path, recovery_key=recovery_key)
    open_home(home_path, recovery_key=new).close()


def test_recovery_key_format_round_trip() -> None:
    key = new_recovery_key()
    text = format_recovery_key(key)
    assert len(text.split("-")) == 14 and parse_recovery_key(text) == key


def test_missing_keys_json_says_how_to_restore(home_path: Path) -> None:
    (home_path / "keys.json").unlink()
    with pytest.raises(KeyFileMissing, match="restore keys.json from a backup"):
        open_home(home_path, PASSPHRASE)


def test_slot_copied_from_another_home_does_not_unwrap(home_path: Path, tmp_path: Path, fast_kdf) -> None:  # type: ignore[no-untyped-def]
    from vault import init_home
    other = tmp_path / "other"
    init_home(other, PASSPHRASE, kdf=fast_kdf())
    doc = json.loads((home_path / "keys.json").read_text())
    doc["slots"] = json.loads((other / "keys.json").read_text())["slots"]
    (home_path / "keys.json").write_text(json.dumps(doc))
    with pytest.raises(WrongPassphrase):  # the AD binds the vault id
        open_home(home_path, PASSPHRASE)


def test_interrupted_keys_json_write_leaves_the_old_file(home: Home, home_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    before = (home_path / "keys.json").read_bytes()
    entries = len(list(home.catalog.audit_entries()))

    def crash(*args: object) -> None:
        raise OSError("simulated crash before rename")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        home.change_passphrase("never lands on disk", actor="ana")
    monkeypatch.undo()
    assert (home_path / "keys.json").read_bytes() == before
    assert not [p for p in home_path.iterdir() if p.name.startswith(".tmp-")]
    assert len(list(home.catalog.audit_entries())) == entries  # the audit entry rolled back too
    open_home(home_path, PASSPHRASE).close()


def test_keys_json_vector_v1_still_opens() -> None:
    meta = json.loads((VECTORS / "keys-v1.meta.json").read_text())
    keyfile = keyslots.load(VECTORS / "keys-v1.json")
    master, _ = keyslots.unlock_passphrase(keyfile, meta["passphrase"])
    assert master.hex() == meta["master_key"]
    assert keyslots.unlock_recovery(keyfile, bytes.fromhex(meta["recovery_key_raw"])).hex() == meta["master_key"]


def test_kdf_runs_are_serialised(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    active, peak = [0], [0]
    lock = threading.Lock()

    def fake(secret: bytes, params: KdfParams) -> bytes:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        return b"\0" * 32
    monkeypatch.setattr(kdf_module, "_argon2id", fake)
    threads = [threading.Thread(target=kdf_module.derive, args=(b"x", KdfParams.fast_for_tests()))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 1


def test_argon2id_backends_agree() -> None:
    from argon2.low_level import Type, hash_secret_raw
    p = KdfParams.fast_for_tests()
    assert kdf_module.derive(b"pass", p) == hash_secret_raw(b"pass", p.salt, 1, 8192, 1, 32, Type.ID)
