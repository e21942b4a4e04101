"""Moving a home's sealed objects out of objects/ into a bucket: upload, verify, switch, remove.

The move holds the home alone (no `serve`, watcher or other command may have it open: a filing in
between would land in objects/ after the switch and be lost to the home). It is resumable at every
step, because objects/ stays the home's store until the switch:

1. Each object in objects/ that the bucket lacks (or holds with another size) is uploaded; a rerun
   skips what an interrupted run already sent, and deletes from the bucket what it sent that is no
   longer the home's (disposed of in between).
2. Every object is read back from the bucket, around the read cache: a referenced one is
   authenticated chunk by chunk with its record's key, an unreferenced one (debris of a crash, which
   verify reports either way) compared byte for byte. One that fails is deleted from the bucket and
   the move stops before the switch; a rerun uploads it again.
3. The switch: the setting `objects` names the bucket, written by `switch` inside the transaction
   of the `vault.objects.move` audit entry, so the entry commits only if the setting was written.
4. The local copies are removed. A run interrupted here finds the setting switched; run again, it
   checks the remaining local copies against the bucket and removes them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from records import checkpoints
from records.audit import AuditEvent
from records.model import BlobRef, RecordId, WrappedKey
from vault.atomicfile import remove_durably
from vault.errors import DataKeyDamaged, ObjectDamaged, VaultError
from vault.objects import ObjectStore
from vault.s3objects import BucketObjects, S3ObjectStore

if TYPE_CHECKING:
    from vault.home import Home

Progress = Callable[[int, int], None]
_READ = 1024 * 1024


@dataclass(frozen=True, slots=True)
class MoveResult:
    objects: int  # objects checked in the bucket
    uploaded: int  # sent by this run (the rest were there from an interrupted one)
    removed: int  # local copies removed
    switched: bool  # this run switched the setting (False: an earlier run had)


def move_objects(home: Home, where: BucketObjects, *, switch: Callable[[], None], actor: str, now: datetime,
                 channel: str = "cli", progress: Progress | None = None) -> MoveResult:
    """Move the home's objects into the bucket `where` names; `switch` makes the home's setting name it."""
    current = home.blobs
    if isinstance(current, S3ObjectStore) and current.spec != where.spec:
        raise VaultError(f"This home already keeps its objects in {current.spec}, not {where.spec}: nothing "
                         "was moved.")
    with home.session.alone():
        # Switched already (a run stopped while removing the local copies): finish through the home's store.
        bucket = current if isinstance(current, S3ObjectStore) else where(home.path, home.keyring)
        try:
            return _move(home, bucket, switch=None if bucket is current else switch, actor=actor, now=now,
                         channel=channel, progress=progress or (lambda done, total: None))
        finally:
            if bucket is not current:
                bucket.close()


def _move(home: Home, bucket: S3ObjectStore, *, switch: Callable[[], None] | None, actor: str, now: datetime,
          channel: str, progress: Progress) -> MoveResult:
    folder = home.path / "objects"
    local = sorted(ObjectStore.ids_in(folder))
    refs = _references(home)
    present = bucket.sizes()
    missing = sorted(set(refs) - set(local) - set(present))
    if missing:
        raise VaultError(f"{len(missing)} object(s) of the home's records are neither in objects/ nor in the bucket "
                         f"(the first: {missing[0]}): nothing was switched; run `strongroom verify` to see which "
                         "records are damaged.")
    # Sent by an interrupted run, then disposed of (or debris of that run): no record will ever read it.
    for object_id in sorted(set(present) - set(local) - set(refs)):
        bucket.discard(object_id)
    checked = sorted(set(local) | (set(refs) & set(present)))
    steps = len(local) + len(checked)
    uploaded = 0
    for done, object_id in enumerate(local, 1):
        path = ObjectStore.location(folder, object_id)
        if present.get(object_id) != path.stat().st_size:
            with open(path, "rb") as source:
                bucket.put_sealed(object_id, source)
            uploaded += 1
        progress(done, steps)
    bad: list[str] = []
    for done, object_id in enumerate(checked, len(local) + 1):
        if not _arrived_whole(bucket, object_id, refs.get(object_id), folder):
            bad.append(object_id)
            bucket.discard(object_id)  # a rerun uploads it again
        progress(done, steps)
    if bad:
        raise VaultError(f"{len(bad)} object(s) did not arrive whole in {bucket.spec} (the first: {bad[0]}): the "
                         "home still keeps its objects in objects/; run the move again.")
    event = AuditEvent(ts=now, actor=actor, action="vault.objects.move", channel=channel,
                       details=(("to", bucket.spec), ("objects", str(len(checked))), ("uploaded", str(uploaded)),
                                ("switched", "yes" if switch is not None else "no")))
    with home.catalog.transaction() as tx:
        checkpoints.append(tx, home.signer, event)
        if switch is not None:
            switch()  # a failed write rolls the entry back
    for object_id in local:
        remove_durably(ObjectStore.location(folder, object_id))
    return MoveResult(objects=len(checked), uploaded=uploaded, removed=len(local), switched=switch is not None)


def _references(home: Home) -> dict[str, tuple[RecordId, WrappedKey, BlobRef]]:
    """Each object a record with a data key references: what authenticates it."""
    found: dict[str, tuple[RecordId, WrappedKey, BlobRef]] = {}
    for record in home.catalog.find():
        key = home.catalog.data_key(record.id)
        if key is not None:
            for ref in record.blobs:
                found[ref.object_id] = (record.id, key, ref)
    return found


def _arrived_whole(bucket: S3ObjectStore, object_id: str, ref: tuple[RecordId, WrappedKey, BlobRef] | None,
                   folder: Path) -> bool:
    """The bucket's copy read back: authenticated with its record's key, else the same bytes as the
    local copy (an object no record references, or one whose damage predates the move: verify reports
    that either way, and moving it faithfully loses nothing)."""
    if ref is not None:
        try:
            for _ in bucket.open_stored(*ref):
                pass
            return True
        except (ObjectDamaged, DataKeyDamaged):
            pass
    try:
        with open(ObjectStore.location(folder, object_id), "rb") as fh:
            ours = _digest(fh.read)
    except FileNotFoundError:
        return False  # removed by an earlier run, and now damaged in the bucket: verify names its record
    try:
        with bucket.read_stored(object_id) as stream:
            return hmac.compare_digest(_digest(stream.read), ours)
    except FileNotFoundError:
        return False


def _digest(read: Callable[[int], bytes]) -> bytes:
    digest = hashlib.sha256()
    while block := read(_READ):
        digest.update(block)
    return digest.digest()
