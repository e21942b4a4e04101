"""`strongroom meeting new|list|show|edit|bodies|agenda-add|material-add|minutes|resolve|pack` and
`strongroom resolutions [done]`: meetings, the resolutions register and meeting packs from the terminal."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from records import meeting_bodies, meeting_filing, meetings, packs, resolutions, retrieval
from records.access import AccessScope
from records.filing import FilingOutcome, FilingRequest
from records.meetings import Meeting, Participant
from records.model import Confidentiality
from web.cli.common import DAY, now, open_office, print_json, record_id, scope_of
from web.meeting_pack import PackWords, render_pack
from web.office import Office

_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
_AS = click.option("--as", "as_user", metavar="USER", help="Act as this user (password asked).")


def meeting_json(office: Office, scope: AccessScope, m: Meeting) -> dict[str, Any]:
    """The meeting as `scope` may see it: materials and minutes the person may not see are left out."""
    today = now().date()
    body = meeting_bodies.body_of(office.ports, office.settings.jurisdiction, m.body)

    def refs(ids: tuple[Any, ...]) -> list[dict[str, Any]]:
        return [{"id": r.id, "registry_number": r.registry_number, "title": r.title, "media_type": r.media_type,
                 "pack": packs.leave_out_reason(r) or "included"}
                for r in retrieval.visible_records(office.ports, scope, ids)]
    return {"id": m.meeting_id, "body": m.body, "body_name": body.name(office.settings.language),
            "number": m.number, "date": m.day, "place": m.place, "principal": m.principal,
            "confidentiality": str(m.confidentiality), "record_class": m.record_class, "version": m.version,
            "held": m.held, "participants": [{"name": p.name, "user": p.user} for p in m.participants],
            "minutes": refs(m.minutes),
            "agenda": [{"number": n, "id": i.item_id, "title": i.title, "materials": refs(i.materials),
                        "resolutions": [resolution_json(r, today) for r in i.resolutions]}
                       for n, i in enumerate(m.items, 1)]}


def resolution_json(r: meetings.Resolution, today: Any) -> dict[str, Any]:
    return {"id": r.resolution_id, "number": r.number, "text": r.text, "owner": r.owner, "due": r.due,
            "status": r.status(today), "done_on": r.done_on, "done_by": r.done_by}


def _participant(text: str) -> Participant:
    name, _, user = text.partition("=")
    return Participant(name=name.strip(), user=user.strip())


def _show(office: Office, scope: AccessScope, meeting_id: str, as_json: bool) -> None:
    m = meetings.meeting_of(office.ports, scope, meeting_id)
    doc = meeting_json(office, scope, m)
    if as_json:
        print_json(doc)
        return
    click.echo(f"{doc['body_name']} {m.number}  {m.day.isoformat()}  {m.place}  (id {m.meeting_id}, version "
               f"{m.version})")
    click.echo("Participants: " + (", ".join(p.name + (f" ({p.user})" if p.user else "") for p in m.participants)
                                   or "-"))
    for item in doc["agenda"]:
        click.echo(f"{item['number']}. {item['title']}")
        for r in item["materials"]:
            note = "" if r["pack"] == "included" else f"  [not in packs: {r['pack']}]"
            click.echo(f"     {r['registry_number']}  {r['title']}{note}")
        for r in item["resolutions"]:
            click.echo(f"     resolution {r['number']} [{r['status']}] {r['text']}")
    click.echo("Minutes: " + (", ".join(r["registry_number"] for r in doc["minutes"]) or "not filed yet"))


def _outcome(outcome: FilingOutcome, as_json: bool) -> None:
    if as_json:
        print_json({"status": str(outcome.status), "record_id": outcome.record_id or outcome.duplicate_of,
                    "registry_number": outcome.registry_number, "reason": outcome.reason})
    else:
        click.echo(outcome.reason)


@click.group("meeting")
def meeting_group() -> None:
    """Meetings of the management and supervisory boards, the general meeting and the collegium."""


@meeting_group.command("bodies")
@click.option("--set", "source", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Replace the list (administrators): a JSON list of {code, names: {sl, et, en}, record_class}.")
@_JSON
@_AS
@click.pass_obj
def meeting_bodies_cmd(obj: dict[str, object], source: Path | None, as_json: bool, as_user: str | None) -> None:
    """The bodies that hold meetings, with the class their minutes are filed in."""
    with open_office(obj) as office:
        if source is not None:
            try:
                given = json.loads(source.read_text(encoding="utf-8"))
                items = [meeting_bodies.Body(code=str(b["code"]), names=tuple((str(k), str(v)) for k, v in
                                                                              b["names"].items()),
                                             record_class=str(b["record_class"])) for b in given]
            except (ValueError, KeyError, TypeError, AttributeError):
                raise click.UsageError("The file must be a JSON list of {\"code\", \"names\": {\"sl\", \"et\", "
                                       "\"en\"}, \"record_class\"}.") from None
            meeting_bodies.set_bodies(office.ports, office.plan, scope_of(office, as_user), items, now=now(),
                                      jurisdiction=office.settings.jurisdiction)
        found = meeting_bodies.bodies(office.ports, office.settings.jurisdiction)
    if as_json:
        print_json([{"code": b.code, "names": dict(b.names), "record_class": b.record_class} for b in found])
        return
    for b in found:
        click.echo(f"{b.code:<16} {b.record_class:<6} {b.name('sl')} / {b.name('et')} / {b.name('en')}")


@meeting_group.command("new")
@click.option("--body", required=True, help="The body's code (`strongroom meeting bodies`).")
@click.option("--date", "when", type=DAY, required=True, help="The meeting's date (31.12.2031 or 2031-12-31).")
@click.option("--place", default="", help="Where it is held.")
@click.option("--participant", "participants", multiple=True, metavar="NAME[=USER]",
              help="A participant, linked to a Strongroom user when =USER is given (repeatable).")
@click.option("--principal", default="", help="The principal the meeting belongs to.")
@click.option("--confidentiality", type=click.Choice([c.value for c in Confidentiality]),
              help="Default: the level of the body's minutes class.")
@_JSON
@_AS
@click.pass_obj
def meeting_new(obj: dict[str, object], body: str, when: datetime, place: str, participants: tuple[str, ...],
                principal: str, confidentiality: str | None, as_json: bool, as_user: str | None) -> None:
    """Prepare a new meeting; it is numbered next in the body's year."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        found = meeting_bodies.body_of(office.ports, office.settings.jurisdiction, body)
        m = meetings.new_meeting(office.ports, office.plan, scope, found, day=when.date(), place=place,
                                 participants=tuple(_participant(p) for p in participants), principal=principal,
                                 confidentiality=Confidentiality(confidentiality) if confidentiality else None,
                                 now=now())
        if as_json:
            print_json(meeting_json(office, scope, m))
        else:
            click.echo(f"Meeting {found.name(office.settings.language)} {m.number} on {m.day.isoformat()} "
                       f"(id {m.meeting_id}).")


@meeting_group.command("list")
@_JSON
@_AS
@click.pass_obj
def meeting_list(obj: dict[str, object], as_json: bool, as_user: str | None) -> None:
    """The meetings you may see, newest first."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        found = meetings.meetings(office.ports, scope)
        if as_json:
            print_json([meeting_json(office, scope, m) for m in found])
            return
        if not found:
            click.echo("No meetings yet.")
        for m in found:
            click.echo(f"{m.meeting_id}  {m.body:<14} {m.number:<8} {m.day.isoformat()}  {len(m.items)} items"
                       f"{'  held' if m.held else ''}")


@meeting_group.command("show")
@click.argument("meeting")
@_JSON
@_AS
@click.pass_obj
def meeting_show(obj: dict[str, object], meeting: str, as_json: bool, as_user: str | None) -> None:
    """A meeting's agenda, materials, resolutions and minutes (MEETING: its id or BODY/NUMBER)."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        _show(office, scope, meetings.find(office.ports, scope, meeting).meeting_id, as_json)


@meeting_group.command("edit")
@click.argument("meeting")
@click.option("--date", "when", type=DAY, help="The new date (31.12.2031 or 2031-12-31), in the same year.")
@click.option("--place", default=None, help="The new place (\"\" clears it).")
@_JSON
@_AS
@click.pass_obj
def meeting_edit(obj: dict[str, object], meeting: str, when: datetime | None, place: str | None, as_json: bool,
                 as_user: str | None) -> None:
    """Change a meeting's date or place; the audit entry keeps the old and new values."""
    if when is None and place is None:
        raise click.UsageError("Give --date, --place or both.")
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        m = meetings.find(office.ports, scope, meeting)
        changed = meetings.reschedule(office.ports, scope, m.meeting_id, day=when.date() if when else None,
                                      place=place, now=now())
        if as_json:
            print_json(meeting_json(office, scope, changed))
        else:
            click.echo(f"Meeting {changed.number} is now on {changed.day.isoformat()}"
                       f"{' in ' + changed.place if changed.place else ''} (version {changed.version}).")


@meeting_group.command("agenda-add")
@click.argument("meeting")
@click.argument("title")
@_JSON
@_AS
@click.pass_obj
def meeting_agenda_add(obj: dict[str, object], meeting: str, title: str, as_json: bool, as_user: str | None) -> None:
    """Add an item to the end of the agenda."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        m = meetings.find(office.ports, scope, meeting)
        item = meetings.add_item(office.ports, scope, m.meeting_id, title, now=now())
        if as_json:
            print_json({"id": item.item_id, "number": len(m.items) + 1, "title": item.title})
        else:
            click.echo(f"Agenda item {len(m.items) + 1}: {item.title}")


@meeting_group.command("material-add")
@click.argument("meeting")
@click.argument("item")
@click.argument("record", required=False)
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File this document first (in --class), then link it.")
@click.option("--class", "record_class", help="The class a new document is filed in.")
@_JSON
@_AS
@click.pass_obj
def meeting_material_add(obj: dict[str, object], meeting: str, item: str, record: str | None, path: Path | None,
                         record_class: str | None, as_json: bool, as_user: str | None) -> None:
    """Link a material to agenda ITEM (its number): a filed RECORD (id or registry number), or a new --file."""
    if (record is None) == (path is None):
        raise click.UsageError("Name a filed RECORD or give --file, not both.")
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        m = meetings.find(office.ports, scope, meeting)
        if path is not None:
            if not record_class:
                raise click.UsageError("A new material needs --class (the class it is filed in).")
            outcome = meeting_filing.file_material(
                office.ports, scope, office.file, m.meeting_id, item, path,
                FilingRequest(original_name=path.name, record_class=record_class), now=now())
            _outcome(outcome, as_json)
            return
        assert record is not None
        meetings.add_material(office.ports, scope, m.meeting_id, item, record_id(office, record), now=now())
        _show(office, scope, m.meeting_id, as_json)


@meeting_group.command("minutes")
@click.argument("meeting")
@click.argument("record", required=False)
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File the minutes (in the body's minutes class), then link them.")
@_JSON
@_AS
@click.pass_obj
def meeting_minutes(obj: dict[str, object], meeting: str, record: str | None, path: Path | None, as_json: bool,
                    as_user: str | None) -> None:
    """Link the meeting's minutes: a filed RECORD, or a new --file filed with the meeting's body, date and number."""
    if (record is None) == (path is None):
        raise click.UsageError("Name a filed RECORD or give --file, not both.")
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        m = meetings.find(office.ports, scope, meeting)
        if path is not None:
            body = meeting_bodies.body_of(office.ports, office.settings.jurisdiction, m.body)
            _outcome(meeting_filing.file_minutes(office.ports, scope, office.file, body, m.meeting_id, path,
                                                 path.name, now=now()), as_json)
            return
        assert record is not None
        meetings.add_minutes(office.ports, scope, m.meeting_id, record_id(office, record), now=now())
        _show(office, scope, m.meeting_id, as_json)


@meeting_group.command("resolve")
@click.argument("meeting")
@click.argument("item")
@click.argument("text")
@click.option("--owner", default="", help="Who carries the resolution out.")
@click.option("--due", type=DAY, help="By when.")
@_JSON
@_AS
@click.pass_obj
def meeting_resolve(obj: dict[str, object], meeting: str, item: str, text: str, owner: str, due: datetime | None,
                    as_json: bool, as_user: str | None) -> None:
    """Record a resolution adopted under agenda ITEM; it is numbered MEETING-NUMBER-N."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        m = meetings.find(office.ports, scope, meeting)
        r = resolutions.adopt(office.ports, scope, m.meeting_id, item, text, owner=owner,
                              due=due.date() if due else None, now=now())
    if as_json:
        print_json(resolution_json(r, now().date()))
    else:
        click.echo(f"Resolution {r.number} adopted.")


@meeting_group.command("pack")
@click.argument("meeting")
@click.option("--for", "recipient", required=True, metavar="PARTICIPANT",
              help="The recipient: a participant's user name or name.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the PDF.")
@_JSON
@_AS
@click.pass_obj
def meeting_pack(obj: dict[str, object], meeting: str, recipient: str, out: Path, as_json: bool,
                 as_user: str | None) -> None:
    """Make one recipient's meeting pack (a watermarked PDF); the hand-out is an audit entry."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        m = meetings.find(office.ports, scope, meeting)
        body = meeting_bodies.body_of(office.ports, office.settings.jurisdiction, m.body)
        words = PackWords.of(office.settings.language)
        pack = packs.hand_out(office.ports, scope, m.meeting_id, body, recipient,
                              render=lambda c: render_pack(c, words, office.pack_maker), now=now())
    part = out.with_name(out.name + ".part")
    part.write_bytes(pack.data)
    part.replace(out)
    if as_json:
        print_json({"file": str(out), "pages": pack.pages, "meeting_version": m.version,
                    "left_out": [{"record_id": rid, "reason": why} for rid, why in pack.left_out]})
    else:
        click.echo(f"Wrote {pack.pages} pages to {out}.")


@click.group("resolutions", invoke_without_command=True)
@click.option("--status", type=click.Choice(resolutions.STATUSES), help="Only open, done or overdue ones.")
@click.option("--body", default="", help="Only this body's.")
@click.option("--owner", default="", help="Only those whose owner contains this.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the register to FILE as CSV for Excel (UTF-8, ';').")
@_JSON
@_AS
@click.pass_context
def resolutions_group(ctx: click.Context, status: str | None, body: str, owner: str, csv_path: Path | None,
                      as_json: bool, as_user: str | None) -> None:
    """The resolutions register: number, text, owner, due date and status (open, done, overdue)."""
    if ctx.invoked_subcommand is not None:
        return
    with open_office(ctx.obj) as office:
        scope = scope_of(office, as_user)
        found = resolutions.register(office.ports, scope, today=now().date(), status=status or "", body=body,
                                     owner=owner)
        names = {b.code: b.name(office.settings.language)
                 for b in meeting_bodies.bodies(office.ports, office.settings.jurisdiction)}
    if csv_path is not None:
        part = csv_path.with_name(csv_path.name + ".part")
        with open(part, "wb") as fh:
            for chunk in resolutions.register_csv(found, names):
                fh.write(chunk)
        part.replace(csv_path)
        click.echo(f"Wrote {len(found)} resolutions to {csv_path}.")
        return
    if as_json:
        print_json([{**resolution_json(e.resolution, now().date()), "body": e.meeting.body,
                     "meeting": e.meeting.number, "meeting_id": e.meeting.meeting_id, "item": e.item.title}
                    for e in found])
        return
    if not found:
        click.echo("No resolution matches.")
    for e in found:
        due = e.resolution.due.isoformat() if e.resolution.due else "-"
        click.echo(f"{e.meeting.body}:{e.resolution.number:<12} {e.status:<8} due {due:<10} "
                   f"{e.resolution.owner or '-'}: {e.resolution.text}")


@resolutions_group.command("done")
@click.argument("resolution")
@click.option("--on", "on", type=DAY, help="The day it was carried out (default: today).")
@click.option("--note", default="", help="How it was carried out.")
@_JSON
@_AS
@click.pass_obj
def resolutions_done(obj: dict[str, object], resolution: str, on: datetime | None, note: str, as_json: bool,
                     as_user: str | None) -> None:
    """Close a resolution as carried out (RESOLUTION: its number, BODY:NUMBER or id)."""
    with open_office(obj) as office:
        scope = scope_of(office, as_user)
        entry = resolutions.find(office.ports, scope, resolution)
        r = resolutions.mark_done(office.ports, scope, entry.meeting.meeting_id, entry.resolution.resolution_id,
                                  on=on.date() if on else now().date(), note=note, now=now())
    if as_json:
        print_json(resolution_json(r, now().date()))
    else:
        click.echo(f"Resolution {r.number} is done.")


COMMANDS = (meeting_group, resolutions_group)
