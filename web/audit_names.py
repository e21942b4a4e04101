"""Audit entries in words people read: the name of every kind of entry (records.audit_actions.KINDS), its
outcome, channel and system actor, its details as "name: value", and its record by registry number (never
the internal id)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from flask import Flask
from flask_babel import lazy_gettext as _

from records.audit import AuditEvent
from records.errors import RecordNotFound
from records.meeting_bodies import DEFAULTS as DEFAULT_BODIES
from records.model import Record, RecordId
from records.ports import Catalog
from web.i18n import day, label, language
from web.wording import action_name, field_name

ACTIONS = {
    "record.file": _("Filed"), "record.view": _("Opened"), "record.view_text": _("Read the text"),
    "record.download": _("Downloaded"), "record.edit": _("Details changed"),
    "record.edit.propose": _("Change proposed (waits for approval)"), "record.dispose": _("Destroyed"),
    "record.transfer": _("Transferred to an archive"), "record.capture": _("Pages and OCR added"),
    "record.damaged": _("Found damaged"),
    "hold.add": _("Hold placed"), "hold.release": _("Hold released"), "hold.matter.add": _("Matter hold placed"),
    "hold.matter.release": _("Matter hold released"),
    "disposal.propose": _("Destruction proposed"), "disposition.run": _("Destruction carried out"),
    "review.decide": _("Review decided"),
    "rejected.retry": _("Rejected file put back"), "rejected.discard": _("Rejected file deleted"),
    "search": _("Searched"), "index.rebuild": _("Search index rebuilt"),
    "calendar.feed.create": _("Calendar feed created"), "calendar.feed.revoke": _("Calendar feed revoked"),
    "calendar.read": _("Calendar read"),
    "plan.migrate": _("Classification plan taken over"), "plan.change": _("Classification plan changed"),
    "settings.seed": _("Security setting stored"), "settings.change": _("Security setting changed"),
    "audit.export": _("Audit export made"),
    "user.add": _("User added"), "user.disable": _("User disabled"), "user.role": _("User's role changed"),
    "user.password": _("Own password changed"), "user.password.reset": _("Password reset"),
    "login": _("Sign-in"), "logout": _("Sign-out"),
    "meeting.new": _("Meeting prepared"), "meeting.edit": _("Meeting date or place changed"),
    "meeting.bodies": _("Meeting bodies changed"),
    "meeting.pack": _("Meeting pack made"), "meeting.item.add": _("Agenda item added"),
    "meeting.item.move": _("Agenda item moved"), "meeting.item.remove": _("Agenda item removed"),
    "meeting.material.add": _("Meeting material added"), "meeting.material.remove": _("Meeting material removed"),
    "meeting.minutes": _("Minutes linked to the meeting"), "resolution.adopt": _("Resolution adopted"),
    "resolution.done": _("Resolution carried out"),
    "casefile.open": _("Case file opened"), "casefile.add": _("Added to a case file"),
    "casefile.remove": _("Taken out of a case file"), "casefile.close": _("Case file closed"),
    "casefile.close.record": _("Retention started by the closing of its case file"),
    "casefile.reopen": _("Case file reopened"),
    "casefile.reopen.record": _("Retention stopped by the reopening of its case file"),
    "decision.issue": _("Decision entered in the register"),
    "vault.init": _("Home created"), "vault.unlock": _("Home unlocked"),
    "vault.recover": _("Left-overs of a crash cleaned up"), "vault.verify": _("Home checked"),
    "vault.backup": _("Backup"), "vault.rollback.accept": _("Older catalogue accepted"),
    "vault.objects.move": _("Sealed documents moved to the object storage"),
    "key.passphrase.add": _("Passphrase added"), "key.passphrase.remove": _("Passphrase removed"),
    "key.passphrase.change": _("Passphrase changed"), "key.recovery.replace": _("Recovery key replaced"),
    "key.slots.unrecorded": _("Key file changed without a record"), "key.slots.recorded": _("Key file recorded"),
}
OUTCOMES = {"ok": _("succeeded"), "denied": _("refused: no right"), "failed": _("failed"),
            "duplicate": _("already filed"), "rejected": _("rejected"), "refused": _("refused"),
            "recovered": _("recovered"), "throttled": _("too many attempts")}
CHANNELS = {"web": _("browser"), "cli": _("command line"), "watcher": _("drop folder"), "import": _("import"),
            "feed": _("calendar feed"), "capture": _("OCR and pages"), "schedule": _("schedule")}
SYSTEM_ACTORS = {"system:cli": _("the command line"), "system:watcher": _("the drop folders"),
                 "system:inbox": _("the drop folders"), "system:capture": _("OCR and pages"),
                 "system:vault": _("the home"), "system:web": _("the web server"), "system:plan": _("the plan"),
                 "system:settings": _("the security settings"), "system:hold": _("the holds"),
                 "system:schedule": _("the schedule"), "system": _("the system")}
DETAILS = {
    "registry": _("Registry number"), "class": _("Class"), "certificate": _("Certificate"), "kind": _("Kind"),
    "records": _("Records"), "two_person": _("Two-person rule"), "approvers": _("Approved by"),
    "reason": _("Reason"), "hold": _("Hold"), "placed_by": _("Placed by"), "part": _("Part"),
    "titles": _("With titles"), "setting": _("Setting"), "source": _("Source"), "value": _("Value"),
    "classes": _("Classes"), "version": _("Version"), "key": _("Key"), "slot": _("Slot"), "sha256": _("SHA-256"),
    "proposal": _("Proposal"), "decision": _("Decision"), "hits": _("Results"), "user": _("User"),
    "role": _("Role"), "clearance": _("Clearance"), "principals": _("Principals"), "edit": _("Change"),
    "deadlines": _("Deadlines"), "objects": _("Objects"), "temp_files": _("Temporary files"),
    "upload_leftovers": _("Upload left-overs"), "unfinished_uploads": _("Unfinished uploads"),
    "uploaded": _("Uploaded"), "switched": _("Setting switched"), "package": _("Package"), "target": _("Destination"),
    "folder": _("Drop folder"), "name": _("Name"), "problem": _("Problem"), "problems": _("Problems"),
    "pages": _("Pages"), "recognised": _("Pages recognised"), "replaced": _("Replaced"), "slots": _("Slots"),
    "duplicate_of": _("Already filed as"), "from": _("From"), "to": _("To"), "count": _("Count"),
    "reference": _("Reference"), "event": _("Event"), "body": _("Meeting body"), "number": _("Number"),
    "day": _("Day"), "due": _("Due date"), "recipient": _("Recipient"), "materials": _("Materials"),
    "left_out": _("Left out"), "step": _("Step"), "resolution": _("Resolution"), "on": _("Carried out on"),
    "was_closed_on": _("Had been closed on"), "restamped": _("Records with a new keep-until"),
    "retention": _("Change of the keep-until"), "joined_casefile": _("Joined the case file"), "identified_by": _("Identified by"),
    "place": _("Place"), "before": _("Before"), "bodies": _("Meeting bodies"),
}
HIDDEN = frozenset({"fields", "meeting", "item", "casefile"})  # the changed fields (paired below) and internal ids
HIDDEN_IN = {"decision.issue": frozenset({"decision"})}  # a decision's internal id (elsewhere "decision" is a verdict)
VALUES = {"on": _("on"), "off": _("off"), "True": _("yes"), "False": _("no"), "yes": _("yes"), "no": _("no"),
          "destruction": _("destruction"), "transfer": _("transfer"), "thumbnail": _("small picture"),
          "the default plan": _("the default plan"), "strongroom.toml or STRONGROOM_*": _("the settings file"),
          "recovery": _("recovery key"), "passphrase": _("passphrase"), "keep": _("keep longer"),
          "reclassify": _("reclassify"), "destroy": _("destroy"), "-": "—",
          "earlier": _("earlier than before"), "os-user": _("the computer's user account"), "password": _("password")}
SETTINGS = {"require_second_approver": _("second approver for destruction"),
            "login_attempts_per_minute": _("sign-in attempts per minute"),
            "idle_lock_minutes": _("minutes until an idle session locks"),
            "financial_year_end": _("end of the financial year"),
            "backup_keep_days": _("days a backup is kept")}
_PAGE = re.compile(r"^page (\d+)$")


def action(name: str) -> str:
    return str(ACTIONS.get(name, name))


def outcome(name: str) -> str:
    return str(OUTCOMES.get(name, name))


def channel(name: str) -> str:
    return str(CHANNELS.get(name, name))


def actor(name: str) -> str:
    return str(SYSTEM_ACTORS.get(name, name))


def _value(key: str, value: str) -> str:
    if key == "setting":
        return str(SETTINGS.get(value, value))
    if key in ("role", "clearance"):
        return label(value)
    if key == "decision":
        return str(VALUES.get(value, value))
    if key == "body":  # a meeting body by its code: its name in the default lists
        names = {b.code: b.name(language()) for bodies in DEFAULT_BODIES.values() for b in bodies}
        return names.get(value, value)
    page = _PAGE.match(value)
    if page:
        return str(_("page %(number)s", number=page.group(1)))
    try:
        return day(date.fromisoformat(value))
    except ValueError:
        return str(VALUES.get(value, value))


def details(event: AuditEvent) -> list[str]:
    """The entry's details as "name: value", an edited field as "name: old → new"; masked values
    (keyed hashes of titles and queries) and the list of changed fields left out."""
    hidden = HIDDEN | HIDDEN_IN.get(event.action, frozenset())
    pairs = {k: v for k, v in event.details if not v.startswith("hmac:") and k not in hidden}
    shown: list[str] = []
    if "old" in pairs or "new" in pairs:  # a setting's change: "second approver: on → off"
        setting = pairs.pop("setting", "")
        change = f"{_value('', pairs.pop('old', '-'))} → {_value('', pairs.pop('new', '-'))}"
        shown.append(f"{_value('setting', setting)}: {change}" if setting else change)
    for key, value in pairs.items():
        if key.endswith(".new"):
            continue
        if key.endswith(".old"):
            base = key[:-4]
            shown.append(f"{_name(base)}: {_value(base, value)} → {_value(base, pairs.get(base + '.new', '-'))}")
        else:
            shown.append(f"{_name(key)}: {_value(key, value)}")
    for key, value in pairs.items():  # a new value with no old one (a field filled for the first time)
        if key.endswith(".new") and key[:-4] + ".old" not in pairs:
            shown.append(f"{_name(key[:-4])}: — → {_value(key[:-4], value)}")
    return shown


def _name(key: str) -> str:
    if key in DETAILS:
        return str(DETAILS[key])
    if key.startswith("event."):
        from web.wording import event_name
        return event_name(key[len("event."):])
    return field_name(key)


def record_names(catalog: Catalog, can_see: Callable[[Record], bool]
                 ) -> Callable[[str | None], tuple[str, str]]:
    """`name(record_id)`: (the record as people know it, its title) — the registry number, the title only
    when the user may see the record, "destroyed record 03.1-7/2026" — never the internal id."""
    cache: dict[str, tuple[str, str]] = {}

    def name(record_id: str | None) -> tuple[str, str]:
        if not record_id:
            return "", ""
        if record_id not in cache:
            try:
                record = catalog.get(RecordId(record_id))
            except RecordNotFound:
                cache[record_id] = (str(_("a record that no longer exists")), "")
                return cache[record_id]
            if record.state.value == "disposed":
                cache[record_id] = (str(_("destroyed record %(number)s", number=record.registry_number)), "")
            else:
                cache[record_id] = (record.registry_number, record.title if can_see(record) else "")
        return cache[record_id]
    return name


def install(app: Flask) -> None:
    app.jinja_env.filters.update(audit_action=action, audit_outcome=outcome, audit_channel=channel,
                                 audit_actor=actor, audit_details=details, action_name=action_name)
