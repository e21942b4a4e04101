"""The rollback anchor: the audit chain's head, sealed outside the catalogue and checked on every open.

Every change to a home appends an audit entry in the same transaction, so the audit sequence
number is the home's monotonic change counter. After each commit that appended entries (or a
checkpoint), the home writes `<home>/audit.anchor`: that counter, the head hash and the newest
checkpoint, sealed with AES-256-GCM under the `anchor` sub-key. An older `catalog.db` put back
while the home is closed (undoing a hold, a filing, a disposition) or a trail cut short then
ends before the anchor, or disagrees with it at the anchored entry: the open is refused.

Crash safety: the anchor is written after the COMMIT, never before, so it may lag the catalogue
(a kill between the two) but never lead it; a catalogue ahead of its anchor that continues it
(same hash at the anchored entry) is accepted and the anchor catches up at the next commit.

Cost: a write is a temp file, fsync, rename and folder fsync (about 10 ms here, more than the
commit itself), so `AnchorKeeper` writes at once only after a commit that signed a checkpoint
(exports, dispositions, every 1,000 entries) and otherwise at most once per `INTERVAL_S`, a timer
flushing the last one, and always at close. What stays open is described in docs/security.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from records import checkpoints
from records.audit import AuditEvent
from records.ports import Signer
from vault.atomicfile import write_atomic
from vault.catalog import SqlCipherCatalog
from vault.errors import AnchorDamaged, RollbackDetected

ANCHOR_FILE = "audit.anchor"
# Set in the catalogue once the home keeps an anchor: from then on a missing file is tampering.
ANCHORED_SETTING = "audit.anchored"
ACCEPT_ACTION = "vault.rollback.accept"
INTERVAL_S = 1.0  # at most this long between a commit and the anchor that covers it
MAGIC = b"SRAN"
VERSION = 1
_NONCE = 12
_MAX_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Anchor:
    """What the catalogue held at its last audited commit (a lower bound on what it holds now)."""

    seq: int  # the newest audit entry (0: none)
    head: str  # its hash
    checkpoint: int  # the entry count of the newest signed checkpoint (0: none)


def seal(anchor: Anchor, key: bytes, vault_id: str) -> bytes:
    # A random nonce per write: the key is fixed per home, the writes are few (one per audited
    # commit), far below GCM's random-nonce bound. The AD binds the format and the home, so an
    # anchor copied from another home does not open.
    header = MAGIC + bytes([VERSION])
    nonce = secrets.token_bytes(_NONCE)
    body = json.dumps({"seq": anchor.seq, "head": anchor.head, "checkpoint": anchor.checkpoint},
                      sort_keys=True).encode()
    return header + nonce + AESGCM(key).encrypt(nonce, body, header + vault_id.encode())


def unseal(data: bytes, key: bytes, vault_id: str) -> Anchor:
    header = MAGIC + bytes([VERSION])
    if len(data) > _MAX_SIZE or not data.startswith(header):
        raise AnchorDamaged("it is not an anchor of this format")
    nonce, sealed = data[len(header):len(header) + _NONCE], data[len(header) + _NONCE:]
    try:
        doc = json.loads(AESGCM(key).decrypt(nonce, sealed, header + vault_id.encode()))
        return Anchor(seq=int(doc["seq"]), head=str(doc["head"]), checkpoint=int(doc["checkpoint"]))
    except (InvalidTag, ValueError, KeyError, TypeError):
        raise AnchorDamaged("it fails authentication: altered, or from another home") from None


def state_of(catalog: SqlCipherCatalog) -> Anchor:
    """The catalogue's committed state as an anchor (read after the commit it should vouch for)."""
    head = catalog.audit_head()
    return Anchor(seq=head.seq if head else 0, head=head.hash if head else "",
                  checkpoint=catalog.newest_checkpoint())


def rollback_problem(anchor: Anchor, catalog: SqlCipherCatalog) -> str | None:
    """One sentence when the catalogue does not continue the anchor; None when it does."""
    if anchor.seq > 0:
        entry = catalog.audit_entry(anchor.seq)
        if entry is None:
            head = catalog.audit_head()
            return (f"the catalogue's audit trail ends at entry {head.seq if head else 0}, but the anchor "
                    f"sealed outside it records entry {anchor.seq} (an older catalog.db was put back, "
                    "or its newest audit entries were removed)")
        if entry.hash != anchor.head:
            return (f"audit entry {anchor.seq} is not the one the anchor sealed outside the catalogue "
                    "records (an older catalog.db was put back and written to since, or the trail "
                    "was rewritten)")
    newest = catalog.newest_checkpoint()
    if newest < anchor.checkpoint:
        return (f"the newest signed checkpoint is at audit entry {newest}, but the anchor sealed outside "
                f"the catalogue records one at entry {anchor.checkpoint} (checkpoints were removed)")
    return None


class AnchorFile:
    """`<home>/audit.anchor`: read it, move it forward after a commit, or reset it on purpose."""

    def __init__(self, home: Path, key: bytes, vault_id: str) -> None:
        self.path = home / ANCHOR_FILE
        self._home = home
        self._key = key
        self._vault_id = vault_id
        self.lagging = False  # the last write failed (e.g. a full disk): the anchor is behind

    def read(self) -> Anchor | None:
        """The sealed anchor, or None when there is no file."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AnchorDamaged(f"it cannot be read ({exc.strerror})") from None
        return unseal(data, self._key, self._vault_id)

    def advance(self, catalog: SqlCipherCatalog) -> None:
        """After a commit: record the catalogue's state if it is newer than the anchor's. A failed
        write leaves the anchor behind (safe: it may lag, never lead) and is retried next time."""
        try:
            # The catalogue is read before the file lock is taken, never inside it: a committing thread
            # holds the catalogue's lock while it calls this, so taking the two in the other order here
            # (the keeper's timer thread) deadlocked both. The comparison under the file lock still keeps
            # a slower writer from replacing a newer anchor with its older state.
            state = state_of(catalog)
            with self._locked():
                current = self._read_quietly()
                if current is None or state.seq > current.seq or state.checkpoint > current.checkpoint:
                    write_atomic(self.path, seal(state, self._key, self._vault_id))
        except OSError:
            self.lagging = True
        else:
            self.lagging = False

    def reset(self, catalog: SqlCipherCatalog) -> None:
        """Record the catalogue's state whatever the anchor says (a new, restored or accepted home)."""
        state = state_of(catalog)  # before the file lock, as in advance()
        with self._locked():
            write_atomic(self.path, seal(state, self._key, self._vault_id))

    def _read_quietly(self) -> Anchor | None:
        # Only ever moves forward from a readable anchor; a damaged one stays for the next open to report.
        try:
            return self.read()
        except AnchorDamaged:
            raise OSError("the anchor is damaged") from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise anchor writers across processes (a shared home: serve plus a CLI command),
        so a slower writer never replaces a newer anchor with its older state."""
        fd = os.open(self._home, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # drops the lock


class AnchorKeeper:
    """Moves the anchor after commits, coalescing bursts: immediately after a checkpoint or when
    the last write is `interval` old, else once the interval has passed (a timer), and at close."""

    def __init__(self, anchor_file: AnchorFile, catalog: SqlCipherCatalog, interval: float = INTERVAL_S) -> None:
        self._file = anchor_file
        self._catalog = catalog
        self._interval = interval
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._dirty = False
        self._closed = False
        self._timer: threading.Timer | None = None

    def committed(self, checkpointed: bool) -> None:
        """The catalogue's after-commit hook (runs in the committing thread, catalogue lock held)."""
        now = time.monotonic()
        with self._lock:
            if self._closed:
                return
            if not checkpointed and now < self._last + self._interval:
                self._dirty = True
                if self._timer is None:
                    self._timer = threading.Timer(self._last + self._interval - now, self._flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
            self._dirty = False
            self._last = now
        self._file.advance(self._catalog)

    def _flush(self) -> None:
        with self._lock:
            self._timer = None
            if self._closed or not self._dirty:
                return
            self._dirty = False
            self._last = time.monotonic()
        # Outside our lock: advance() takes the catalogue's, which a committing thread holds while
        # it waits for ours in committed().
        self._file.advance(self._catalog)

    def close(self) -> None:
        """Write what is pending (and retry a failed write) before the catalogue closes."""
        with self._lock:
            self._closed = True
            timer, self._timer = self._timer, None
            pending = self._dirty or self._file.lagging
        if timer is not None:
            timer.cancel()
            if timer.is_alive() and timer is not threading.current_thread():
                timer.join()  # a flush already running finishes before the catalogue closes
        if pending:
            self._file.advance(self._catalog)


def guard(catalog: SqlCipherCatalog, anchor_file: AnchorFile, signer: Signer, *, restored: bool = False,
          accept: bool = False, actor: str = "system:vault", channel: str = "cli") -> str | None:
    """On open, before anything is committed: refuse a catalogue that does not continue the anchor.

    `restored`: a home just restored from a backup gets a fresh anchor for its catalogue.
    `accept`: a rollback the operator made on purpose (an older catalog.db put back by hand) is
    audited (`vault.rollback.accept`, with what was found) and the anchor reset; returns the
    sentence that describes it. Otherwise a mismatch raises RollbackDetected.
    """
    try:
        anchor = anchor_file.read()
    except AnchorDamaged as exc:
        problem = f"the anchor file {ANCHOR_FILE} cannot be used ({exc.reason})"
    else:
        if anchor is None and (restored or catalog.get_setting(ANCHORED_SETTING) is None):
            # A restored home, or one made before anchors were kept: start one from here. A
            # read-only home cannot get one, and nothing can change it either.
            with contextlib.suppress(OSError):
                anchor_file.reset(catalog)
                _mark_anchored(catalog)
            return None
        if anchor is None:
            problem = (f"the anchor file {ANCHOR_FILE} is missing, though this home keeps one "
                       "(deleted, perhaps to hide an older catalog.db put back)")
        else:
            found = rollback_problem(anchor, catalog)
            if found is None:
                with contextlib.suppress(OSError):
                    _mark_anchored(catalog)
                return None
            problem = found
    if not accept:
        raise RollbackDetected(problem)
    with catalog.transaction() as tx:
        checkpoints.append(tx, signer, AuditEvent(ts=datetime.now(timezone.utc), actor=actor,
                                                  action=ACCEPT_ACTION, outcome="recovered", channel=channel,
                                                  details=(("found", problem[:300]),)))
        tx.put_setting(ANCHORED_SETTING, "yes")
    anchor_file.reset(catalog)
    return problem


def _mark_anchored(catalog: SqlCipherCatalog) -> None:
    # After the anchor file exists: a kill in between leaves a file without the mark, which the
    # next open completes; the reverse order could leave a mark without a file and lock the home.
    if catalog.get_setting(ANCHORED_SETTING) is None:
        with catalog.transaction() as tx:
            tx.put_setting(ANCHORED_SETTING, "yes")
