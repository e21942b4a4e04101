"""New documents for a meeting: a material or the minutes, filed through the one filing use case and then
linked. Filing and linking are two transactions; a repeated upload after a crash between them is a
duplicate, which is then linked (when the person may see it), so nothing is filed twice or lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from records import meetings
from records.access import AccessScope
from records.errors import RecordsError
from records.filing import FilingOutcome, FilingRequest, FilingStatus, Source, seen_by
from records.meeting_bodies import DEFAULTS, Body
from records.meetings import Meeting
from records.model import MinutesFields, RecordId
from records.ports import Ports

File = Callable[[Source, FilingRequest], FilingOutcome]
"""The shell's filing call (Office.file: this home's plan, jurisdiction and size limit)."""


def file_material(ports: Ports, scope: AccessScope, file: File, meeting_id: str, item_ref: str, source: Source,
                  request: FilingRequest, *, now: datetime, channel: str = "cli") -> FilingOutcome:
    """File `source` as a record of its own class and link it to the agenda item."""
    meeting = meetings.meeting_of(ports, scope, meeting_id)
    meeting.item(item_ref)  # refuse an unknown item before anything is filed
    outcome = _filed(ports, scope, file, source, replace(
        request, principal=request.principal or meeting.principal, actor=scope.actor, channel=channel))
    meetings.add_material(ports, scope, meeting_id, item_ref, _linked_id(outcome), now=now, channel=channel)
    return outcome


def file_minutes(ports: Ports, scope: AccessScope, file: File, body: Body, meeting_id: str, source: Source,
                 original_name: str, *, now: datetime, channel: str = "cli") -> FilingOutcome:
    """File the minutes in the body's minutes class with the meeting's body, date and number, and link them."""
    meeting = meetings.meeting_of(ports, scope, meeting_id)
    request = FilingRequest(original_name=original_name, record_class=meeting.record_class,
                            principal=meeting.principal, confidentiality=meeting.confidentiality,
                            title=minutes_title(meeting, body), document_date=meeting.day,
                            details=MinutesFields(body=body_name(body),
                                                  meeting_date=meeting.day, session_number=meeting.number),
                            actor=scope.actor, channel=channel)
    outcome = _filed(ports, scope, file, source, request)
    meetings.add_minutes(ports, scope, meeting_id, _linked_id(outcome), now=now, channel=channel)
    return outcome


def body_name(body: Body) -> str:
    """The body's name in its own country's language, as the minutes field keeps it (skupščina, juhatus)."""
    return body.name("et") if body.code in {b.code for b in DEFAULTS["EE"]} else body.name("sl")


def minutes_title(meeting: Meeting, body: Body) -> str:
    return f"{body.name('en')} {meeting.number}: minutes ({meeting.day.isoformat()})"


def _filed(ports: Ports, scope: AccessScope, file: File, source: Source, request: FilingRequest) -> FilingOutcome:
    outcome = seen_by(ports, scope, file(source, request))
    if outcome.status is FilingStatus.DUPLICATE and outcome.duplicate_of is None:
        raise RecordsError(outcome.reason)
    if outcome.status not in (FilingStatus.FILED, FilingStatus.DUPLICATE):
        raise RecordsError(outcome.reason)
    return outcome


def _linked_id(outcome: FilingOutcome) -> RecordId:
    found = outcome.record_id or outcome.duplicate_of
    if found is None:
        raise RecordsError(outcome.reason)
    return found
