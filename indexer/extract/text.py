"""Plain text: BOMs, strict UTF-8, then Slovene (cp1250) or Estonian (cp1257) chosen by the letters each yields."""

from __future__ import annotations

import codecs

from records.errors import ExtractionFailed

_SLOVENE = frozenset("čšžćđČŠŽĆĐ")
_ESTONIAN = frozenset("õäöüšžÕÄÖÜŠŽ")
# Letters that a wrong guess produces: Estonian bytes read as cp1250 give ő/ţ, Slovene as cp1257 give ē/ļ.
_CP1250_ODD = frozenset("őţŐŢűŰŕŔĺĹ")
_CP1257_ODD = frozenset("ēļĒĻķĶņŅ")


def _score(text: str, wanted: frozenset[str], odd: frozenset[str]) -> int:
    return sum(ch in wanted for ch in text) - 2 * sum(ch in odd for ch in text)


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\v" or 0x7F <= ord(ch) < 0xA0)
    return controls > max(8, len(text) // 100)


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name); raises ExtractionFailed when the bytes are not text in any supported encoding."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", data)]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", data)]
    else:
        candidates = []
    for encoding, raw in candidates:
        try:
            return raw.decode(encoding), encoding.removesuffix("-sig")
        except UnicodeDecodeError:
            raise ExtractionFailed("the text file starts with a Unicode marker but its contents are not "
                                   "valid Unicode; it may be damaged.") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if _looks_binary(text):
            raise ExtractionFailed("the file contains binary data, not text.")
        return text, "utf-8"
    decoded: dict[str, str] = {}
    for encoding in ("cp1250", "cp1257"):
        try:
            decoded[encoding] = data.decode(encoding)
        except UnicodeDecodeError:
            pass
    if not decoded:
        raise ExtractionFailed("the file is not text in UTF-8, Windows-1250 or Windows-1257.")
    scores = {"cp1250": _score(decoded.get("cp1250", ""), _SLOVENE, _CP1250_ODD),
              "cp1257": _score(decoded.get("cp1257", ""), _ESTONIAN, _CP1257_ODD)}
    # Higher score wins; on a tie (no telling letters at all) Slovene's cp1250 is the default.
    best = max(decoded, key=lambda name: (scores[name], name == "cp1250"))
    text = decoded[best]
    if _looks_binary(text):
        raise ExtractionFailed("the file contains binary data, not text.")
    return text, best
