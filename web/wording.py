"""The core's English in the user's language: retention sentences and periods, filing results, file
notes, event, field and file-type names, and the errors people meet on the pages.

records/ writes plain English sentences (it reads no locale, and the CLI prints them as they are); the
web translates each known sentence shape here, its parts (dates, periods, event names) formatted for
the page's language. A sentence no shape matches is shown as it is, and
tests/web/test_every_page_translated.py fails on it, so a new sentence gets its shape here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import Flask
from flask_babel import lazy_gettext as _
from flask_babel import ngettext

from web.i18n import day

EVENT_NAMES = {
    "document_date": _("the document date"), "filing_date": _("the filing date"),
    "contract_end": _("the end of the contract"), "contract_expiry": _("the contract's expiry"),
    "employment_end": _("the end of employment"), "case_closed": _("the closing of the case"),
    "superseded": _("its replacement by a newer version"), "asset_disposed": _("the disposal of the asset"),
    "relationship_end": _("the end of the business relationship"), "last_exposure": _("the last exposure"),
    "judgment_final": _("the final judgment"), "meeting_date": _("the meeting date"),
    "due_date": _("the due date"),
}
ACTION_NAMES = {"destroy": _("destroy"), "review": _("review"), "transfer": _("transfer to an archive"),
                "permanent": _("keep permanently")}
FIELD_NAMES = {
    "title": _("Title"), "document_date": _("Document date"), "principal": _("Principal"), "tags": _("Tags"),
    "record_class": _("Class"), "confidentiality": _("Confidentiality"), "parties": _("Parties"),
    "signed": _("Signed"), "effective": _("Effective from"), "expiry": _("Expires"),
    "notice_days": _("Notice period (days)"), "auto_renewal": _("Renews automatically"), "value": _("Value"),
    "currency": _("Currency"), "issuer": _("Supplier"), "number": _("Invoice number"), "amount": _("Amount"),
    "due_date": _("Due date"), "paid_on": _("Paid on"), "payment_reference": _("Payment reference"),
    "direction": _("Direction"), "sender": _("Sender"), "recipients": _("Recipients"), "subject": _("Subject"),
    "message_id": _("Message identifier"), "reply_to": _("In reply to (registry number)"),
    "employee": _("Employee"), "employment_end": _("Employment ended"), "body": _("Body (board, assembly)"),
    "meeting_date": _("Meeting date"), "session_number": _("Session number"),
    "retention_until": _("Keep until"), "class": _("Class"),
    "opened_on": _("Opened on"), "closed_on": _("Closed on"), "issued_on": _("Issued on"),
}
DETAIL_KINDS = {"contract": _("contract fields"), "invoice": _("invoice fields"),
                "correspondence": _("letter fields"), "hr": _("personnel fields"), "minutes": _("minutes fields")}
FILE_TYPES = {
    "application/pdf": _("PDF document"), "text/plain": _("text file"), "text/html": _("web page"),
    "application/octet-stream": _("file of unknown type"), "message/rfc822": _("e-mail"),
    "application/vnd.ms-outlook": _("Outlook message"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _("Word document"),
    "application/msword": _("Word 97-2003 document"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _("Excel workbook"),
    "application/vnd.ms-excel": _("Excel 97-2003 workbook"),
    "application/vnd.oasis.opendocument.text": _("OpenDocument text"),
    "application/vnd.oasis.opendocument.spreadsheet": _("OpenDocument spreadsheet"),
    "application/vnd.etsi.asic-e+zip": _("signed container (ASiC-E, BDOC)"),
    "application/vnd.etsi.asic-s+zip": _("signed container (ASiC-S)"),
    "image/jpeg": _("JPEG image"), "image/png": _("PNG image"), "image/tiff": _("TIFF image"),
    "image/gif": _("GIF image"),
}


def event_name(name: str) -> str:
    """A trigger event or date field by its name ("contract_end", or "contract end" as sentences write it)."""
    key = name.strip().replace(" ", "_")
    return str(EVENT_NAMES.get(key, name))


def action_name(action: object) -> str:
    return str(ACTION_NAMES.get(str(action), str(action)))


def field_name(name: str) -> str:
    return str(FIELD_NAMES.get(name, name))


def file_type(media_type: str) -> str:
    return str(FILE_TYPES.get(media_type, media_type))


_PERIOD = re.compile(r"^(?:(?P<years>\d+) years|permanent) \((?P<citation>.*?)(?P<policy>; policy)?\)$", re.S)


def period(text: str) -> str:
    """A stored retention basis ("10 years (ZDDV-1 Art. 141 ...; policy)") in the page's language; the
    citation stays as the plan writes it."""
    if text == "as stored with the record":
        return str(_("as stored with the record"))
    found = _PERIOD.match(text)
    if found is None:
        return text
    length = (ngettext("%(num)d year", "%(num)d years", int(found["years"])) if found["years"]
              else str(_("permanent")))
    citation = found["citation"] + ("; " + str(_("policy")) if found["policy"] else "")
    return f"{length} ({citation})"


def _iso_day(text: str) -> str:
    try:
        return day(date.fromisoformat(text))
    except ValueError:
        return text


# How each named part of a sentence is shown: a date in the locale, a period, an event, an action.
_PARTS: dict[str, Callable[[str], str]] = {"day": _iso_day, "until": _iso_day, "before": _iso_day,
                                           "period": period, "event": event_name, "action": action_name,
                                           "kind": lambda k: str(DETAIL_KINDS.get(k, k)),
                                           "other": lambda k: str(DETAIL_KINDS.get(k, k))}


@dataclass(frozen=True, slots=True)
class Shape:
    pattern: re.Pattern[str]
    text: object  # a lazy translated string with %(name)s for each group of the pattern


def _shape(pattern: str, text: object) -> Shape:
    return Shape(re.compile("^" + pattern + "$", re.S), text)


SENTENCES = (
    # retention decisions (records/retention.py, records/disposition.py)
    _shape(r"Kept until (?P<until>[\d-]+) \((?P<period>.*)\)\.", _("Kept until %(until)s (%(period)s).")),
    _shape(r"Retention ended on (?P<until>[\d-]+); action: (?P<action>\w+)\.",
           _("Retention ended on %(until)s; then: %(action)s.")),
    _shape(r"Class (?P<code>\S+) is kept permanently \((?P<citation>.*)\)\.",
           _("Class %(code)s is kept permanently (%(citation)s).")),
    _shape(r"The retention clock has not started: the date of (?P<event>.+) is not recorded\.",
           _("The retention period has not started: the date of %(event)s is not recorded.")),
    _shape(r"The retention clock has not started: its trigger event was not recorded when the record was "
           r"scheduled \(record it with `strongroom edit`\)\.",
           _("The retention period has not started: the event it starts from is not recorded. Record it on "
             "this page.")),
    _shape(r"A legal hold blocks disposition until it is released\.",
           _("A legal hold blocks disposal until it is released.")),
    _shape(r"The matter hold (?P<hold>\S+) covers it and blocks disposition until it is released\.",
           _("The matter hold %(hold)s covers it and blocks disposal until it is released.")),
    _shape(r"Kept permanently as stored with the record \((?P<period>.*)\)\.",
           _("Kept permanently, as stored with the record (%(period)s).")),
    _shape(r"The record was already disposed of\.", _("The record was destroyed.")),
    _shape(r"Unsorted records are never disposed: classify the record first\.",
           _("Unsorted records are never destroyed: classify the record first.")),
    # what a change does to a keep-until (records/retention.shortening): "this" is an edit or a closing
    _shape(r"This edit moves the keep-until of (?P<number>\S+) from (?P<before>[\d-]+) to (?P<until>[\d-]+)",
           _("This moves the keep-until of %(number)s from %(before)s to %(until)s")),
    _shape(r"This edit ends the permanent retention of (?P<number>\S+) on (?P<until>[\d-]+)",
           _("This ends the permanent retention of %(number)s on %(until)s")),
    _shape(r"This edit makes (?P<number>\S+) due for disposition at once \(kept until (?P<until>[\d-]+)\)",
           _("This makes %(number)s due for destruction at once (kept until %(until)s)")),
    # case files and decisions (records/casefiles.py, records/casefile_closing.py, records/decisions.py)
    _shape(r"(?P<short>This edit .*), which needs a written justification: give it with --reason\.",
           _("%(short)s, which needs a written justification: write it.")),
    _shape(r"(?P<short>This edit .*); with the two-person rule on, close the case file today or record that "
           r"record's case_closed event with `strongroom event` for approval\.",
           _("%(short)s; with the two-person rule on, close the case file today, or record the closing of the "
             "case on that record's page, where a second person approves it.")),
    _shape(r"A case file needs a title: give --title\.", _("A case file needs a title: write one.")),
    _shape(r"The title is longer than (?P<n>\d+) characters: shorten it\.",
           _("The title is longer than %(n)s characters: shorten it.")),
    _shape(r"A case file needs a real class, not the unsorted one: choose its class\.",
           _("A case file needs a real class, not the unsorted one: choose its class.")),
    _shape(r"A case file cannot be opened on a future day: give today or an earlier day\.",
           _("A case file cannot be opened on a future day: give today or an earlier day.")),
    _shape(r"A case file cannot be closed on a future day: give today or an earlier day\.",
           _("A case file cannot be closed on a future day: give today or an earlier day.")),
    _shape(r"A decision cannot be issued on a future day: give today or an earlier day\.",
           _("A decision cannot be issued on a future day: give today or an earlier day.")),
    _shape(r"Record (?P<number>\S+) was disposed of; it cannot join a case file\.",
           _("Record %(number)s was destroyed; it cannot join a case file.")),
    _shape(r"Record (?P<number>\S+) is in this case file already\.",
           _("Record %(number)s is in this case file already.")),
    _shape(r"Record (?P<number>\S+) belongs to another case file already: remove it there first\.",
           _("Record %(number)s belongs to another case file already: remove it there first.")),
    _shape(r"Record (?P<number>\S+) is not in case file (?P<casefile>\S+)\.",
           _("Record %(number)s is not in case file %(casefile)s.")),
    _shape(r"Case file (?P<casefile>\S+) is closed: reopen it to add records to it\.",
           _("Case file %(casefile)s is closed: reopen it to add records to it.")),
    _shape(r"Case file (?P<casefile>\S+) is closed: reopen it to remove records from it\.",
           _("Case file %(casefile)s is closed: reopen it to remove records from it.")),
    _shape(r"Case file (?P<casefile>\S+) is closed: reopen it to enter a decision in it\.",
           _("Case file %(casefile)s is closed: reopen it to enter a decision in it.")),
    _shape(r"Case file (?P<casefile>\S+) is closed already \(on (?P<day>[\d-]+)\)\.",
           _("Case file %(casefile)s is closed already (on %(day)s).")),
    _shape(r"Case file (?P<casefile>\S+) was opened on (?P<day>[\d-]+); it cannot close before that\.",
           _("Case file %(casefile)s was opened on %(day)s; it cannot close before that.")),
    _shape(r"Case file (?P<casefile>\S+) was opened on (?P<day>[\d-]+); a decision in it cannot be older\.",
           _("Case file %(casefile)s was opened on %(day)s; a decision in it cannot be older.")),
    _shape(r"Case file (?P<casefile>\S+) is open; there is nothing to reopen\.",
           _("Case file %(casefile)s is open; there is nothing to reopen.")),
    _shape(r"Reopening a case file needs a reason \(an appeal, a new claim\): give --reason\.",
           _("Reopening a case file needs a reason (an appeal, a new claim): write it.")),
    _shape(r"A decision needs its addressee and its subject: give --addressee and --subject\.",
           _("A decision needs its addressee and what it decides: fill in both.")),
    _shape(r"The addressee and the subject take at most (?P<n>\d+) characters each\.",
           _("The addressee and what the decision decides take at most %(n)s characters each.")),
    _shape(r"Record (?P<number>\S+) was disposed of; it cannot be a decision\.",
           _("Record %(number)s was destroyed; it cannot be a decision.")),
    _shape(r"Record (?P<number>\S+) is in the decisions register already\.",
           _("Record %(number)s is in the decisions register already.")),
    _shape(r"Record (?P<number>\S+) belongs to another case file: a decision is entered in its own case file\.",
           _("Record %(number)s belongs to another case file: a decision is entered in its own case file.")),
    _shape(r"That hold is not on this case file\.", _("That hold is not on this case file.")),
    _shape(r".+ must be a date such as 31\.12\.2031 or 2031-12-31, not (?P<value>.+)\.",
           _("%(value)s is not a date: write it as 31.12.2031 or 2031-12-31.")),
    # meetings: date and place, bodies, packs (records/meetings.py, records/meeting_bodies.py, the pack sandbox)
    _shape(r"Meeting (?P<number>\S+) is numbered in (?P<year>\d{4}), so its date stays in \d{4}; for another year "
           r"prepare a new meeting\.",
           _("Meeting %(number)s is numbered in %(year)s, so its date stays in that year; for another year prepare a "
             "new meeting.")),
    _shape(r"The minutes of meeting (?P<number>\S+) are filed with its date, so the date stays; a wrong date is "
           r"corrected in the minutes' record\.",
           _("The minutes of meeting %(number)s are filed with its date, so the date stays; a wrong date is "
             "corrected in the minutes' record.")),
    _shape(r"The date and place are as they were: nothing to change\.",
           _("The date and place are as they were: nothing to change.")),
    _shape(r"The body (?P<codes>.+) has meetings, so it stays on the list: keep its code and change only its names "
           r"or class\.",
           _("The body %(codes)s has meetings, so it stays on the list: keep its code and change only its names or "
             "class.")),
    _shape(r"The body code '(?P<code>[^']*)' is not valid or not unique: use lower-case letters, digits and "
           r"hyphens, once each\.",
           _("The body code '%(code)s' is not valid or not unique: use lower-case letters, digits and hyphens, once "
             "each.")),
    _shape(r"The body (?P<code>\S+) needs a name\.", _("The body %(code)s needs a name.")),
    _shape(r"The list of bodies is empty: name at least one body\.",
           _("The list of bodies is empty: name at least one body.")),
    _shape(r"The meeting pack could not be made: its materials stopped the pack maker each time; open them from "
           r"their records\.",
           _("The meeting pack could not be made: its materials stopped the pack maker each time; open them from "
             "their records.")),
    _shape(r"The meeting pack maker could not start; check the installation and try again\.",
           _("The meeting pack maker could not start; check the installation and try again.")),
    _shape(r"Joining the meeting pack took longer than (?P<seconds>\S+) s; try again, or make it with fewer "
           r"materials\.",
           _("Joining the meeting pack took longer than %(seconds)s s; try again, or make it with fewer materials.")),
    _shape(r"The meeting pack maker stopped while joining the pack; try again, or make it with fewer materials\.",
           _("The meeting pack maker stopped while joining the pack; try again, or make it with fewer materials.")),
    # filing (records/filing.py) and the drop folders
    _shape(r"Filed as (?P<number>\S+) in class (?P<code>\S+)\.", _("Filed as %(number)s in class %(code)s.")),
    _shape(r"This document is already filed as (?P<number>\S+); it was not stored again\.",
           _("This document is already filed as %(number)s; it was not stored again.")),
    _shape(r"This document is already filed, so it cannot be filed again\.",
           _("This document is already filed, so it cannot be filed again.")),
    _shape(r"No file named (?P<name>.+) is waiting in the unsorted folder: refresh the list\.",
           _("No file named %(name)s is waiting in the unsorted folder: refresh the list.")),
    # errors a page shows
    _shape(r"Nothing was destroyed, because (?P<why>.*)", _("Nothing was destroyed, because %(why)s")),
    _shape(r"(?P<number>[^\s:;]+/\d{4}): (?P<why>.*)", "%(number)s: %(why)s"),
    _shape(r"Class (?P<code>\S+) takes (?P<kind>\w+) fields, but the record has (?P<other>\w+) fields: clear them "
           r"or choose another class\.",
           _("Class %(code)s takes %(kind)s, but the record has %(other)s: clear them or choose another class.")),
    _shape(r"There is no record class '(?P<code>[^']*)': use a class code of the plan, such as (?P<example>\S+)\.",
           _("There is no record class '%(code)s': use a class code of the plan, such as %(example)s.")),
    _shape(r"There is no record (?P<number>\S+) that you may see: check the registry number\.",
           _("There is no record %(number)s that you may see: check the registry number.")),
    _shape(r"The export period ends before it starts; check --from and --to\.",
           _("The export period ends before it starts: choose a From date before the To date.")),
)
# File notes (indexer/extract): short phrases joined with "; ".
NOTES = (
    _shape(r"no text: file type not supported", _("no text: this file type is not read")),
    _shape(r"no text: the documents inside a signed container are not read yet",
           _("no text: the documents inside a signed container are not read yet")),
    _shape(r"no text: Word 97-2003 documents are not read; save it as \.docx to search its text",
           _("no text: Word 97-2003 documents are not read; save it as .docx to search its text")),
    _shape(r"no text: an image \(its text is not recognised yet\)", _("no text: an image (its text is not recognised yet)")),
    _shape(r"no text: the PDF is password-protected", _("no text: the PDF is password-protected")),
    _shape(r"no text: the file is empty", _("no text: the file is empty")),
    _shape(r"no text extracted \(scanned\?\)", _("no text found (a scan?)")),
    _shape(r"text cut at the size limit", _("text cut at the size limit")),
    _shape(r"text read from the first (?P<n>\d+) of (?P<m>\d+) (?P<what>pages|sheets)",
           _("text read from the first %(n)s of %(m)s pages or sheets")),
    _shape(r"the container holds no signature", _("the container holds no signature")),
    _shape(r"the message's body is only in compressed RTF, which is not read",
           _("the message's body is only in compressed RTF, which is not read")),
    _shape(r"not covered by any signature: (?P<names>.+)", _("not covered by any signature: %(names)s")),
    _shape(r"not in the container's manifest: (?P<names>.+)", _("not in the container's manifest: %(names)s")),
    # why a file was refused (indexer/extract errors, in the rejected folder's NAME.reason.txt too)
    _shape(r"[Tt]he PDF is damaged and cannot be read\.", _("The PDF is damaged and cannot be read.")),
    _shape(r"[Tt]he e-mail is damaged and cannot be read\.", _("The e-mail is damaged and cannot be read.")),
    _shape(r"[Tt]he file contains binary data, not text\.", _("The file contains binary data, not text.")),
    _shape(r"[Tt]he file is not text in UTF-8, Windows-1250 or Windows-1257\.",
           _("The file is not text in UTF-8, Windows-1250 or Windows-1257.")),
)


def _fill(shape: Shape, found: re.Match[str]) -> str:
    parts = {name: _PARTS.get(name, _nested)(value) for name, value in found.groupdict().items()}
    return str(shape.text) % parts


_EACH_RECORD = re.compile(r"; (?=[^\s:;]+/\d{4}: )")


def _nested(text: str) -> str:
    """A part that is itself sentences: a refusal's reasons, one per registry number."""
    return "; ".join(sentence(p) for p in _EACH_RECORD.split(text))


def sentence(text: str) -> str:
    """One of the core's sentences in the page's language; an unknown one as it is."""
    text = text.strip()
    for shape in (*SENTENCES, *NOTES):
        found = shape.pattern.match(text)
        if found is not None:
            return _fill(shape, found)
    return text


def note(text: str) -> str:
    """A file note ("no text: the file is empty; text cut at the size limit") in the page's language."""
    whole = sentence(text)
    if whole != text or "; " not in text:
        return whole
    return "; ".join(sentence(part) for part in text.split("; "))


def plan_source(source: str) -> str:
    """Where a plan version came from: the default plan, or the file an administrator imported."""
    return str(_("the default plan")) if source == "the default plan" else source


def install(app: Flask) -> None:
    app.jinja_env.filters.update(sentence=sentence, note=note, period=period, file_type=file_type,
                                 event_name=event_name, field_name=field_name, action_name=action_name,
                                 plan_source=plan_source)
