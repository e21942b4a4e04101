"""The resolutions register: what each meeting decided, who carries it out, by when, and whether it is
done; open resolutions past their due date are overdue (computed from `today`, never stored).

Resolutions live inside their meeting (records.meetings), so adopting or closing one is a change of
that meeting with its own audit entry (`resolution.adopt`, `resolution.done`). The register lists only
meetings the reader may see.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from records import meetings
from records.access import AccessScope
from records.errors import RecordsError
from records.events import masked
from records.meetings import AgendaItem, Meeting, Resolution
from records.ports import Ports
from records.spreadsheet import csv_lines

STATUSES = ("open", "done", "overdue")
HEADER = ("number", "body", "meeting", "meeting_date", "agenda_item", "text", "owner", "due", "status",
          "done_on", "done_by", "meeting_id", "resolution_id")


@dataclass(frozen=True, slots=True)
class Entry:
    meeting: Meeting
    item: AgendaItem
    resolution: Resolution
    status: str  # open, done, overdue


@dataclass(frozen=True, slots=True)
class Due:
    """An open resolution's due date, for the start page and the calendar feed."""

    day: date
    entry: Entry


def adopt(ports: Ports, scope: AccessScope, meeting_id: str, item_ref: str, text: str, *, owner: str,
          due: date | None, adopted_on: date | None = None, now: datetime, channel: str = "cli") -> Resolution:
    """Record a resolution adopted under an agenda item; its number follows the meeting's last one."""
    text = text.strip()
    if not text:
        raise RecordsError("A resolution needs its text.")
    made: list[Resolution] = []

    def add(m: Meeting) -> Meeting:
        item = m.item(item_ref)
        number = f"{m.number}-{len(m.resolutions()) + 1}"
        resolution = Resolution(resolution_id=uuid.uuid4().hex[:12], number=number, text=text, owner=owner.strip(),
                                due=due, adopted_on=adopted_on or m.day)
        made.append(resolution)
        return replace(m, items=tuple(replace(i, resolutions=(*i.resolutions, resolution))
                                      if i.item_id == item.item_id else i for i in m.items))
    meetings.change(ports, scope, meeting_id, add, "resolution.adopt", now=now, channel=channel,
                    details=(("item", item_ref), ("text", masked(ports, text)),
                             ("due", due.isoformat() if due else "")))
    return made[0]


def mark_done(ports: Ports, scope: AccessScope, meeting_id: str, resolution_ref: str, *, on: date, note: str = "",
              now: datetime, channel: str = "cli") -> Resolution:
    """Close a resolution as carried out on `on`; `resolution_ref` is its id or number."""
    done: list[Resolution] = []

    def close(m: Meeting) -> Meeting:
        for item in m.items:
            for r in item.resolutions:
                if resolution_ref in (r.resolution_id, r.number):
                    if r.done_on is not None:
                        raise RecordsError(f"Resolution {r.number} was closed on {r.done_on.isoformat()} already.")
                    closed = replace(r, done_on=on, done_by=scope.actor, note=note.strip())
                    done.append(closed)
                    return replace(m, items=tuple(replace(i, resolutions=tuple(
                        closed if x.resolution_id == r.resolution_id else x for x in i.resolutions))
                        if i.item_id == item.item_id else i for i in m.items))
        raise RecordsError(f"Meeting {m.number} has no resolution {resolution_ref}: `strongroom resolutions` "
                           "lists them.")
    meetings.change(ports, scope, meeting_id, close, "resolution.done", now=now, channel=channel,
                    details=(("resolution", resolution_ref), ("on", on.isoformat())))
    return done[0]


def find(ports: Ports, scope: AccessScope, number_or_id: str) -> Entry:
    """A resolution anywhere in the register, by id, or by BODY:NUMBER when numbers repeat across bodies."""
    body, _, ref = number_or_id.rpartition(":")
    matches = [e for e in register(ports, scope, today=date.min)
               if ref in (e.resolution.resolution_id, e.resolution.number) and body in ("", e.meeting.body)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise RecordsError(f"Resolution {ref} exists in several bodies: write it as BODY:{ref}, e.g. "
                           f"{matches[0].meeting.body}:{ref}.")
    raise RecordsError(f"There is no resolution {number_or_id} that you may see: `strongroom resolutions` lists them.")


def register(ports: Ports, scope: AccessScope, *, today: date, status: str = "", body: str = "", owner: str = "",
             due_before: date | None = None) -> list[Entry]:
    """Every resolution of the meetings `scope` may see, filtered, open ones by due date first."""
    if status and status not in STATUSES:
        raise RecordsError(f"The status {status!r} is unknown: use open, done or overdue.")
    out = []
    for meeting in meetings.meetings(ports, scope):
        if body and meeting.body != body:
            continue
        for item, r in meeting.resolutions():
            entry = Entry(meeting=meeting, item=item, resolution=r, status=r.status(today))
            if status and not (entry.status == status or (status == "open" and entry.status == "overdue")):
                continue
            if owner and owner.casefold() not in r.owner.casefold():
                continue
            if due_before is not None and (r.due is None or r.due > due_before):
                continue
            out.append(entry)
    return sorted(out, key=lambda e: (e.status == "done", e.resolution.due or date.max, e.meeting.day,
                                      e.resolution.number))


def due_dates(ports: Ports, scope: AccessScope, *, today: date, first: date, last: date) -> list[Due]:
    """Open resolutions whose due date lies between `first` and `last`, soonest first."""
    return [Due(e.resolution.due, e) for e in register(ports, scope, today=today, status="open")
            if e.resolution.due is not None and first <= e.resolution.due <= last]


def agenda_split(ports: Ports, scope: AccessScope, *, today: date, window_days: int) -> tuple[list[Due], list[Due]]:
    """(upcoming within the window, overdue) for the start page."""
    found = due_dates(ports, scope, today=today, first=date.min, last=today + timedelta(days=window_days))
    return [d for d in found if d.day >= today], [d for d in found if d.day < today]


def register_csv(entries: Iterable[Entry], body_name: dict[str, str]) -> Iterator[bytes]:
    rows = ((e.resolution.number, body_name.get(e.meeting.body, e.meeting.body), e.meeting.number, e.meeting.day,
             e.item.title, e.resolution.text, e.resolution.owner, e.resolution.due, e.status, e.resolution.done_on,
             e.resolution.done_by, e.meeting.meeting_id, e.resolution.resolution_id) for e in entries)
    return csv_lines(HEADER, rows)
