"""Meeting packs: one PDF per recipient with a cover, the agenda and the materials in agenda order, each
page watermarked with the recipient's name and the day.

What goes in is decided here: a material is in a pack only when both the person making it and the
recipient may see it (the recipient's Strongroom account decides; a participant without one gets no
pack), so a material someone may not see is in no pack, no agenda line and no count. Drawing the PDF is
the shell's (`PackRenderer`, pypdf); the pack is made in memory, handed out, never filed and never
indexed, so its watermark text is searchable nowhere. Each pack handed out is one audit entry naming the
maker, the meeting version and the recipient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from records import checkpoints, meetings, retrieval
from records.access import AccessScope
from records.errors import AccessDenied, RecordsError
from records.events import event
from records.meeting_bodies import Body
from records.meetings import Meeting, Participant
from records.model import BlobRole, Record, RecordId, State
from records.ports import Ports

PDF = "application/pdf"
TEXT = "text/plain"
OFFICE_TYPES = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.oasis.opendocument.text", "application/msword", "application/rtf")


class LeftOut:
    """Why a material the recipient may see is not in the pack (reason codes the shell translates)."""

    OFFICE = "office"  # .docx/.odt/.doc: converting needs an office suite, which works on plaintext files
    FORMAT = "format"  # another kind of file (a spreadsheet, an image, a message)
    UNREADABLE = "unreadable"  # a PDF that cannot be read (damaged or password-protected)
    # Found by the sandboxed pack worker (the shell's renderer): the material may be hostile.
    LIMITS = "limits"  # past pypdf's safety limits (a decompression bomb, structures nested too deep)
    TIMEOUT = "timeout"  # the worker took longer than its time limit on it
    MEMORY = "memory"  # the worker needed more memory than allowed on it
    CRASHED = "crashed"  # the worker died on it


@dataclass(frozen=True, slots=True)
class PackMaterial:
    record: Record
    data: bytes = b""  # the original, when it goes into the pack
    left_out: str = ""  # a LeftOut code; "" when included


@dataclass(frozen=True, slots=True)
class PackItem:
    number: int
    title: str
    materials: tuple[PackMaterial, ...]


@dataclass(frozen=True, slots=True)
class PackContent:
    meeting: Meeting
    body: Body
    recipient: Participant
    day: date  # the day on the watermark
    items: tuple[PackItem, ...]


@dataclass(frozen=True, slots=True)
class RenderedPack:
    data: bytes
    pages: int
    left_out: tuple[tuple[RecordId, str], ...]  # materials the renderer could not include, with a LeftOut code


PackRenderer = Callable[[PackContent], RenderedPack]


def leave_out_reason(record: Record) -> str:
    """Why a material cannot go into a pack as it is ("" when it can: PDF or plain text)."""
    if record.media_type in (PDF, TEXT):
        return ""
    return LeftOut.OFFICE if record.media_type in OFFICE_TYPES else LeftOut.FORMAT


def recipient_scope(ports: Ports, participant: Participant) -> AccessScope:
    """What the recipient may see: their own account's scope. Without one, Strongroom cannot tell."""
    user = ports.catalog.get_user(participant.user) if participant.user else None
    if user is None or user.disabled:
        raise RecordsError(f"{participant.name} has no enabled Strongroom account, so Strongroom cannot tell which "
                           "materials they may see: link the participant to a user first.")
    return AccessScope.of(user)


def participant(meeting: Meeting, ref: str) -> Participant:
    for p in meeting.participants:
        if ref in (p.user, p.name) and ref:
            return p
    raise RecordsError(f"{ref} is not a participant of meeting {meeting.number}: add them to the meeting first.")


def content(ports: Ports, scope: AccessScope, meeting: Meeting, body: Body, recipient: Participant, *,
            day: date, with_data: bool = True) -> PackContent:
    """The pack's agenda and materials as the recipient may see them (and the maker too)."""
    theirs = recipient_scope(ports, recipient)
    if not meetings.can_see(theirs, meeting):
        raise AccessDenied(f"{recipient.name} may not see this meeting (its principal or confidentiality level), "
                           "so no pack can be made for them.")
    items = []
    for n, item in enumerate(meeting.items, 1):
        shown = [r for r in retrieval.visible_records(ports, scope, item.materials)
                 if theirs.can_see(r) and r.state is not State.DISPOSED]
        items.append(PackItem(number=n, title=item.title, materials=tuple(
            _material(ports, r, with_data) for r in shown)))
    return PackContent(meeting=meeting, body=body, recipient=recipient, day=day, items=tuple(items))


def hand_out(ports: Ports, scope: AccessScope, meeting_id: str, body: Body, recipient_ref: str, *,
             render: PackRenderer, now: datetime, channel: str = "cli") -> RenderedPack:
    """Make one recipient's pack and record that it was handed out (maker, meeting version, recipient)."""
    meetings.require_preparer(scope, "make meeting packs")
    meeting = meetings.meeting_of(ports, scope, meeting_id)
    who = participant(meeting, recipient_ref)
    pack = content(ports, scope, meeting, body, who, day=now.date())
    rendered = render(pack)
    included = [m.record.registry_number for i in pack.items for m in i.materials
                if not m.left_out and m.record.id not in dict(rendered.left_out)]
    with ports.catalog.transaction() as tx:
        checkpoints.append(tx, ports.signer, event(
            "meeting.pack", actor=scope.actor, now=now, channel=channel,
            details=(("meeting", meeting.meeting_id), ("version", str(meeting.version)),
                     ("recipient", who.user), ("materials", ",".join(included)), ("pages", str(rendered.pages)),
                     ("left_out", str(sum(1 for i in pack.items for m in i.materials) - len(included))))))
    return rendered


def _material(ports: Ports, record: Record, with_data: bool) -> PackMaterial:
    reason = leave_out_reason(record)
    if reason or not with_data:
        return PackMaterial(record=record, left_out=reason)
    return PackMaterial(record=record, data=_original(ports, record))


def _original(ports: Ports, record: Record) -> bytes:
    ref = record.blob(BlobRole.ORIGINAL)
    key = ports.catalog.data_key(record.id)
    if ref is None or key is None:
        return b""
    return b"".join(ports.blobs.open(record.id, key, ref))
