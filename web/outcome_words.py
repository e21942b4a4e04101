"""A filing outcome in the person's words: its status line and the extractor's notes, translated.

The core and the extractor speak English (the CLI and the audit log keep it); the browser shows these
sentences in the UI language. The "no text: ..." notes get short forms here, since the status line
already says that the text could not be read; other notes and reasons go through web.wording.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext as _

from records.filing import NO_TEXT, FilingOutcome, FilingStatus
from web.wording import note


def _known_notes() -> dict[str, str]:
    return {
        NO_TEXT: _("no text found in the file"),
        "no text: the PDF is password-protected": _("the PDF is password-protected"),
        "no text extracted (scanned?)": _("the PDF has no text layer (a scan?)"),
        "no text: file type not supported": _("this file type is not read"),
        "no text: the file is empty": _("the file is empty"),
        "no text: an image (its text is not recognised yet)": _("it is an image"),
        "no text: the documents inside a signed container are not read yet":
            _("the documents inside a signed container are not read yet"),
        "no text: Word 97-2003 documents are not read; save it as .docx to search its text":
            _("Word 97-2003 documents are not read; save it as .docx to search its text"),
        "text cut at the size limit": _("text cut at the size limit"),
    }


def note_words(text: str) -> str:
    """Why the text could not be read, short (the status line already says "could not be read"); a part
    without a short form here is said as the record page says it (web.wording.note)."""
    known = _known_notes()
    return "; ".join(known.get(part) or note(part) for part in text.split("; ") if part)


def status_words(outcome: FilingOutcome) -> str:
    """What became of the file, in one short phrase for the results table."""
    if outcome.status is FilingStatus.FILED and outcome.unread:
        words: str = _("filed, but its text could not be read: %(reason)s", reason=note_words(outcome.unread))
        if outcome.recognising:
            words += " " + _("Text recognition (OCR) will try to read it shortly.")
        return words
    plain: dict[FilingStatus, str] = {FilingStatus.FILED: _("filed"), FilingStatus.DUPLICATE: _("duplicate"),
                                      FilingStatus.REJECTED: _("rejected"),
                                      FilingStatus.RETURNED: _("returned to its folder")}
    return plain.get(outcome.status, str(outcome.status))


def install(app: Flask) -> None:
    app.jinja_env.filters["outcome_words"] = status_words
    app.jinja_env.filters["note_words"] = note_words
