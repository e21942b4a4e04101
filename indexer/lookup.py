"""The search use case for every shell: scoped, audited search, and the documents a rebuild indexes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from indexer.errors import IndexerError
from records import checkpoints, retrieval
from records.access import AccessScope, Permission
from records.errors import AccessDenied
from records.events import event, masked
from records.model import BlobRole, RecordId, State
from records.ports import IndexDoc, Ports, SearchRequest, SearchResult


def search_records(ports: Ports, request: SearchRequest, scope: AccessScope, *, now: datetime,
                   channel: str = "cli") -> SearchResult:
    """Search as `scope`; one audit entry with the query HMAC'd (never readable) and the hit count."""
    if ports.index is None:
        raise IndexerError("Search is not available because the search index could not be opened: "
                           "run `strongroom reindex`.")
    if not scope.may(Permission.READ):
        raise AccessDenied(f"{scope.actor} may not search the records.")

    def text_of(record_id: RecordId) -> str:
        return retrieval.text_of(ports, record_id)
    result = ports.index.search(request, scope, text_of)
    with ports.catalog.transaction() as tx:
        checkpoints.append(tx, ports.signer, event("search", actor=scope.actor, now=now, channel=channel,
                                                   details=(("query", masked(ports, request.query)),
                                                            ("hits", str(result.total)))))
    return result


def index_documents(ports: Ports) -> Iterator[IndexDoc]:
    """Every record that is not disposed, with its sealed text rendition decrypted (for reindex)."""
    for record in ports.catalog.find():
        if record.state is State.DISPOSED:
            continue
        text = retrieval.text_of(ports, record.id) if record.blob(BlobRole.TEXT) is not None else ""
        yield IndexDoc(record=record, text=text)


def reconcile(ports: Ports) -> tuple[int, int]:
    """Bring the index in line with the catalogue after a crash: index the live records it misses,
    remove what it holds that is disposed or unknown. Returns (indexed, removed).

    The index's ids are read before the catalogue: an id is indexed only after its record
    committed, so a record filed meanwhile by another process is never taken for a stray."""
    if ports.index is None:
        return 0, 0
    in_index = ports.index.ids()
    live = {r.id: r for r in ports.catalog.find() if r.state is not State.DISPOSED}
    missing = [live[rid] for rid in live.keys() - in_index]
    strays = sorted(in_index - live.keys())
    if strays:
        ports.index.remove(strays)
    if missing:
        ports.index.upsert([IndexDoc(record=r, text=retrieval.text_of(ports, r.id)
                                     if r.blob(BlobRole.TEXT) is not None else "") for r in missing])
    return len(missing), len(strays)


def indexable_count(ports: Ports) -> int:
    return sum(1 for r in ports.catalog.find() if r.state is not State.DISPOSED)
