"""Meetings: a body's session with its number, date, place, participants and agenda; each agenda item
links its materials (filed records) and its resolutions, and the meeting links its minutes.

A meeting is a sealed catalogue entry (settings `meeting.<id>`; `meeting.slot.<n>` lists them in the
order they were made, `meeting.last` the newest slot). It carries what access needs (principal and
confidentiality: a person sees a meeting as they would a record of that principal and level) and the
class of its body's minutes, whose retention it keeps (docs/ARCHITECTURE.md, "Meetings"). Materials and
minutes stay records of their own classes; the meeting only names them. Every change is read, changed
and written inside one catalogue transaction with its audit entry, and raises the meeting's version
(a pack names the version it was made from).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from records import checkpoints
from records.access import AccessScope, Permission
from records.errors import AccessDenied, RecordNotFound, RecordsError
from records.events import event, masked
from records.model import Confidentiality, Record, RecordId, State
from records.plan import Plan
from records.ports import CatalogTx, Ports

if TYPE_CHECKING:  # meeting_bodies asks which bodies have meetings, so it imports this module
    from records.meeting_bodies import Body

KEY = "meeting."
SLOT = "meeting.slot."
LAST = "meeting.last"


@dataclass(frozen=True, slots=True)
class Participant:
    name: str  # as printed on the pack's watermark: "Ana Novak"
    user: str = ""  # the Strongroom account that decides what this person may see ("" none)


@dataclass(frozen=True, slots=True)
class Resolution:
    resolution_id: str
    number: str  # "<meeting number>-<n>", e.g. "3/2026-2"
    text: str
    owner: str  # who carries it out
    due: date | None
    adopted_on: date
    done_on: date | None = None
    done_by: str = ""
    note: str = ""

    def status(self, today: date) -> str:
        """open, done, or overdue (open past its due date)."""
        if self.done_on is not None:
            return "done"
        return "overdue" if self.due is not None and self.due < today else "open"


@dataclass(frozen=True, slots=True)
class AgendaItem:
    item_id: str
    title: str
    materials: tuple[RecordId, ...] = ()
    resolutions: tuple[Resolution, ...] = ()


@dataclass(frozen=True, slots=True)
class Meeting:
    meeting_id: str
    body: str  # Body.code
    seq: int  # per body and year
    year: int
    day: date
    place: str
    principal: str
    confidentiality: Confidentiality
    record_class: str  # the body's minutes class: the meeting is kept as long as it
    participants: tuple[Participant, ...] = ()
    items: tuple[AgendaItem, ...] = ()
    minutes: tuple[RecordId, ...] = ()
    created_by: str = ""
    created_at: datetime | None = None
    version: int = 1

    @property
    def number(self) -> str:
        return f"{self.seq}/{self.year}"

    @property
    def held(self) -> bool:
        """Minutes are filed: the meeting took place."""
        return bool(self.minutes)

    def item(self, ref: str) -> AgendaItem:
        """An agenda item by its id or its 1-based number."""
        for n, item in enumerate(self.items, 1):
            if ref in (item.item_id, str(n)):
                return item
        raise RecordsError(f"Meeting {self.number} has no agenda item {ref}: `strongroom meeting show` lists them.")

    def resolutions(self) -> list[tuple[AgendaItem, Resolution]]:
        return [(item, r) for item in self.items for r in item.resolutions]


# An audit entry's details made from the meeting before and after the change (inside its transaction).
Described = Callable[[Meeting, Meeting], tuple[tuple[str, str], ...]]


def can_see(scope: AccessScope, meeting: Meeting) -> bool:
    """The record rule applied to the meeting's own principal and level."""
    if not scope.may(Permission.READ) or not scope.clearance.allows(meeting.confidentiality):
        return False
    return scope.principals is None or meeting.principal in scope.principals


def new_meeting(ports: Ports, plan: Plan, scope: AccessScope, body: Body, *, day: date, place: str,
                participants: tuple[Participant, ...], principal: str = "",
                confidentiality: Confidentiality | None = None, now: datetime, channel: str = "cli") -> Meeting:
    """A new meeting of `body`, numbered next in the body's year; confidentiality defaults to the body's class."""
    require_preparer(scope, "prepare meetings")
    cls = plan.resolve(body.record_class)
    level = confidentiality or cls.confidentiality
    if not scope.clearance.allows(level) or (scope.principals is not None and principal not in scope.principals):
        raise AccessDenied("You may not prepare a meeting of that principal or confidentiality level.")
    _check_participants(ports, participants)
    with ports.catalog.transaction() as tx:
        meeting = Meeting(meeting_id=uuid.uuid4().hex, body=body.code, seq=tx.next_registry_seq(f"meeting:{body.code}",
                                                                                                 day.year),
                          year=day.year, day=day, place=place.strip(), principal=principal, confidentiality=level,
                          record_class=cls.code, participants=participants, created_by=scope.actor, created_at=now)
        slot = int(ports.catalog.get_setting(LAST) or "0") + 1
        tx.put_setting(SLOT + str(slot), meeting.meeting_id)
        tx.put_setting(LAST, str(slot))
        _write(tx, meeting)
        checkpoints.append(tx, ports.signer, event("meeting.new", actor=scope.actor, now=now, channel=channel,
                                                   details=_about(meeting)))
    return meeting


def meetings(ports: Ports, scope: AccessScope) -> list[Meeting]:
    """Every meeting `scope` may see, newest date first."""
    last = int(ports.catalog.get_setting(LAST) or "0")
    found = []
    for slot in range(1, last + 1):
        meeting_id = ports.catalog.get_setting(SLOT + str(slot))
        if meeting_id:
            meeting = _read(ports, meeting_id)
            if meeting is not None and can_see(scope, meeting):
                found.append(meeting)
    return sorted(found, key=lambda m: (m.day, m.body, m.seq), reverse=True)


def bodies_in_use(ports: Ports) -> set[str]:
    """The codes of the bodies that have meetings (no access filter: for the use cases, never for display)."""
    last = int(ports.catalog.get_setting(LAST) or "0")
    found = (_read(ports, ports.catalog.get_setting(SLOT + str(slot)) or "") for slot in range(1, last + 1))
    return {m.body for m in found if m is not None}


def meeting_of(ports: Ports, scope: AccessScope, meeting_id: str) -> Meeting:
    """The meeting if `scope` may see it; the same sentence whether it is missing or hidden."""
    meeting = _read(ports, meeting_id)
    if meeting is None or not can_see(scope, meeting):
        raise RecordNotFound(f"There is no meeting {meeting_id} that you may see: `strongroom meeting list` "
                             "shows them.")
    return meeting


def find(ports: Ports, scope: AccessScope, ref: str) -> Meeting:
    """A meeting by its id, or by BODY/NUMBER (e.g. `uprava/3/2026`)."""
    if "/" in ref:
        body, _, number = ref.partition("/")
        for meeting in meetings(ports, scope):
            if meeting.body == body and meeting.number == number:
                return meeting
    return meeting_of(ports, scope, ref)


def add_item(ports: Ports, scope: AccessScope, meeting_id: str, title: str, *, now: datetime,
             channel: str = "cli") -> AgendaItem:
    """Append an item to the agenda."""
    title = title.strip()
    if not title:
        raise RecordsError("An agenda item needs a title.")
    item = AgendaItem(item_id=uuid.uuid4().hex[:10], title=title)
    _change(ports, scope, meeting_id, lambda m: replace(m, items=(*m.items, item)), "meeting.item.add", now=now,
            channel=channel, details=(("item", item.item_id), ("title", masked(ports, title))))
    return item


def move_item(ports: Ports, scope: AccessScope, meeting_id: str, item_ref: str, step: int, *, now: datetime,
              channel: str = "cli") -> Meeting:
    """Move an agenda item `step` places (-1 up, +1 down), kept within the agenda."""
    def move(m: Meeting) -> Meeting:
        items = list(m.items)
        at = items.index(m.item(item_ref))
        to = max(0, min(len(items) - 1, at + step))
        items.insert(to, items.pop(at))
        return replace(m, items=tuple(items))
    return _change(ports, scope, meeting_id, move, "meeting.item.move", now=now, channel=channel,
                   details=(("item", item_ref), ("step", str(step))))


def remove_item(ports: Ports, scope: AccessScope, meeting_id: str, item_ref: str, *, now: datetime,
                channel: str = "cli") -> Meeting:
    """Remove an agenda item that has no resolutions (its materials stay filed; only the link goes)."""
    def drop(m: Meeting) -> Meeting:
        item = m.item(item_ref)
        if item.resolutions:
            raise RecordsError("This agenda item has adopted resolutions, so it stays on the agenda.")
        return replace(m, items=tuple(i for i in m.items if i.item_id != item.item_id))
    return _change(ports, scope, meeting_id, drop, "meeting.item.remove", now=now, channel=channel,
                   details=(("item", item_ref),))


def add_material(ports: Ports, scope: AccessScope, meeting_id: str, item_ref: str, record_id: RecordId, *,
                 now: datetime, channel: str = "cli") -> Meeting:
    """Link a filed record, which `scope` may see, to an agenda item as its material."""
    record = _visible_record(ports, scope, record_id)

    def link(m: Meeting) -> Meeting:
        item = m.item(item_ref)
        if record.id in item.materials:
            raise RecordsError(f"{record.registry_number} is already a material of this agenda item.")
        return _with_item(m, replace(item, materials=(*item.materials, record.id)))
    return _change(ports, scope, meeting_id, link, "meeting.material.add", now=now, channel=channel,
                   record_id=record.id, details=(("item", item_ref),))


def remove_material(ports: Ports, scope: AccessScope, meeting_id: str, item_ref: str, record_id: RecordId, *,
                    now: datetime, channel: str = "cli") -> Meeting:
    """Unlink a material from an agenda item (the record itself stays filed)."""
    record = _visible_record(ports, scope, record_id)

    def unlink(m: Meeting) -> Meeting:
        item = m.item(item_ref)
        return _with_item(m, replace(item, materials=tuple(r for r in item.materials if r != record.id)))
    return _change(ports, scope, meeting_id, unlink, "meeting.material.remove", now=now, channel=channel,
                   record_id=record.id, details=(("item", item_ref),))


def add_minutes(ports: Ports, scope: AccessScope, meeting_id: str, record_id: RecordId, *, now: datetime,
                channel: str = "cli") -> Meeting:
    """Link the filed minutes (a record `scope` may see) to the meeting: from then on it was held."""
    record = _visible_record(ports, scope, record_id)

    def link(m: Meeting) -> Meeting:
        if record.id in m.minutes:
            raise RecordsError(f"{record.registry_number} is already linked as this meeting's minutes.")
        return replace(m, minutes=(*m.minutes, record.id))
    return _change(ports, scope, meeting_id, link, "meeting.minutes", now=now, channel=channel, record_id=record.id)


def reschedule(ports: Ports, scope: AccessScope, meeting_id: str, *, day: date | None = None,
               place: str | None = None, now: datetime, channel: str = "cli") -> Meeting:
    """Change the meeting's date and/or place (None: unchanged). The audit entry names the old and new values
    (the place as a keyed HMAC, like titles). The number stays, so the date stays in the number's year, and
    once the minutes are filed (they carry the date) the date stays too."""
    def edit(m: Meeting) -> Meeting:
        changed = m
        if day is not None and day != m.day:
            if day.year != m.year:
                raise RecordsError(f"Meeting {m.number} is numbered in {m.year}, so its date stays in {m.year}; "
                                   "for another year prepare a new meeting.")
            if m.held:
                raise RecordsError(f"The minutes of meeting {m.number} are filed with its date, so the date "
                                   "stays; a wrong date is corrected in the minutes' record.")
            changed = replace(changed, day=day)
        if place is not None and place.strip()[:200] != m.place:
            changed = replace(changed, place=place.strip()[:200])
        if changed == m:
            raise RecordsError("The date and place are as they were: nothing to change.")
        return changed

    def details(old: Meeting, new: Meeting) -> tuple[tuple[str, str], ...]:
        pairs = {"day": (old.day.isoformat(), new.day.isoformat()),
                 "place": (masked(ports, old.place) or "-", masked(ports, new.place) or "-")}
        fields = [name for name in pairs if getattr(old, name) != getattr(new, name)]
        return (("fields", ",".join(fields)),
                *((f"{name}.{which}", value) for name in fields for which, value in zip(("old", "new"), pairs[name])))
    return _change(ports, scope, meeting_id, edit, "meeting.edit", now=now, channel=channel, details=details)


def change(ports: Ports, scope: AccessScope, meeting_id: str, edit: Callable[[Meeting], Meeting], action: str, *,
           now: datetime, channel: str, details: tuple[tuple[str, str], ...] = (),
           record_id: str | None = None) -> Meeting:
    """Read, edit and write one meeting with its audit entry in one transaction (for records.resolutions)."""
    return _change(ports, scope, meeting_id, edit, action, now=now, channel=channel, details=details,
                   record_id=record_id)


# ---- storage --------------------------------------------------------------------------------------


def _change(ports: Ports, scope: AccessScope, meeting_id: str, edit: Callable[[Meeting], Meeting], action: str, *,
            now: datetime, channel: str, details: tuple[tuple[str, str], ...] | Described = (),
            record_id: str | None = None) -> Meeting:
    require_preparer(scope, "change meetings")
    with ports.catalog.transaction() as tx:
        # Read inside the transaction (the catalogue's lock is held): no concurrent edit is lost.
        meeting = meeting_of(ports, scope, meeting_id)
        changed = replace(edit(meeting), version=meeting.version + 1)
        said = details(meeting, changed) if callable(details) else details
        _write(tx, changed)
        checkpoints.append(tx, ports.signer, event(action, actor=scope.actor, now=now, channel=channel,
                                                   record_id=record_id,
                                                   details=(("meeting", meeting.meeting_id),
                                                            ("version", str(changed.version)), *said)))
    return changed


def require_preparer(scope: AccessScope, what: str) -> None:
    """Preparing meetings (and their packs) is filing work: the FILE permission."""
    if not scope.may(Permission.FILE):
        raise AccessDenied(f"Your role ({scope.role}) may not {what}.")


def _visible_record(ports: Ports, scope: AccessScope, record_id: RecordId) -> Record:
    try:
        record = ports.catalog.get(record_id)
    except RecordNotFound:
        record = None
    if record is None or not scope.can_see(record) or record.state is State.DISPOSED:
        raise RecordNotFound(f"There is no record {record_id} that you may see: check the id (`strongroom list`).")
    return record


def _check_participants(ports: Ports, participants: tuple[Participant, ...]) -> None:
    for p in participants:
        if not p.name.strip():
            raise RecordsError("A participant needs a name.")
        if p.user and ports.catalog.get_user(p.user) is None:
            raise RecordsError(f"There is no user {p.user!r} to link {p.name} to: `strongroom user list` shows them.")


def _with_item(meeting: Meeting, item: AgendaItem) -> Meeting:
    return replace(meeting, items=tuple(item if i.item_id == item.item_id else i for i in meeting.items))


def _about(meeting: Meeting) -> tuple[tuple[str, str], ...]:
    return (("meeting", meeting.meeting_id), ("body", meeting.body), ("number", meeting.number),
            ("day", meeting.day.isoformat()))


def _write(tx: CatalogTx, meeting: Meeting) -> None:
    tx.put_setting(KEY + meeting.meeting_id, json.dumps(to_json(meeting), ensure_ascii=False, sort_keys=True))


def _read(ports: Ports, meeting_id: str) -> Meeting | None:
    if not meeting_id or not all(c in "0123456789abcdef" for c in meeting_id):
        return None
    raw = ports.catalog.get_setting(KEY + meeting_id)
    return from_json(json.loads(raw)) if raw else None


def to_json(m: Meeting) -> dict[str, Any]:
    return {"id": m.meeting_id, "body": m.body, "seq": m.seq, "year": m.year, "day": m.day.isoformat(),
            "place": m.place, "principal": m.principal, "confidentiality": str(m.confidentiality),
            "record_class": m.record_class, "version": m.version, "created_by": m.created_by,
            "created_at": m.created_at.isoformat() if m.created_at else None,
            "participants": [{"name": p.name, "user": p.user} for p in m.participants],
            "minutes": list(m.minutes),
            "items": [{"id": i.item_id, "title": i.title, "materials": list(i.materials),
                       "resolutions": [_resolution_json(r) for r in i.resolutions]} for i in m.items]}


def _resolution_json(r: Resolution) -> dict[str, Any]:
    return {"id": r.resolution_id, "number": r.number, "text": r.text, "owner": r.owner,
            "due": r.due.isoformat() if r.due else None, "adopted_on": r.adopted_on.isoformat(),
            "done_on": r.done_on.isoformat() if r.done_on else None, "done_by": r.done_by, "note": r.note}


def _day(raw: str | None) -> date | None:
    return date.fromisoformat(raw) if raw else None


def from_json(d: dict[str, Any]) -> Meeting:
    items = tuple(AgendaItem(item_id=i["id"], title=i["title"], materials=tuple(RecordId(x) for x in i["materials"]),
                             resolutions=tuple(Resolution(
                                 resolution_id=r["id"], number=r["number"], text=r["text"], owner=r["owner"],
                                 due=_day(r["due"]), adopted_on=date.fromisoformat(r["adopted_on"]),
                                 done_on=_day(r["done_on"]), done_by=r["done_by"], note=r["note"])
                                 for r in i["resolutions"]))
                  for i in d["items"])
    return Meeting(meeting_id=d["id"], body=d["body"], seq=int(d["seq"]), year=int(d["year"]),
                   day=date.fromisoformat(d["day"]), place=d["place"], principal=d["principal"],
                   confidentiality=Confidentiality(d["confidentiality"]), record_class=d["record_class"],
                   participants=tuple(Participant(p["name"], p["user"]) for p in d["participants"]),
                   items=items, minutes=tuple(RecordId(x) for x in d["minutes"]), created_by=d["created_by"],
                   created_at=datetime.fromisoformat(d["created_at"]) if d["created_at"] else None,
                   version=int(d["version"]))
