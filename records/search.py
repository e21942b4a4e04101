"""Searching and rebuilding the index: the scoped, audited search and the reconcile after a crash."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime

from records import checkpoints, retrieval
from records.access import AccessScope, Permission
from records.errors import AccessDenied, PlanError, SearchUnavailable
from records.events import event, masked
from records.model import BlobRole, Record, RecordId, State
from records.plan import Plan
from records.ports import IndexDoc, Ports, SearchRequest, SearchResult

# (documents, how many there are) -> how many were indexed; the shell binds the index's place and key
IndexBuilder = Callable[[Iterator[IndexDoc], int], int]


_CLASS_TERM = re.compile(r'(?:^|\s)-?class:("[^"]*"|\S+)', re.IGNORECASE)


def check_classes(plan: Plan, query: str) -> None:
    """Refuse a `class:` restriction that names no class of the plan, instead of finding nothing."""
    for raw in _CLASS_TERM.findall(query):
        value = raw.strip('"').strip()
        known = {c.code.lower() for c in plan.classes} | {c.slug.lower() for c in plan.classes}
        if value and value.lower() not in known:
            raise PlanError(f"There is no record class {value!r}: use a class code of the plan, such as "
                            f"{plan.classes[0].code}.")


def search_records(ports: Ports, request: SearchRequest, scope: AccessScope, *, now: datetime,
                   channel: str = "cli", plan: Plan | None = None) -> SearchResult:
    """Search as `scope`; one audit entry with the query HMAC'd (never readable) and the hit count.
    With the plan, a `class:` naming no class of it is refused with one sentence."""
    if plan is not None:
        check_classes(plan, request.query)
    if ports.index is None:
        raise SearchUnavailable("Search is not available because the search index could not be opened: "
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


def _doc(ports: Ports, record: Record) -> IndexDoc:
    text = retrieval.text_of(ports, record.id) if record.blob(BlobRole.TEXT) is not None else ""
    return IndexDoc(record=record, text=text)


def _live(ports: Ports) -> list[Record]:
    return [r for r in ports.catalog.find() if r.state is not State.DISPOSED]


def reindex(ports: Ports, build: IndexBuilder, *, actor: str, now: datetime) -> int:
    """Rebuild the index from the sealed text renditions of every live record; audited. Returns the
    number indexed. `build` writes a new index and swaps it in (the old one serves until then)."""
    live = _live(ports)
    count = build((_doc(ports, r) for r in live), len(live))
    with ports.catalog.transaction() as tx:
        checkpoints.append(tx, ports.signer, event("index.rebuild", actor=actor, now=now,
                                                   details=(("records", str(count)),)))
    return count


def reconcile(ports: Ports) -> tuple[int, int]:
    """Bring the index in line with the catalogue after a crash: index the live records it misses,
    remove what it holds that is disposed or unknown. Returns (indexed, removed).

    The index's ids are read before the catalogue: an id is indexed only after its record
    committed, so a record filed meanwhile by another process is never taken for a stray."""
    if ports.index is None:
        return 0, 0
    in_index = ports.index.ids()
    live = {r.id: r for r in _live(ports)}
    missing = [live[rid] for rid in live.keys() - in_index]
    strays = sorted(in_index - live.keys())
    if strays:
        ports.index.remove(strays)
    if missing:
        ports.index.upsert([_doc(ports, r) for r in missing])
    return len(missing), len(strays)
