"""Extracted text normalised for searching: NFKC, soft hyphens dropped, words hyphenated at line ends joined."""

from __future__ import annotations

import re
import unicodedata

_SOFT_HYPHEN = "\u00ad"
# A letter, a hyphen (ASCII, U+2010 or a soft hyphen) ending the line, and a letter starting the next.
_BROKEN_WORD = re.compile(r"([^\W\d_])[-\u2010\u00ad][ \t]*\r?\n[ \t]*([^\W\d_])")


def _join(match: re.Match[str]) -> str:
    before, after = match.group(1), match.group(2)
    # "pogod-\nba" was one word broken by the typesetter; "Slovensko-\nEstonski" (a capital after the
    # break) is a compound that keeps its hyphen, on one line.
    if after.islower():
        return before + after
    return f"{before}-{after}"


def normalise(text: str) -> str:
    """The text as a reader types it: NFKC folds ligatures ("ﬁ" -> "fi") and full-width forms
    ("ＡＢＣ" -> "ABC"); a word the typesetter hyphenated at a line end is joined; soft hyphens go."""
    if not text:
        return text
    text = unicodedata.normalize("NFKC", text)
    if "-" in text or "\u2010" in text or _SOFT_HYPHEN in text:
        text = _BROKEN_WORD.sub(_join, text)
    return text.replace(_SOFT_HYPHEN, "")
