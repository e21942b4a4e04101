"""Matter holds: a legal hold by query (class, principal, party, date range, search words) rather than by record.

A matter hold is evaluated whenever retention is: at disposal, in the due and hold lists, at transfer.
It is never a snapshot, so a record filed after the hold was placed that matches it is held too. A
hold that cannot be evaluated fully errs on the side of keeping: when the search index is missing or
fails, the search words are taken to match every record the other criteria match.

Matter holds live in the catalogue's settings table (`hold.matter.<id>`, the ids under
`hold.matters`), released ones included (the history stays). Placing and releasing are audited in
the same transaction as the change (`hold.matter.add`, `hold.matter.release`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime

from records import checkpoints
from records.access import AccessScope, Permission
from records.errors import AccessDenied, RecordsError
from records.events import event, masked
from records.holds import HOLD_RANK
from records.model import Record, RecordId, Role
from records.plan import Plan
from records.ports import Ports, SearchRequest

KEY_PREFIX = "hold.matter."
# The Record.extra key naming the case file a record belongs to (written by records.casefiles).
CASEFILE_KEY = "casefile"
INDEX_KEY = "hold.matters"
_PAGE = 200
_MAX_PAGES = 50  # the index collects at most 10,000 hits per query


@dataclass(frozen=True, slots=True)
class MatterQuery:
    """What a matter covers; every given criterion must match (an empty query is refused)."""

    record_class: str = ""  # a class code; its subclasses are covered too (03 covers 03.1)
    principal: str = ""
    party: str = ""  # matched, case-insensitively, inside parties, sender, recipients, issuer, employee
    date_from: date | None = None  # document date (the filing date when it has none), inclusive
    date_to: date | None = None
    words: str = ""  # a search query over the records' text and metadata
    casefile: str = ""  # a case file's id: every record in it, also ones added later (records.casefiles)

    @property
    def empty(self) -> bool:
        return not (self.record_class or self.principal or self.party or self.date_from or self.date_to
                    or self.words or self.casefile)

    def describe(self, casefiles: Mapping[str, str] | None = None) -> str:
        """The query in words; a case file by its number when `casefiles` (id -> number) names it."""
        casefile = (casefiles or {}).get(self.casefile, self.casefile)
        parts = [f"{k.replace('_', ' ')} {v}" for k, v in (("class", self.record_class),
                                                             ("principal", self.principal),
                                                             ("party", self.party), ("from", self.date_from),
                                                             ("to", self.date_to), ("words", self.words),
                                                             ("case file", casefile)) if v]
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class MatterHold:
    hold_id: str
    query: MatterQuery
    reason: str
    placed_by: str
    placed_at: datetime
    placed_role: Role
    released_by: str | None = None
    released_at: datetime | None = None
    release_reason: str = ""

    @property
    def active(self) -> bool:
        return self.released_at is None


def place(ports: Ports, plan: Plan, scope: AccessScope, query: MatterQuery, reason: str, *, now: datetime,
          channel: str = "cli") -> MatterHold:
    """Place a hold on every record, present and future, that matches `query`; the reason is required."""
    if not scope.may(Permission.HOLD):
        raise AccessDenied(f"Your role ({scope.role}) may not place holds.")
    reason = reason.strip()
    if not reason:
        raise RecordsError("A hold needs a reason (the case, request or mandate behind it): give --reason.")
    if query.empty:
        raise RecordsError("A matter hold needs at least one criterion (class, principal, party, dates or "
                           "words); to hold one record, name it.")
    if query.record_class:
        query = replace(query, record_class=plan.resolve(query.record_class).code)
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise RecordsError("The hold's date range ends before it starts: swap --from and --to.")
    hold = MatterHold(hold_id=uuid.uuid4().hex[:12], query=query, reason=reason, placed_by=scope.actor,
                      placed_at=now, placed_role=scope.role)
    with ports.catalog.transaction() as tx:
        tx.put_setting(KEY_PREFIX + hold.hold_id, _dump(hold))
        tx.put_setting(INDEX_KEY, json.dumps([*_ids(ports), hold.hold_id]))
        checkpoints.append(tx, ports.signer, event("hold.matter.add", actor=scope.actor, now=now, channel=channel,
                                                   details=(("hold", hold.hold_id),
                                                            ("query", masked(ports, query.describe())),
                                                            ("reason", masked(ports, reason)))))
    return hold


def release(ports: Ports, scope: AccessScope, hold_id: str, *, reason: str, now: datetime,
            channel: str = "cli") -> MatterHold:
    """Release a matter hold with a reason; only a role at least as high as the placer's may."""
    reason = reason.strip()
    if not reason:
        raise RecordsError("Releasing a hold needs a reason (the case closed, the request withdrawn): "
                           "give --reason.")
    if not scope.may(Permission.HOLD):
        raise AccessDenied(f"Your role ({scope.role}) may not release holds.")
    hold = load(ports, hold_id)
    if not hold.active:
        raise RecordsError(f"The matter hold {hold_id} was released already.")
    if HOLD_RANK.get(scope.role, 0) < HOLD_RANK.get(hold.placed_role, HOLD_RANK[Role.ADMIN]):
        raise AccessDenied(f"This hold was placed by a {hold.placed_role}; only a {hold.placed_role}"
                           f"{'' if hold.placed_role is Role.ADMIN else ' or a higher role'} may release it.")
    released = replace(hold, released_by=scope.actor, released_at=now, release_reason=reason)
    with ports.catalog.transaction() as tx:
        tx.put_setting(KEY_PREFIX + hold_id, _dump(released))
        checkpoints.append(tx, ports.signer, event("hold.matter.release", actor=scope.actor, now=now,
                                                   channel=channel,
                                                   details=(("hold", hold_id), ("placed_by", hold.placed_by),
                                                            ("reason", masked(ports, reason)))))
    return released


def all_holds(ports: Ports) -> list[MatterHold]:
    """Every matter hold, released ones included, oldest first."""
    return [load(ports, hid) for hid in _ids(ports)]


def active(ports: Ports) -> list[MatterHold]:
    return [h for h in all_holds(ports) if h.active]


def load(ports: Ports, hold_id: str) -> MatterHold:
    raw = ports.catalog.get_setting(KEY_PREFIX + hold_id)
    if raw is None:
        raise RecordsError(f"There is no matter hold {hold_id}: `strongroom hold list` shows them.")
    doc = json.loads(raw)
    q = doc["query"]
    query = MatterQuery(record_class=q["record_class"], principal=q["principal"], party=q["party"],
                        date_from=_day(q["date_from"]), date_to=_day(q["date_to"]), words=q["words"],
                        casefile=q.get("casefile", ""))
    return MatterHold(hold_id=hold_id, query=query, reason=doc["reason"], placed_by=doc["placed_by"],
                      placed_at=datetime.fromisoformat(doc["placed_at"]), placed_role=Role(doc["placed_role"]),
                      released_by=doc["released_by"],
                      released_at=datetime.fromisoformat(doc["released_at"]) if doc["released_at"] else None,
                      release_reason=doc["release_reason"])


def covering(ports: Ports, records: Iterable[Record], holds: list[MatterHold] | None = None
             ) -> dict[RecordId, list[MatterHold]]:
    """The active matter holds that cover each of `records` (only records some hold covers)."""
    found: dict[RecordId, list[MatterHold]] = {}
    chosen = active(ports) if holds is None else holds
    if not chosen:
        return found
    records = list(records)
    for hold in chosen:
        hits = _word_hits(ports, hold.query.words)
        for record in records:
            if matches(hold.query, record, hits):
                found.setdefault(record.id, []).append(hold)
    return found


def matches(query: MatterQuery, record: Record, word_hits: set[RecordId] | None) -> bool:
    """Does `record` fall under `query`? `word_hits`: the records the words find (None: the words could
    not be searched, so they are taken to match)."""
    if query.casefile and dict(record.extra).get(CASEFILE_KEY) != query.casefile:
        return False
    if query.record_class and not (record.record_class == query.record_class
                                   or record.record_class.startswith(query.record_class + ".")):
        return False
    if query.principal and record.principal.casefold() != query.principal.casefold():
        return False
    if query.party and not any(query.party.casefold() in p.casefold() for p in _parties(record)):
        return False
    day = record.document_date or record.filed_at.date()
    if (query.date_from and day < query.date_from) or (query.date_to and day > query.date_to):
        return False
    if query.words and word_hits is not None and record.id not in word_hits \
            and not _in_metadata(query.words, record):
        return False
    return True


def _word_hits(ports: Ports, words: str) -> set[RecordId] | None:
    """The records the search index finds for `words`; None when it cannot tell (no index, a failure,
    more hits than it collects): then the words hold everything else the query matches."""
    if not words:
        return set()
    if ports.index is None:
        return None
    found: set[RecordId] = set()
    try:
        for page in range(1, _MAX_PAGES + 1):
            result = ports.index.search(SearchRequest(query=words, page=page, page_len=_PAGE, with_facets=False),
                                        AccessScope.system("system:hold"), lambda _rid: "")
            found.update(h.record_id for h in result.hits)
            if not result.total_exact:
                return None
            if page * _PAGE >= result.total:
                return found
    except Exception:  # noqa: BLE001 - a hold that cannot be evaluated keeps, never releases
        return None
    return None


def _in_metadata(words: str, record: Record) -> bool:
    """Every word in the record's title, parties, tags or name (a disposed stub has none of them)."""
    haystack = " ".join((record.title, record.original_name, *record.tags, *_parties(record))).casefold()
    return all(w.casefold() in haystack for w in words.split() if w.strip('"'))


def _parties(record: Record) -> list[str]:
    names = list(record.parties)
    details = record.details
    for attr in ("parties", "recipients"):
        names.extend(getattr(details, attr, ()) or ())
    for attr in ("sender", "issuer", "employee"):
        value = getattr(details, attr, "")
        if value:
            names.append(value)
    return names


def _dump(hold: MatterHold) -> str:
    doc = asdict(hold)
    doc["query"] = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(hold.query).items()}
    doc["placed_at"] = hold.placed_at.isoformat()
    doc["released_at"] = hold.released_at.isoformat() if hold.released_at else None
    doc["placed_role"] = str(hold.placed_role)
    return json.dumps(doc, sort_keys=True)


def _ids(ports: Ports) -> list[str]:
    raw = ports.catalog.get_setting(INDEX_KEY)
    return [str(x) for x in json.loads(raw)] if raw else []


def _day(raw: str | None) -> date | None:
    return date.fromisoformat(raw) if raw else None
