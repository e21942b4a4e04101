"""The indexer's errors: one root, each message one sentence saying what happened and what to do."""

from __future__ import annotations


class IndexerError(Exception):
    """Root of every error the indexer raises on purpose."""


class IndexCorrupt(IndexerError):
    """The sealed index failed authentication or cannot be read: rebuild it with `strongroom reindex`."""


class IndexMissing(IndexCorrupt):
    """There is no index yet (or its files are gone): `strongroom reindex` builds one."""


class IndexBusy(IndexerError):
    """Another process holds the index writer lock longer than the timeout."""


class QueryError(IndexerError):
    """The search text cannot be understood; the message says which part and how to write it."""


class ExtractorClosed(IndexerError):
    """The sandboxed extractor was closed (or its workers cannot start); restart the program."""
