"""Deadlines as an iCalendar (RFC 5545) file, written with the icalendar library.

Titles are sensitive: an event names the record's registry number and a generic label ("Invoice
due 05.1-3/2026") unless the user opted in to titles; no document text ever goes into a feed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event

from records.agenda import Deadline
from records.resolutions import Due

PRODID = "-//Strongroom//deadlines//EN"


def calendar_bytes(items: Sequence[Deadline], *, label: Callable[[str], str], titles: bool, now: datetime,
                   name: str, resolutions: Sequence[Due] = ()) -> bytes:
    """One all-day event per deadline; UIDs are stable (record and kind), so a subscribed client
    updates an event instead of duplicating it."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for item in items:
        summary = f"{label(item.kind)} {item.record.registry_number}"
        if titles and item.record.title:
            summary += f": {item.record.title}"
        cal.add_component(_all_day(f"{item.record.id}-{item.kind}@strongroom", item.day, summary, now))
    for due in resolutions:
        # A resolution's text is as sensitive as a title: only with the titles opt-in.
        r = due.entry.resolution
        summary = f"{label('resolution_due')} {due.entry.meeting.body} {r.number}"
        if titles:
            summary += f": {r.text}"
        cal.add_component(_all_day(f"resolution-{r.resolution_id}@strongroom", due.day, summary, now))
    data: bytes = cal.to_ical()
    return data


def _all_day(uid: str, day: date, summary: str, now: datetime) -> Event:
    """A deadline as a free all-day event, so it never blocks the user's calendar."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("transp", "TRANSPARENT")
    return event
