"""The catalogue's schema as an ordered list of migrations, tracked in SQLite's user_version."""

from __future__ import annotations

from typing import Any

from vault.errors import CatalogError

# Append only: never edit a migration that has shipped. Each runs in its own transaction.
MIGRATIONS: tuple[str, ...] = (
    # 1: records, wrapped data keys, registry sequences, audit chain, checkpoints, users, settings
    """
    CREATE TABLE records (
        id TEXT PRIMARY KEY,
        registry_number TEXT NOT NULL UNIQUE,
        record_class TEXT NOT NULL,
        principal TEXT NOT NULL,
        confidentiality TEXT NOT NULL,
        state TEXT NOT NULL,
        filed_at TEXT NOT NULL,
        document_date TEXT,
        retention_until TEXT,
        parent_id TEXT,
        content_mac TEXT,
        body TEXT NOT NULL
    );
    CREATE UNIQUE INDEX records_content_mac ON records(content_mac) WHERE content_mac IS NOT NULL;
    CREATE INDEX records_class ON records(record_class);
    CREATE INDEX records_principal ON records(principal);
    CREATE INDEX records_parent ON records(parent_id);
    CREATE TABLE data_keys (
        record_id TEXT PRIMARY KEY REFERENCES records(id),
        wrapped BLOB NOT NULL
    );
    CREATE TABLE registry_sequences (
        class_code TEXT NOT NULL,
        year INTEGER NOT NULL,
        last INTEGER NOT NULL,
        PRIMARY KEY (class_code, year)
    );
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        json TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TABLE checkpoints (
        size INTEGER PRIMARY KEY,
        head TEXT NOT NULL,
        ts TEXT NOT NULL,
        signature BLOB NOT NULL
    );
    CREATE TABLE users (name TEXT PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: the record each audit entry is about, indexed: a record page read its history by scanning the
    # whole trail (0.4-0.5 s a page at 100,000 records, issue 21). Not part of the hashed entry, so
    # `verify` checks that it agrees with the entry's own "record".
    """
    ALTER TABLE audit ADD COLUMN record_id TEXT;
    UPDATE audit SET record_id = json_extract(json, '$.record');
    CREATE INDEX audit_record ON audit(record_id, seq);
    """,
)


def migrate(conn: Any) -> int:
    """Bring the schema up to date; returns the version. Refuses a catalogue newer than the code."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > len(MIGRATIONS):
        raise CatalogError(f"The catalogue has schema version {current}, newer than this Strongroom "
                           f"understands ({len(MIGRATIONS)}): upgrade Strongroom.")
    for version in range(current + 1, len(MIGRATIONS) + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    # executescript() would commit implicitly; splitting keeps each migration in one transaction.
    return [s.strip() for s in script.split(";") if s.strip()]
