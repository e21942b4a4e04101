"""Posting blocks read without unpickling: whoosh 3's codec with each block in flat arrays.

whoosh 3 writes a block of up to 128 postings as a pickled header, then one zlib-compressed
pickle of (docnum gaps, weights, values). Reading any of it unpickles all of it, the words'
positions too, and undoes the gaps in Python: ~100 microseconds a block, most of a search's time
at 100,000 records (issue 21), though ranking and counting need only docnums and weights, and
skipping only the headers. Here a block is a fixed struct header (_HEAD: the same fields), then a
flag byte, the gaps as an array of the narrowest unsigned type that holds them, the weights (one
byte each when they are whole counts below 256, as term frequencies are; float32, what whoosh's
writer keeps them as, otherwise; nothing when all are 1), then the values: fixed-size ones
joined, positions as a compressed pickle that only a phrase reads. Headers come out of
`struct.unpack`, docnums out of `array.frombytes` and `itertools.accumulate`, all in C.

The term infos, columns and stored fields stay whoosh 3's. A segment records the codec that
wrote it, so segments written before this codec are read as they were; merging rewrites them.
Term vectors (unused by the schema) keep whoosh's format.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from itertools import accumulate
from pickle import dumps, loads
from typing import TYPE_CHECKING, Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3FieldWriter, W3LeafMatcher, W3PerDocReader, W3PostingsWriter
from whoosh.formats import Positions
from whoosh.system import _INT_SIZE, pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte

if TYPE_CHECKING:  # numpy is imported by the phrases that need it: ~70 ms every other process is spared
    import numpy as np
    from numpy.typing import NDArray

MAGIC = b"SRb1"  # a block list in this layout; whoosh 3's reader rejects it ("Block tag error")
_GAPS = ("B", "H", "I")  # flag bits 0-1: the gaps' array type
_ONES, _COUNTS, _FLOATS = 0, 4, 8  # flag bits 2-3: every weight 1.0, whole counts below 256 (bytes), float32
_WEIGHTS = 12
# flag bits 4-6: how the values are kept: none, fixed size joined, a pickled tuple (compressed or
# not), or whoosh Positions as flat arrays (each posting's count, then every gap, compressed)
_NO_VALUES, _FIXED, _PICKLED, _PACKED, _POSITIONS = 0, 16, 32, 48, 64
_VALUES = 112
_SWAP = sys.byteorder != "little"  # arrays are kept little-endian on disk
# a block's header, what skipping reads: the data's length (negative for the last block), the
# postings in it, its last docnum, highest weight, shortest and longest field length as bytes
_HEAD = struct.Struct("<iHIdBB")
_LENGTHS = [byte_to_length(b) for b in range(256)]


class FlatCodec(W3Codec):  # type: ignore[misc]  # whoosh is untyped
    """whoosh 3's codec writing and reading posting blocks as flat arrays (see the module text)."""

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> Any:
        if byteids:  # term vectors: whoosh reads them with its own matcher, whatever the codec
            return super().postings_writer(dbfile, byteids=True)
        return FlatPostingsWriter(dbfile, blocklimit=self._blocklimit, compression=self._compression,
                                  inlinelimit=self._inlinelimit)

    def postings_reader(self, dbfile: Any, terminfo: Any, format_: Any, term: Any = None, scorer: Any = None) -> Any:
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return FlatLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)

    def field_writer(self, storage: Any, segment: Any) -> Any:
        return _FlatFieldWriter(self, storage, segment)


class _FlatFieldWriter(W3FieldWriter):  # type: ignore[misc]  # whoosh is untyped
    def add_postings(self, schema: Any, lengths: Any, items: Any) -> None:
        if isinstance(lengths, W3PerDocReader):
            lengths = _LengthTable(lengths)
        super().add_postings(schema, lengths, items)


def length_bytes(perdoc: Any, fieldname: str) -> bytes | None:
    """A segment's length byte per document for `fieldname` (whoosh's length column, read whole);
    None when the field has no lengths."""
    column = perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)  # noqa: SLF001
    return None if column is None else bytes(column)


class _LengthTable:
    """A segment's field lengths as whoosh's writer asks for them, once per posting: each field's
    length column read whole once, where whoosh's reader looked the column up and unpacked one
    byte per call (a tenth of a segment's writing)."""

    def __init__(self, lengths: W3PerDocReader) -> None:
        self._lengths = lengths
        self._fields: dict[str, bytes | None] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int | None = 0) -> int | None:
        if fieldname not in self._fields:
            self._fields[fieldname] = length_bytes(self._lengths, fieldname)
        table = self._fields[fieldname]
        if table is None:
            return default
        found = table[docnum]
        return _LENGTHS[found] if found else None  # whoosh's own gives None for a zero byte


def _array(typecode: str, values: Any) -> bytes:
    packed = array(typecode, values)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def _unpack(typecode: str, data: memoryview) -> array[Any]:
    packed = array(typecode)
    packed.frombytes(data)
    if _SWAP:
        packed.byteswap()
    return packed


class FlatPostingsWriter(W3PostingsWriter):  # type: ignore[misc]  # whoosh is untyped
    def _write_block(self, last: bool = False) -> None:
        postfile = self._postfile
        if not self._blockcount:
            postfile.write(MAGIC)
        self._terminfo.add_block(self)
        ids = self._ids
        gaps = [ids[0], *(b - a for a, b in zip(ids, ids[1:]))]
        kind = _narrowest(gaps)
        parts = [b"", _array(_GAPS[kind], gaps)]
        flags = kind
        weights = self._weights
        if any(w != 1.0 for w in weights):
            if all(0 <= w < 256 and w == int(w) for w in weights):  # term counts: one byte each
                flags |= _COUNTS
                parts.append(bytes(int(w) for w in weights))
            else:
                flags |= _FLOATS
                parts.append(_array("f", weights))
        fixed = self._format.fixed_value_size()
        positions = _positions(self._format, self._values, len(ids))
        if positions is not None:
            flags |= _POSITIONS
            parts.append(positions)
        elif fixed is None or fixed < 0:
            values = dumps(tuple(self._values), 2)
            if self._compression and len(values) > 64:
                flags |= _PACKED
                values = zlib.compress(values, self._compression)
            else:
                flags |= _PICKLED
            parts.append(values)
        elif fixed > 0:
            flags |= _FIXED
            parts.append(b"".join(self._values))
        parts[0] = bytes((flags,))
        databytes = b"".join(parts)
        length = -len(databytes) if last else len(databytes)
        postfile.write(_HEAD.pack(length, len(ids), ids[-1], self._maxweight, length_to_byte(self._minlength),
                                  length_to_byte(self._maxlength)))
        postfile.write(databytes)
        self._blockcount += 1
        self._new_block()


def _positions(fmt: Any, values: list[bytes], count: int) -> bytes | None:
    """whoosh Positions values (a count, then the pickled gaps) as one type byte, the counts and
    the gaps as arrays (the gaps compressed); None for any other format."""
    if type(fmt) is not Positions or len(values) != count:  # noqa: E721 - exactly whoosh's layout
        return None
    counts: list[int] = []
    gaps: list[int] = []
    for value in values:
        found = whoosh_gaps(value)
        counts.append(len(found))
        gaps.extend(found)
    counts_kind, gaps_kind = _narrowest(counts), _narrowest(gaps)
    return b"".join((bytes((counts_kind | gaps_kind << 2,)), _array(_GAPS[counts_kind], counts),
                     zlib.compress(_array(_GAPS[gaps_kind], gaps), 3)))


def whoosh_gaps(value: bytes) -> list[int]:
    """The position gaps of a whoosh Positions value: a count (_INT_SIZE bytes), then the pickled
    list of gaps (sometimes without pickle's final '.')."""
    body = value[_INT_SIZE:]
    gaps: list[int] = loads(body if body.endswith(b".") else body + b".")
    return gaps


def _narrowest(numbers: list[int]) -> int:
    widest = max(numbers, default=0)
    return 0 if widest < 1 << 8 else 1 if widest < 1 << 16 else 2


_DTYPES = {"B": "<u1", "H": "<u2", "I": "<u4"}  # the arrays' types as numpy reads them (little-endian)


def position_keys(m: FlatLeafMatcher) -> NDArray[np.int64] | None:
    """Every position of the term in every document of `m` (from its current block on; the matcher
    is used up) as docnum << 32 | position, ascending; None when a block keeps its positions
    otherwise. The blocks' arrays are joined and summed by numpy: ~0.2 microseconds a document
    where a posting at a time from Python costs ~3."""
    import numpy as np

    ids, counts, gaps = [], [], []
    while True:
        stored = m._stored_positions()  # noqa: SLF001
        if stored is None:
            return None
        counts_type, counts_data, gaps_type, gaps_data = stored
        ids_type, ids_data = m._stored_ids()  # noqa: SLF001
        ids.append(np.frombuffer(ids_data, _DTYPES[ids_type]).cumsum(dtype=np.int64))
        counts.append(np.frombuffer(counts_data, _DTYPES[counts_type]).astype(np.int64))
        gaps.append(np.frombuffer(gaps_data, _DTYPES[gaps_type]).astype(np.int64))
        if m._lastblock:  # noqa: SLF001
            break
        m._next_block()  # noqa: SLF001
    per_doc = np.concatenate(counts)
    summed = np.concatenate(gaps).cumsum()  # each document's gaps start from its first position
    ends = per_doc.cumsum()
    before = np.concatenate((np.zeros(1, np.int64), summed[ends[:-1] - 1]))
    positions = summed - np.repeat(before, per_doc)
    keys: NDArray[np.int64] = (np.repeat(np.concatenate(ids), per_doc) << 32) | positions
    return keys


class FlatLeafMatcher(W3LeafMatcher):  # type: ignore[misc]  # whoosh is untyped
    """whoosh 3's block matcher over FlatPostingsWriter's blocks: only the block reads differ."""

    _data: Any  # the current block's data (a memoryview), None until read
    _ids: Any
    _weights: Any
    _values: Any
    _positions: Any

    def _read_header(self) -> None:
        postfile = self._postfile
        postfile.seek(self._startoffset)
        magic = postfile.read(len(MAGIC))
        if magic != MAGIC:
            raise ValueError(f"not a Strongroom posting list (tag {magic!r})")
        self._baseoffset = postfile.tell()

    def _goto(self, position: int) -> None:
        self._data = self._ids = self._weights = self._values = self._positions = None
        self._i = 0
        length, count, maxid, maxweight, shortest, longest = _HEAD.unpack(self._postfile.get(position, _HEAD.size))
        if length < 0:
            self._lastblock = True
            length = -length
        self._dataoffset = position + _HEAD.size
        self._nextoffset = self._dataoffset + length
        self._blocklength, self._maxid, self._maxweight, self._compression = count, maxid, maxweight, 0
        self._minlength, self._maxlength = _LENGTHS[shortest], _LENGTHS[longest]

    def _read_data(self) -> None:
        data = self._postfile.get(self._dataoffset, self._nextoffset - self._dataoffset)
        self._data = memoryview(data)

    def _read_ids(self) -> None:
        self._ids = tuple(accumulate(_unpack(*self._stored_ids())))

    def _stored_ids(self) -> tuple[str, memoryview]:
        """The block's docnum gaps as stored: (their array type, the bytes)."""
        if self._data is None:
            self._read_data()
        return _GAPS[self._data[0] & 3], self._data[1:self._weights_at()]

    def _weights_at(self) -> int:
        at: int = 1 + self._blocklength * array(_GAPS[self._data[0] & 3]).itemsize
        return at

    def _read_weights(self) -> None:
        if self._data is None:
            self._read_data()
        how, at, n = self._data[0] & _WEIGHTS, self._weights_at(), self._blocklength
        if how == _COUNTS:  # whole counts, as ints: every score and sum of them is the float's
            self._weights = bytes(self._data[at:at + n])
        elif how == _FLOATS:
            self._weights = _unpack("f", self._data[at:at + 4 * n])
        else:
            self._weights = array("f", [1.0]) * n

    def _values_at(self) -> int:
        at: int = self._weights_at() + {_ONES: 0, _COUNTS: 1, _FLOATS: 4}[self._data[0] & _WEIGHTS] * self._blocklength
        return at

    def positions(self) -> tuple[list[int], array[int]] | None:
        """The block's positions as (where each posting's gaps start, n + 1 offsets; every gap),
        read without building whoosh's per-posting values; None when kept otherwise."""
        if self._positions is None:
            stored = self._stored_positions()
            if stored is None:
                return None
            counts_type, counts, gaps_type, gaps = stored
            self._positions = (list(accumulate(_unpack(counts_type, counts), initial=0)),
                               _unpack(gaps_type, memoryview(gaps)))
        found: tuple[list[int], array[int]] = self._positions
        return found

    def _stored_positions(self) -> tuple[str, memoryview, str, bytes] | None:
        """The block's positions as stored: (the counts' array type, the counts, the gaps' array type,
        the gaps decompressed); None when kept otherwise."""
        if self._data is None:
            self._read_data()
        if self._data[0] & _VALUES != _POSITIONS:
            return None
        at = self._values_at()
        kinds = self._data[at]
        counts_type, gaps_type = _GAPS[kinds & 3], _GAPS[kinds >> 2 & 3]
        end = at + 1 + self._blocklength * array(counts_type).itemsize
        return counts_type, self._data[at + 1:end], gaps_type, zlib.decompress(self._data[end:])

    def _read_values(self) -> None:
        if self._data is None:
            self._read_data()
        flags = self._data[0]
        at = self._values_at()
        how = flags & _VALUES
        if how == _POSITIONS:  # whoosh's own encoding, for whoosh's readers (merges, its Phrase)
            starts, gaps = self.positions() or ([], array("B"))
            self._values = tuple(pack_uint(b - a) + dumps(gaps[a:b].tolist(), 2) for a, b in zip(starts, starts[1:]))
        elif how == _NO_VALUES:
            self._values = (None,) * self._blocklength
        elif how == _FIXED:
            size = self._fixedsize
            data = bytes(self._data[at:])
            self._values = tuple(data[i:i + size] for i in range(0, len(data), size))
        else:
            data = bytes(self._data[at:])
            self._values = loads(zlib.decompress(data) if how == _PACKED else data)


__all__ = ["MAGIC", "FlatCodec", "FlatLeafMatcher", "FlatPostingsWriter", "whoosh_gaps"]
