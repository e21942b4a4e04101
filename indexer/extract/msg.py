"""Outlook .msg (an OLE2 compound file, MS-OXMSG) read with olefile: mail fields, body, attachments."""

from __future__ import annotations

import codecs
import email.policy
import io
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.parser import HeaderParser
from email.utils import format_datetime, parsedate_to_datetime

import olefile

from records.errors import ExtractionFailed
from records.ports import Attachment, Extraction

from .eml import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_ATTACHMENTS_TOTAL, MAX_DEPTH
from .kinds import MEDIA_TYPES, Kind
from .markup import html_to_text

# Property ids (MS-OXPROPS) and types (MS-OXCDATA).
SUBJECT, HEADERS, SENDER_NAME, SENDER_EMAIL, SENDER_SMTP = 0x0037, 0x007D, 0x0C1A, 0x0C1F, 0x5D01
SENT_AS_NAME, SENT_AS_EMAIL, SUBMIT_TIME, DELIVERY_TIME = 0x0042, 0x0065, 0x0039, 0x0E06
BODY, RTF_COMPRESSED, HTML, MESSAGE_ID, CODEPAGE, INTERNET_CPID = 0x1000, 0x1009, 0x1013, 0x1035, 0x3FFD, 0x3FDE
DISPLAY_NAME, EMAIL_ADDRESS, SMTP_ADDRESS, RECIPIENT_TYPE = 0x3001, 0x3003, 0x39FE, 0x0C15
ATTACH_DATA, ATTACH_FILENAME, ATTACH_LONG_FILENAME, ATTACH_METHOD = 0x3701, 0x3704, 0x3707, 0x3705
PT_LONG, PT_SYSTIME = 0x0003, 0x0040
UNICODE, STRING8, BINARY, OBJECT = "001F", "001E", "0102", "000D"
ATTACH_EMBEDDED_MSG = 5
# Header bytes before the fixed-size property entries of a __properties_version1.0 stream.
TOP_HEADER, EMBEDDED_HEADER, CHILD_HEADER = 32, 24, 8
MAX_BODY_BYTES = 64 * 1024 * 1024
_PROPERTY = struct.Struct("<HHI8s")  # type, id, flags, value
_LABEL = "Outlook message"


def _codec(codepage: int | None, default: str = "cp1252") -> str:
    names = {65001: "utf-8", 1200: "utf-16-le", 20127: "ascii", 28591: "latin-1", 28592: "iso8859-2",
             28594: "iso8859-4", 28603: "iso8859-13", 28605: "iso8859-15"}
    name = names.get(codepage or 0, f"cp{codepage}" if codepage else default)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return default


def _filetime(raw: bytes) -> datetime | None:
    ticks = int.from_bytes(raw, "little")
    try:
        return datetime(1601, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=ticks // 10) if ticks else None
    except OverflowError:
        return None


@dataclass(slots=True)
class _Budget:
    """What one .msg may unpack in all, across its embedded messages."""

    attachments: int = 0
    attached_bytes: int = 0


@dataclass(slots=True)
class _Mail:
    subject: str = ""
    sender: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    sent: datetime | None = None
    message_id: str = ""
    body: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def headers(self) -> list[tuple[str, str]]:
        out = [("from", self.sender)] if self.sender else []
        out += [("to", ", ".join(self.to))] if self.to else []
        out += [("cc", ", ".join(self.cc))] if self.cc else []
        out += [("subject", self.subject)] if self.subject else []
        out += [("date", format_datetime(self.sent))] if self.sent else []
        return out + ([("message-id", self.message_id)] if self.message_id else [])


class _Storage:
    """One message, recipient or attachment storage: its string, binary and fixed-size properties."""

    def __init__(self, reader: _Reader, path: tuple[str, ...], header: int) -> None:
        self.reader, self.path = reader, path
        self.fixed: dict[int, tuple[int, bytes]] = {}
        raw = reader.stream((*path, "__properties_version1.0"), 1 << 20) or b""
        for offset in range(header, len(raw) - _PROPERTY.size + 1, _PROPERTY.size):
            kind, pid, _flags, value = _PROPERTY.unpack_from(raw, offset)
            self.fixed[pid] = (kind, value)
        self.codepage = _codec(self.long(CODEPAGE))

    def long(self, pid: int) -> int | None:
        kind, value = self.fixed.get(pid, (0, b""))
        return int.from_bytes(value[:4], "little") if kind == PT_LONG else None

    def time(self, pid: int) -> datetime | None:
        kind, value = self.fixed.get(pid, (0, b""))
        return _filetime(value) if kind == PT_SYSTIME else None

    def binary(self, pid: int, limit: int) -> bytes | None:
        return self.reader.stream((*self.path, f"__substg1.0_{pid:04X}{BINARY}"), limit)

    def text(self, pid: int, limit: int = 1 << 20) -> str:
        raw = self.reader.stream((*self.path, f"__substg1.0_{pid:04X}{UNICODE}"), limit)
        if raw is not None:
            return raw.decode("utf-16-le", "replace").split("\x00", 1)[0].strip()
        raw = self.reader.stream((*self.path, f"__substg1.0_{pid:04X}{STRING8}"), limit)
        return raw.decode(self.codepage, "replace").split("\x00", 1)[0].strip() if raw is not None else ""

    def children(self, prefix: str) -> list[tuple[str, ...]]:
        return self.reader.children(self.path, prefix)


class _Reader:
    def __init__(self, ole: olefile.OleFileIO) -> None:
        self.ole = ole
        self.paths: dict[tuple[str, ...], tuple[str, ...]] = {}  # upper-cased path -> path as stored
        for entry in ole.listdir(streams=True, storages=True):
            path = tuple(entry)
            self.paths[tuple(p.upper() for p in path)] = path
        self.budget = _Budget()

    def stream(self, path: tuple[str, ...], limit: int) -> bytes | None:
        stored = self.paths.get(tuple(p.upper() for p in path))
        if stored is None or self.ole.get_type(list(stored)) != olefile.STGTY_STREAM:
            return None
        if self.ole.get_size(list(stored)) > limit:
            raise ExtractionFailed(f"a part of the {_LABEL} is larger than {limit // 2**20} MB; "
                                   "save its attachments separately and file them on their own.")
        data: bytes = self.ole.openstream(list(stored)).read(limit + 1)
        return data

    def children(self, parent: tuple[str, ...], prefix: str) -> list[tuple[str, ...]]:
        depth = len(parent) + 1
        upper = tuple(p.upper() for p in parent)
        found = {key[:depth] for key in self.paths
                 if len(key) > depth - 1 and key[:depth - 1] == upper and key[depth - 1].startswith(prefix.upper())}
        return [self.paths[key] for key in sorted(found) if key in self.paths]


def _address(store: _Storage, name_id: int, address_ids: tuple[int, ...]) -> str:
    name = store.text(name_id)
    address = next((a for a in (store.text(i) for i in address_ids) if "@" in a), "")
    if name and address and name != address:
        return f"{name} <{address}>" if "," not in name else f'"{name}" <{address}>'
    return address or name


def _body(store: _Storage, mail: _Mail) -> str:
    plain = store.text(BODY, MAX_BODY_BYTES)
    if plain:
        return plain
    html = store.binary(HTML, MAX_BODY_BYTES)
    if html is not None:
        return html_to_text(html.decode(_codec(store.long(INTERNET_CPID), "utf-8"), "replace"))
    html_text = store.text(HTML, MAX_BODY_BYTES)
    if html_text:
        return html_to_text(html_text)
    if store.binary(RTF_COMPRESSED, MAX_BODY_BYTES):
        mail.notes.append("the message's body is only in compressed RTF, which is not read")
    return ""


def _read_message(reader: _Reader, path: tuple[str, ...], header: int, depth: int) -> _Mail:
    if depth > MAX_DEPTH:
        raise ExtractionFailed(f"the {_LABEL} nests messages more than {MAX_DEPTH} levels deep; it may be hostile.")
    store = _Storage(reader, path, header)
    mail = _Mail(subject=store.text(SUBJECT), message_id=store.text(MESSAGE_ID))
    mail.sender = (_address(store, SENDER_NAME, (SENDER_SMTP, SENDER_EMAIL))
                   or _address(store, SENT_AS_NAME, (SENT_AS_EMAIL,)))
    mail.sent = store.time(SUBMIT_TIME) or store.time(DELIVERY_TIME)
    transport = store.text(HEADERS)
    if transport:
        parsed = HeaderParser(policy=email.policy.compat32).parsestr(transport)
        mail.sender = mail.sender or " ".join(str(parsed.get("from", "")).split())
        mail.message_id = mail.message_id or str(parsed.get("message-id", "")).strip()
        if mail.sent is None and parsed.get("date"):
            try:
                mail.sent = parsedate_to_datetime(str(parsed["date"]))
            except (TypeError, ValueError, IndexError, OverflowError):
                pass
    for recipient_path in store.children("__recip_version1.0_#"):
        recipient = _Storage(reader, recipient_path, CHILD_HEADER)
        who = _address(recipient, DISPLAY_NAME, (SMTP_ADDRESS, EMAIL_ADDRESS))
        if who:
            (mail.cc if recipient.long(RECIPIENT_TYPE) == 2 else mail.to).append(who)  # 3 (Bcc) counts as To
    mail.body = _body(store, mail)
    for attach_path in store.children("__attach_version1.0_#"):
        _attach(reader, _Storage(reader, attach_path, CHILD_HEADER), mail, depth)
    return mail


def _attach(reader: _Reader, store: _Storage, mail: _Mail, depth: int) -> None:
    budget = reader.budget
    budget.attachments += 1
    if budget.attachments > MAX_ATTACHMENTS:
        raise ExtractionFailed(f"the {_LABEL} has more than {MAX_ATTACHMENTS} attachments; it may be hostile.")
    name = store.text(ATTACH_LONG_FILENAME) or store.text(ATTACH_FILENAME) or store.text(DISPLAY_NAME)
    embedded = tuple(p.upper() for p in (*store.path, f"__substg1.0_{ATTACH_DATA:04X}{OBJECT}"))
    if store.long(ATTACH_METHOD) == ATTACH_EMBEDDED_MSG and embedded in reader.paths:
        inner = _read_message(reader, reader.paths[embedded], EMBEDDED_HEADER, depth + 1)
        data = _as_eml(inner)
        name = f"{(inner.subject or name or 'attached message').strip()[:100]}.eml"
    else:
        data = store.binary(ATTACH_DATA, MAX_ATTACHMENT_BYTES) or b""
        name = name or f"attachment-{len(mail.attachments) + 1}"
    budget.attached_bytes += len(data)
    if budget.attached_bytes > MAX_ATTACHMENTS_TOTAL:
        raise ExtractionFailed(f"the {_LABEL}'s attachments add up to more than "
                               f"{MAX_ATTACHMENTS_TOTAL // 2**20} MB; save them separately and file them.")
    mail.attachments.append(Attachment(name=name, data=data))


def _as_eml(mail: _Mail) -> bytes:
    """An embedded message as an RFC 822 message, so that it is filed (with its own date and
    attachments) exactly like a message forwarded inside an .eml."""
    message = EmailMessage(policy=email.policy.default)
    for key, value in mail.headers():
        try:
            message[key.title()] = value
        except (ValueError, TypeError, IndexError):
            pass  # a header Python refuses to fold is left out, never a reason to lose the message
    message.set_content(mail.body or "")
    for attachment in mail.attachments:
        message.add_attachment(attachment.data, maintype="application", subtype="octet-stream",
                               filename=attachment.name)
    return message.as_bytes()


def read_msg(data: bytes, max_chars: int) -> Extraction:
    try:
        # Always a BytesIO: olefile takes bytes shorter than 1536 for a file name.
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            reader = _Reader(ole)
            if not reader.stream(("__properties_version1.0",), 1 << 20):
                raise ExtractionFailed(f"the file is not an {_LABEL} (it has no message properties).")
            mail = _read_message(reader, (), TOP_HEADER, 0)
    except ExtractionFailed:
        raise
    except RecursionError:
        raise ExtractionFailed(f"the {_LABEL} nests its storages too deeply to read; it may be hostile.") from None
    except (OSError, ValueError, TypeError, IndexError, KeyError, struct.error, EOFError, OverflowError,
            UnicodeError, LookupError):
        raise ExtractionFailed(f"the {_LABEL} is damaged (its OLE structure cannot be read).") from None
    notes = list(mail.notes)
    body = mail.body
    if len(body) > max_chars:
        body = body[:max_chars]
        notes.append("text cut at the size limit")
    return Extraction(text=body, media_type=MEDIA_TYPES[Kind.MSG], title=mail.subject, author=mail.sender,
                      created=mail.sent.date() if mail.sent else None, note="; ".join(notes),
                      headers=tuple(mail.headers()), attachments=tuple(mail.attachments))
