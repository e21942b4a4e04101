"""E-mail (.eml): headers, body text (HTML reduced to text, never rendered) and capped attachments."""

from __future__ import annotations

import email.policy
from email.message import Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from records.errors import ExtractionFailed
from records.ports import Attachment, Extraction

from .markup import html_to_text

MAX_DEPTH = 10
MAX_PARTS = 200
MAX_ATTACHMENTS = 50
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MAX_ATTACHMENTS_TOTAL = 100 * 1024 * 1024
MAX_HEADERS = 1000
_HEADERS = ("from", "to", "cc", "subject", "date", "message-id")


class _Walk:
    def __init__(self, max_chars: int) -> None:
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []
        self.parts = 0
        self.attached_bytes = 0
        self.notes: list[str] = []
        self.max_chars = max_chars

    def visit(self, part: Message, depth: int) -> None:
        self.parts += 1
        if depth > MAX_DEPTH:
            raise ExtractionFailed(f"the e-mail nests its parts more than {MAX_DEPTH} levels deep; "
                                   "it may be hostile.")
        if self.parts > MAX_PARTS:
            raise ExtractionFailed(f"the e-mail has more than {MAX_PARTS} parts; it may be hostile.")
        if len(part.keys()) > MAX_HEADERS:
            raise ExtractionFailed("the e-mail has an absurd number of header lines; it may be hostile.")
        kind = part.get_content_type()
        if kind == "message/rfc822":  # a forwarded message is its own document, not part of this body
            self._attach(part, part.get_filename(), kind)
            return
        if part.is_multipart():
            for child in part.get_payload():
                if isinstance(child, Message):
                    self.visit(child, depth + 1)
            return
        filename = part.get_filename()
        disposition = (part.get_content_disposition() or "").lower()
        if kind == "message/rfc822" or filename or disposition == "attachment" or not kind.startswith("text/"):
            self._attach(part, filename, kind)
            return
        text = self._text(part)
        (self.html if kind == "text/html" else self.plain).append(text)

    def _text(self, part: Message) -> str:
        try:
            content = part.get_content()  # type: ignore[attr-defined]
        except (LookupError, ValueError, AssertionError, AttributeError):
            raw = part.get_payload(decode=True)
            content = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
        return content if isinstance(content, str) else ""

    def _attach(self, part: Message, filename: str | None, kind: str) -> None:
        if kind == "message/rfc822":
            inner = part.get_payload()
            message = inner[0] if isinstance(inner, list) and inner else inner
            data = message.as_bytes(policy=email.policy.default) if isinstance(message, Message) else b""
            name = filename or "attached message.eml"
        else:
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            name = filename or f"attachment-{len(self.attachments) + 1}"
        if len(self.attachments) >= MAX_ATTACHMENTS:
            raise ExtractionFailed(f"the e-mail has more than {MAX_ATTACHMENTS} attachments; it may be hostile.")
        if len(data) > MAX_ATTACHMENT_BYTES:
            raise ExtractionFailed(f"an attachment of the e-mail is larger than "
                                   f"{MAX_ATTACHMENT_BYTES // 2**20} MB; save it separately and file it on its own.")
        self.attached_bytes += len(data)
        if self.attached_bytes > MAX_ATTACHMENTS_TOTAL:
            raise ExtractionFailed(f"the e-mail's attachments add up to more than "
                                   f"{MAX_ATTACHMENTS_TOTAL // 2**20} MB; save them separately and file them.")
        self.attachments.append(Attachment(name=str(name), data=data))


def read_eml(data: bytes, max_chars: int) -> Extraction:
    try:
        message = BytesParser(policy=email.policy.default).parsebytes(data)
        walk = _Walk(max_chars)
        walk.visit(message, 0)
        headers: list[tuple[str, str]] = []
        for key in _HEADERS:
            for value in message.get_all(key, []):
                headers.append((key, " ".join(str(value).split())))
    except ExtractionFailed:
        raise
    except RecursionError:
        raise ExtractionFailed(f"the e-mail nests its parts more than {MAX_DEPTH} levels deep; "
                               "it may be hostile.") from None
    except (LookupError, ValueError, TypeError, AttributeError, IndexError, AssertionError, UnicodeError):
        raise ExtractionFailed("the e-mail is damaged and cannot be read.") from None
    if not headers:
        raise ExtractionFailed("the file is not an e-mail (it has none of From, To, Subject or Date).")
    body = "\n\n".join(t.strip() for t in walk.plain if t.strip())
    if not body:
        body = "\n\n".join(html_to_text(t) for t in walk.html if t.strip())
    notes = []
    if len(body) > max_chars:
        body = body[:max_chars]
        notes.append("text cut at the size limit")
    values = dict(headers)
    created = None
    if "date" in values:
        try:
            created = parsedate_to_datetime(values["date"]).date()
        except (TypeError, ValueError, IndexError, OverflowError):
            created = None
    return Extraction(text=body, media_type="message/rfc822", title=values.get("subject", ""),
                      author=values.get("from", ""), created=created, note="; ".join(notes),
                      headers=tuple(headers), attachments=tuple(walk.attachments))

