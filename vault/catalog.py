"""The catalogue: one SQLCipher database implementing records.ports.Catalog and CatalogTx."""

from __future__ import annotations

import contextlib
import errno
import json
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlcipher3 import dbapi2

from records.audit import GENESIS, AuditEntry, AuditEvent, canonical, chain, event_from_json
from records.errors import DuplicateRecord, RecordNotFound
from records.model import Record, RecordId, User, WrappedKey
from records.ports import Checkpoint, RecordFilter
from vault.errors import CatalogDamaged, CatalogUndecryptable, CatalogUnwritable
from vault.migrations import migrate
from vault.recordcodec import record_from_json, record_to_json, user_from_json, user_to_json

_PAGE = 1000
_BY_MAC = "SELECT id FROM records WHERE content_mac = ?"  # a read outside transactions, and inside one


class SqlCipherCatalog:
    """Implements records.ports.Catalog. Two connections shared by threads, each behind its own lock:
    one writes (every transaction, and the reads made inside one), one reads. WAL lets a read run
    beside a write transaction, seeing the catalogue as last committed: with one connection every
    read waited behind a transaction's COMMIT and its fsync (a bulk import's filing threads, looking
    up duplicates, waited for the previous batch's commit; so did web pages behind a filing)."""

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._tx_owner: int | None = None
        # Called (holding the lock) after each COMMIT that appended audit entries, with True when it
        # also signed a checkpoint: the home moves its rollback anchor there (vault/anchor.py),
        # never before the commit.
        self.after_audit_commit: Callable[[bool], None] | None = None
        # record id -> (its stored row's fingerprint, the Record decoded from it): the start page, the
        # calendar and the retention page read every record, and decoding 100,000 rows took ~10 s
        # (issue 21). Records are immutable; a row changed by any process has a new fingerprint.
        self._decoded: dict[str, tuple[tuple[int, int], Record]] = {}
        self._conn = _connect(path, key)
        try:
            migrate(self._conn)
            self._reader = _connect(path, key)
        except BaseException:
            self._conn.close()
            raise
        self._read_lock = threading.Lock()

    def close(self) -> None:
        with self._lock, self._read_lock:
            self._reader.close()
            self._conn.close()

    # ---- writes ------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[_Tx]:
        """BEGIN IMMEDIATE ... COMMIT; any exception rolls everything back and propagates."""
        with self._lock:
            if self._tx_owner is not None:
                raise RuntimeError("a catalogue transaction is already open in this thread")
            with _storage_faults(self.path):
                self._conn.execute("BEGIN IMMEDIATE")
            self._tx_owner = threading.get_ident()
            tx = _Tx(self._conn)
            try:
                with _storage_faults(self.path):
                    yield tx
            except BaseException:
                with contextlib.suppress(dbapi2.Error):  # a failed COMMIT has already rolled back
                    self._conn.execute("ROLLBACK")
                raise
            else:
                try:
                    with _storage_faults(self.path):
                        self._conn.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(dbapi2.Error):
                        self._conn.execute("ROLLBACK")
                    raise
            finally:
                self._tx_owner = None
            if tx.audited and self.after_audit_commit is not None:
                self.after_audit_commit(tx.checkpointed)

    # ---- reads -------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self._tx_owner == threading.get_ident():  # inside this thread's transaction: see its writes
            with self._lock, _storage_faults(self.path):
                return list(self._conn.execute(sql, params).fetchall())
        with self._read_lock, _storage_faults(self.path):
            return list(self._reader.execute(sql, params).fetchall())

    def get(self, record_id: RecordId) -> Record:
        rows = self._query("SELECT body FROM records WHERE id = ?", (record_id,))
        if not rows:
            raise RecordNotFound(f"There is no record {record_id}: check the id (`strongroom list`).")
        with _decoding(self.path):
            return self._decode(record_id, rows[0][0])

    def find_by_mac(self, content_mac: str) -> RecordId | None:
        rows = self._query(_BY_MAC, (content_mac,))
        return RecordId(rows[0][0]) if rows else None

    def find(self, flt: RecordFilter = RecordFilter()) -> list[Record]:
        where, params = [], []
        for column, value in (("record_class", flt.record_class), ("principal", flt.principal),
                              ("state", flt.state), ("parent_id", flt.parent_id),
                              ("registry_number", flt.registry_number)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(str(value))
        if flt.filed_from is not None:
            where.append("substr(filed_at, 1, 10) >= ?")
            params.append(flt.filed_from.isoformat())
        if flt.filed_to is not None:
            where.append("substr(filed_at, 1, 10) <= ?")
            params.append(flt.filed_to.isoformat())
        sql = "SELECT id, body FROM records" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self._query(sql, tuple(params))  # sorted here: SQLite would sort the rows with their bodies
        with _decoding(self.path):
            found = sorted((self._decode(rid, body) for rid, body in rows),
                           key=lambda r: (r.filed_at, r.registry_number))
        if not where:  # every record was just read: forget the ones no longer there (a restore, say)
            if len(self._decoded) > len(rows):
                present = {rid for rid, _ in rows}
                self._decoded = {rid: hit for rid, hit in self._decoded.items() if rid in present}
        return found

    def _decode(self, record_id: str, body: str) -> Record:
        # str hash is SipHash keyed per process: a row cannot be crafted to collide with another
        stamp = (hash(body), len(body))
        hit = self._decoded.get(record_id)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        record = record_from_json(body)
        self._decoded[record_id] = (stamp, record)
        return record

    def data_key(self, record_id: RecordId) -> WrappedKey | None:
        rows = self._query("SELECT wrapped FROM data_keys WHERE record_id = ?", (record_id,))
        return WrappedKey(bytes(rows[0][0])) if rows else None

    def audit_entries(self, since_seq: int = 0) -> Iterator[AuditEntry]:
        for doc in self.audit_documents(since_seq):
            with _decoding(self.path):
                entry = _entry(doc)
            yield entry

    def audit_documents(self, since_seq: int = 0) -> Iterator[dict[str, Any]]:
        """The stored JSON of each entry (with its "hash"), in order, page by page."""
        last = since_seq
        while True:
            rows = self._query("SELECT seq, json FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", (last, _PAGE))
            for seq, text in rows:
                last = seq
                with _decoding(self.path):
                    doc = _document(text)
                yield doc
            if len(rows) < _PAGE:
                return

    def audit_page(self, *, before_seq: int | None = None, limit: int = 100, action: str = "", actor: str = "",
                   record_id: str = "") -> list[AuditEntry]:
        """Up to `limit` entries below `before_seq`, newest first, whose action starts with `action` and
        whose actor and record match when given. SQLite walks the key backwards and stops at `limit`:
        an unfiltered page costs the same however long the chain grows."""
        where = ["seq < ?"]
        params: list[int | str] = [before_seq if before_seq is not None else 2 ** 62]
        if action:
            where.append("substr(json_extract(json, '$.action'), 1, ?) = ?")
            params += [len(action), action]
        if actor:
            where.append("json_extract(json, '$.actor') = ?")
            params.append(actor)
        if record_id:
            where.append("record_id = ?")
            params.append(record_id)
        rows = self._query(f"SELECT json FROM audit WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?",
                           (*params, max(0, limit)))
        with _decoding(self.path):
            return [_entry(_document(r[0])) for r in rows]

    def record_history(self, record_id: RecordId, limit: int) -> list[AuditEntry]:
        """The newest `limit` entries about one record, oldest first, through the trail's record index
        (a record page must not read the whole, ever-growing trail)."""
        return self.audit_page(record_id=record_id, limit=limit)[::-1]

    def audit_head(self) -> AuditEntry | None:
        rows = self._query("SELECT json FROM audit ORDER BY seq DESC LIMIT 1")
        with _decoding(self.path):
            return _entry(_document(rows[0][0])) if rows else None

    def audit_entry(self, seq: int) -> AuditEntry | None:
        """The entry at `seq`, or None when the trail has none there."""
        rows = self._query("SELECT json FROM audit WHERE seq = ?", (seq,))
        with _decoding(self.path):
            return _entry(_document(rows[0][0])) if rows else None

    def newest_checkpoint(self) -> int:
        """The size (entry count) of the newest signed checkpoint; 0 when there is none."""
        return int(self._query("SELECT coalesce(max(size), 0) FROM checkpoints")[0][0])

    def checkpoints(self) -> list[Checkpoint]:
        rows = self._query("SELECT size, head, ts, signature FROM checkpoints ORDER BY size")
        with _decoding(self.path):
            return [Checkpoint(size=r[0], head=r[1], ts=datetime.fromisoformat(r[2]), signature=bytes(r[3]))
                    for r in rows]

    def get_user(self, name: str) -> User | None:
        rows = self._query("SELECT body FROM users WHERE name = ?", (name,))
        with _decoding(self.path):
            return user_from_json(rows[0][0]) if rows else None

    def users(self) -> list[User]:
        rows = self._query("SELECT body FROM users ORDER BY name")
        with _decoding(self.path):
            return [user_from_json(r[0]) for r in rows]

    def get_setting(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM settings WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def copy_to(self, target: Path, key: bytes) -> None:
        """A consistent copy of the whole catalogue at `target` (an empty file), keyed with `key`.

        SQLCipher's backup API copies every page through both codecs inside one read
        transaction, so a commit running meanwhile is either wholly in the copy or not at all.
        The copy leaves WAL mode: it is one self-contained file, fit to be hashed and moved."""
        dest = _connect(target, key)
        try:
            with self._lock, _storage_faults(self.path):
                self._conn.backup(dest)
            with _storage_faults(target):
                dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()

    def integrity_problems(self) -> list[str]:
        """SQLite's own consistency check and foreign keys, as sentences (empty when sound)."""
        problems = [f"catalogue page check: {r[0]}" for r in self._query("PRAGMA integrity_check")
                    if r[0] != "ok"]
        problems += [f"catalogue row {r[1]} of {r[0]} points to a missing {r[2]} row"
                     for r in self._query("PRAGMA foreign_key_check")]
        problems += [f"The audit trail's record index disagrees with audit entry {r[0]} (it was altered): a "
                     "record's history page would miss or show the wrong entries; restore the catalogue from a backup."
                     for r in self._query("SELECT seq FROM audit WHERE record_id IS NOT json_extract(json, '$.record')")]
        return problems


class _Tx:
    """Implements records.ports.CatalogTx inside one open BEGIN IMMEDIATE transaction."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.audited = False  # an audit entry or checkpoint was written: the anchor follows the commit
        self.checkpointed = False

    def next_registry_seq(self, class_code: str, year: int) -> int:
        row = self._conn.execute(
            "INSERT INTO registry_sequences (class_code, year, last) VALUES (?, ?, 1) "
            "ON CONFLICT (class_code, year) DO UPDATE SET last = last + 1 RETURNING last",
            (class_code, year)).fetchone()
        return int(row[0])

    def find_by_mac(self, content_mac: str) -> RecordId | None:
        row = self._conn.execute(_BY_MAC, (content_mac,)).fetchone()
        return RecordId(row[0]) if row else None

    def add(self, record: Record, key: WrappedKey, content_mac: str) -> None:
        """An empty `content_mac` stores none (a record the user forced despite a duplicate)."""
        existing = self.find_by_mac(content_mac) if content_mac else None
        if existing is not None:
            raise DuplicateRecord(f"This document is already filed as record {existing}.", existing)
        self._conn.execute(
            "INSERT INTO records (id, registry_number, record_class, principal, confidentiality, state,"
            " filed_at, document_date, retention_until, parent_id, content_mac, body)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*_columns(record), content_mac or None, record_to_json(record)))
        self._conn.execute("INSERT INTO data_keys (record_id, wrapped) VALUES (?, ?)", (record.id, bytes(key)))

    def replace(self, record: Record) -> None:
        cols = _columns(record)
        cur = self._conn.execute(
            "UPDATE records SET registry_number = ?, record_class = ?, principal = ?, confidentiality = ?,"
            " state = ?, filed_at = ?, document_date = ?, retention_until = ?, parent_id = ?, body = ?"
            " WHERE id = ?", (*cols[1:], record_to_json(record), record.id))
        if cur.rowcount != 1:
            raise RecordNotFound(f"There is no record {record.id}: check the id (`strongroom list`).")

    def shred_key(self, record_id: RecordId) -> None:
        self._conn.execute("DELETE FROM data_keys WHERE record_id = ?", (record_id,))
        # The MAC would stay a "was this file ever here?" oracle after destruction.
        self._conn.execute("UPDATE records SET content_mac = NULL WHERE id = ?", (record_id,))

    def append_audit(self, event: AuditEvent) -> AuditEntry:
        row = self._conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (int(row[0]) + 1, str(row[1])) if row else (1, GENESIS)
        entry = chain(seq, event, prev)
        self._conn.execute("INSERT INTO audit (seq, json, prev_hash, hash, record_id) VALUES (?, ?, ?, ?, ?)",
                           (seq, canonical(entry.to_json()).decode(), prev, entry.hash, event.record_id))
        self.audited = True
        return entry

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        self._conn.execute("INSERT INTO checkpoints (size, head, ts, signature) VALUES (?, ?, ?, ?)",
                           (checkpoint.size, checkpoint.head, checkpoint.ts.isoformat(),
                            bytes(checkpoint.signature)))
        self.audited = self.checkpointed = True

    def last_checkpoint_size(self) -> int:
        row = self._conn.execute("SELECT coalesce(max(size), 0) FROM checkpoints").fetchone()
        return int(row[0])

    def put_user(self, user: User) -> None:
        self._conn.execute("INSERT INTO users (name, body) VALUES (?, ?) "
                           "ON CONFLICT (name) DO UPDATE SET body = excluded.body",
                           (user.name, user_to_json(user)))

    def delete_user(self, name: str) -> None:
        self._conn.execute("DELETE FROM users WHERE name = ?", (name,))

    def put_setting(self, key: str, value: str) -> None:
        self._conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))


def _columns(record: Record) -> tuple[Any, ...]:
    return (record.id, record.registry_number, record.record_class, record.principal,
            str(record.confidentiality), str(record.state), record.filed_at.isoformat(),
            record.document_date.isoformat() if record.document_date else None,
            record.retention_until.isoformat() if record.retention_until else None,
            record.parent_id)


def _document(text: str) -> dict[str, Any]:
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("an audit entry is not a JSON object")
    return doc


def _entry(doc: dict[str, Any]) -> AuditEntry:
    return AuditEntry(seq=int(doc["seq"]), event=event_from_json(doc), prev_hash=doc["prev"], hash=doc["hash"])


def _connect(path: Path, key: bytes) -> Any:
    conn = dbapi2.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30.0)
    try:
        # SQLCipher logs page HMAC failures to stderr itself; the user gets our one sentence instead.
        conn.execute("PRAGMA cipher_log_level = NONE")
        # The raw-key form skips SQLCipher's own PBKDF2: the key is already a 256-bit sub-key.
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("PRAGMA cipher_memory_security = ON")
        try:
            with _storage_faults(path):
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except (dbapi2.DatabaseError, CatalogDamaged) as exc:
            raise CatalogUndecryptable(str(path)) from exc
        with _storage_faults(path):
            for pragma in ("secure_delete = ON", "journal_mode = WAL", "synchronous = FULL",
                           "foreign_keys = ON", "temp_store = MEMORY"):
                conn.execute(f"PRAGMA {pragma}")
    except BaseException:
        conn.close()
        raise
    return conn


# SQLite reports a full, read-only or failing disk as an OperationalError with one of these
# texts; it must not read as "damaged" (restoring a backup onto a full disk helps nobody).
_STORAGE_FAULTS = (("disk is full", errno.ENOSPC, "the disk is full"),
                   ("readonly", errno.EROFS, "the home is read-only"),
                   ("unable to open database file", errno.EACCES, "the file cannot be opened for writing"),
                   ("disk i/o error", errno.EIO, "a disk error, e.g. a full or read-only disk"))

# Contention, not damage: the caller may wait and try again.
_BUSY = ("locked", "busy", "interrupted")
# SQLCipher answers a page whose HMAC fails with a bare SQLITE_ERROR ("SQL logic error").
_UNAUTHENTIC = "sql logic error"


@contextlib.contextmanager
def _storage_faults(path: Path) -> Iterator[None]:
    """SQLite's disk-full/read-only/I-O errors -> CatalogUnwritable; anything else a damaged file
    can cause (a page failing its HMAC, a malformed b-tree, a record header claiming gigabytes,
    which SQLite reports as out of memory) -> CatalogDamaged, one sentence, never a traceback."""
    try:
        yield
    except dbapi2.OperationalError as exc:
        text = str(exc).lower()
        for needle, code, strerror in _STORAGE_FAULTS:
            if needle in text:
                raise CatalogUnwritable(str(path), code, strerror) from exc
        if any(needle in text for needle in _BUSY):
            raise
        detail = "a page fails its authentication check" if _UNAUTHENTIC in text else str(exc)
        raise CatalogDamaged(str(path), detail) from exc
    except (dbapi2.IntegrityError, dbapi2.ProgrammingError, dbapi2.InterfaceError):
        raise  # constraint errors go to their callers (e.g. a duplicate); the others are our bugs
    except dbapi2.DatabaseError as exc:
        raise CatalogDamaged(str(path), str(exc)) from exc
    except MemoryError as exc:
        raise CatalogDamaged(str(path), "a damaged page asks for an impossible amount of memory") from exc


@contextlib.contextmanager
def _decoding(path: Path) -> Iterator[None]:
    """A stored row that does not parse (bad JSON, bad UTF-8, a missing field) is damage too."""
    try:
        yield
    except (ValueError, KeyError, TypeError, AttributeError, MemoryError) as exc:
        raise CatalogDamaged(str(path), f"a stored row cannot be read: {type(exc).__name__}") from exc
