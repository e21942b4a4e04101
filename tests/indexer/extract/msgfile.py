"""Test-only writers: a minimal OLE2 compound file (MS-CFB, version 3, with a mini stream) and an
Outlook .msg (MS-OXMSG) on top of it. olefile only reads and extract-msg is GPL, so the tests build
their .msg files here, to the published specifications, independently of indexer/extract/msg.py."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone

Tree = dict[str, "bytes | Tree"]

SECTOR, MINI, CUTOFF = 512, 64, 4096
FREE, END, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF


@dataclass
class _Entry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    data: bytes = b""
    children: list[int] = field(default_factory=list)
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    start: int = END
    size: int = 0


def _flatten(tree: Tree, entries: list[_Entry], parent: int) -> None:
    for name, value in tree.items():
        entries.append(_Entry(name, 1 if isinstance(value, dict) else 2,
                              value if isinstance(value, bytes) else b""))
        index = len(entries) - 1
        entries[parent].children.append(index)
        if isinstance(value, dict):
            _flatten(value, entries, index)


def _balanced(entries: list[_Entry], ids: list[int]) -> int:
    if not ids:
        return NOSTREAM
    mid = len(ids) // 2
    entries[ids[mid]].left = _balanced(entries, ids[:mid])
    entries[ids[mid]].right = _balanced(entries, ids[mid + 1:])
    return ids[mid]


def _chain(fat: list[int], first: int, count: int) -> None:
    for i in range(count):
        fat[first + i] = first + i + 1 if i < count - 1 else END


def compound_file(tree: Tree) -> bytes:
    entries = [_Entry("Root Entry", 5)]
    _flatten(tree, entries, 0)
    for entry in entries:  # siblings in CFB order: shorter names first, then by upper-cased name
        ordered = sorted(entry.children, key=lambda i: (len(entries[i].name), entries[i].name.upper()))
        entry.child = _balanced(entries, ordered)
    mini = bytearray()
    minifat: list[int] = []
    sectors: list[bytes] = []
    fat: list[int] = []

    def allocate(data: bytes) -> int:
        count = max(1, -(-len(data) // SECTOR))
        first = len(sectors)
        for i in range(count):
            sectors.append(data[i * SECTOR:(i + 1) * SECTOR].ljust(SECTOR, b"\0"))
        fat.extend([0] * count)
        _chain(fat, first, count)
        return first

    for entry in entries[1:]:
        if entry.kind != 2:
            continue
        entry.size = len(entry.data)
        if not entry.data:
            entry.start = END
        elif len(entry.data) < CUTOFF:
            count = -(-len(entry.data) // MINI)
            entry.start = len(minifat)
            mini += entry.data.ljust(count * MINI, b"\0")
            minifat.extend([0] * count)
            _chain(minifat, entry.start, count)
        else:
            entry.start = allocate(entry.data)
    root = entries[0]
    root.size = len(mini)
    root.start = allocate(bytes(mini)) if mini else END
    minifat_bytes = b"".join(struct.pack("<I", v) for v in minifat)
    minifat_start = allocate(minifat_bytes.ljust(-(-len(minifat_bytes) // SECTOR) * SECTOR, b"\xff")) \
        if minifat else END
    minifat_count = -(-len(minifat_bytes) // SECTOR) if minifat else 0
    directory = b"".join(_dir_entry(e) for e in entries)
    directory = directory.ljust(-(-len(directory) // SECTOR) * SECTOR, b"\0")
    dir_start = allocate(directory)
    fat_count = 1
    while len(sectors) + fat_count > fat_count * (SECTOR // 4):
        fat_count += 1
    assert fat_count <= 109, "test files stay small: no DIFAT sectors"
    fat_start = len(sectors)
    fat.extend([FATSECT] * fat_count)
    fat.extend([FREE] * (fat_count * (SECTOR // 4) - len(fat)))
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat)
    for i in range(fat_count):
        sectors.append(fat_bytes[i * SECTOR:(i + 1) * SECTOR])
    difat = [fat_start + i for i in range(fat_count)] + [FREE] * (109 - fat_count)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH6xIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, 0, fat_count, dir_start, 0, CUTOFF,
                            minifat_start, minifat_count, END, 0)
              + b"".join(struct.pack("<I", v) for v in difat))
    assert len(header) == SECTOR
    return header + b"".join(sectors)


def _dir_entry(entry: _Entry) -> bytes:
    name = entry.name.encode("utf-16-le")
    assert len(name) <= 62
    return (name.ljust(64, b"\0") + struct.pack("<HBBIII", len(name) + 2, entry.kind, 1, entry.left,
                                                   entry.right, entry.child)
            + b"\0" * 16 + struct.pack("<IQQIQ", 0, 0, 0, entry.start if entry.kind != 1 else 0,
                                       entry.size))


# ---- .msg ---------------------------------------------------------------------------------------

PT_LONG, PT_SYSTIME, PT_UNICODE, PT_BINARY, PT_OBJECT = 0x0003, 0x0040, 0x001F, 0x0102, 0x000D


@dataclass
class Message:
    subject: str
    sender: tuple[str, str]  # (display name, SMTP address)
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    sent: datetime | None = None
    body: str | None = None
    html: bytes | None = None  # PR_HTML as binary (UTF-8, PR_INTERNET_CPID 65001)
    rtf: bytes | None = None  # PR_RTF_COMPRESSED, stored as given
    message_id: str = ""
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    embedded: list[Message] = field(default_factory=list)


def _filetime(when: datetime) -> int:
    delta = when - datetime(1601, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


class _Props:
    def __init__(self) -> None:
        self.streams: Tree = {}
        self.fixed: list[bytes] = []

    def text(self, pid: int, value: str) -> None:
        data = value.encode("utf-16-le")
        self.streams[f"__substg1.0_{pid:04X}001F"] = data
        self.fixed.append(struct.pack("<HHIII", PT_UNICODE, pid, 6, len(data) + 2, 0))

    def binary(self, pid: int, value: bytes) -> None:
        self.streams[f"__substg1.0_{pid:04X}0102"] = value
        self.fixed.append(struct.pack("<HHIII", PT_BINARY, pid, 6, len(value), 0))

    def long(self, pid: int, value: int) -> None:
        self.fixed.append(struct.pack("<HHIII", PT_LONG, pid, 6, value, 0))

    def time(self, pid: int, value: datetime) -> None:
        self.fixed.append(struct.pack("<HHIQ", PT_SYSTIME, pid, 6, _filetime(value)))

    def storage(self, header: bytes) -> Tree:
        return {**self.streams, "__properties_version1.0": header + b"".join(self.fixed)}


def _message_tree(message: Message, top: bool) -> Tree:
    props = _Props()
    props.text(0x001A, "IPM.Note")
    props.text(0x0037, message.subject)
    props.text(0x0C1A, message.sender[0])
    props.text(0x0C1F, message.sender[1])
    props.text(0x5D01, message.sender[1])
    props.long(0x3FFD, 65001)
    if message.message_id:
        props.text(0x1035, message.message_id)
    if message.sent:
        props.time(0x0039, message.sent)
        props.time(0x0E06, message.sent)
    if message.body is not None:
        props.text(0x1000, message.body)
    if message.html is not None:
        props.binary(0x1013, message.html)
        props.long(0x3FDE, 65001)
    if message.rtf is not None:
        props.binary(0x1009, message.rtf)
    tree: Tree = {}
    recipients = [(r, 1) for r in message.to] + [(r, 2) for r in message.cc]
    for index, ((name, address), kind) in enumerate(recipients):
        rp = _Props()
        rp.text(0x3001, name)
        rp.text(0x3003, address)
        rp.text(0x39FE, address)
        rp.text(0x3002, "SMTP")
        rp.long(0x0C15, kind)
        tree[f"__recip_version1.0_#{index:08X}"] = rp.storage(b"\0" * 8)
    attachments = 0
    for name, data in message.attachments:
        ap = _Props()
        ap.text(0x3707, name)
        ap.text(0x3704, name[:12])
        ap.binary(0x3701, data)
        ap.long(0x3705, 1)  # ATTACH_BY_VALUE
        tree[f"__attach_version1.0_#{attachments:08X}"] = ap.storage(b"\0" * 8)
        attachments += 1
    for inner in message.embedded:
        ap = _Props()
        ap.text(0x3001, inner.subject)
        ap.long(0x3705, 5)  # ATTACH_EMBEDDED_MSG
        ap.fixed.append(struct.pack("<HHIII", PT_OBJECT, 0x3701, 6, 0xFFFFFFFF, 0))
        storage = ap.storage(b"\0" * 8)
        storage["__substg1.0_3701000D"] = _message_tree(inner, top=False)
        tree[f"__attach_version1.0_#{attachments:08X}"] = storage
        attachments += 1
    counts = struct.pack("<IIII", len(recipients), attachments, len(recipients), attachments)
    header = b"\0" * 8 + counts + b"\0" * 8 if top else b"\0" * 8 + counts
    tree.update(props.storage(header))
    if top:
        tree["__nameid_version1.0"] = {"__substg1.0_00020102": b"", "__substg1.0_00030102": b"",
                                       "__substg1.0_00040102": b""}
    return tree


def msg_file(message: Message) -> bytes:
    """The bytes of an Outlook .msg holding `message` (Unicode properties, as Outlook 2003+ saves)."""
    return compound_file(_message_tree(message, top=True))
