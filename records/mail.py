"""E-mail as correspondence: merging an extracted message's headers into the record's fields."""

from __future__ import annotations

import re
from email.utils import getaddresses
from typing import TYPE_CHECKING

from records.model import CorrespondenceFields, Details, Direction
from records.plan import RecordClass
from records.ports import Extraction

if TYPE_CHECKING:
    from records.filing import FilingRequest

_SPACE = re.compile(r"\s+")


def merge_headers(cls: RecordClass, request: FilingRequest, extraction: Extraction
                  ) -> tuple[Details | None, tuple[str, ...], str]:
    """(details, parties, title) for a filing: what the person gave wins, headers fill the gaps.

    Only messages (extractions with headers) are touched; a class whose fields are not
    correspondence keeps its own details, and the sender still joins the parties.
    """
    details, parties = request.details, request.parties
    if not extraction.headers:
        return details, parties, ""
    headers: dict[str, str] = {}
    for name, value in extraction.headers:
        headers.setdefault(name.lower(), _SPACE.sub(" ", value).strip())
    sender = _addresses(headers.get("from", ""))
    recipients = _addresses(", ".join(v for k, v in headers.items() if k in ("to", "cc")))
    subject = headers.get("subject", "")
    if cls.detail in (None, "correspondence") and (details is None or isinstance(details, CorrespondenceFields)):
        given = details if isinstance(details, CorrespondenceFields) else CorrespondenceFields()
        details = CorrespondenceFields(
            direction=given.direction or Direction.INCOMING,
            sender=given.sender or (sender[0] if sender else ""),
            recipients=given.recipients or recipients,
            subject=given.subject or subject,
            message_id=given.message_id or headers.get("message-id", ""))
    merged = tuple(dict.fromkeys((*parties, *sender)))
    return details, merged, subject


def _addresses(text: str) -> tuple[str, ...]:
    out = []
    for name, address in getaddresses([text]):
        if address and name:
            out.append(f"{name} <{address}>")
        elif address or name:
            out.append(address or name)
    return tuple(out)
