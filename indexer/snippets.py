"""Snippets: the first passages of a hit's text that hold the searched words, words marked.

whoosh's highlighter re-analyses the whole text of every shown hit through the field's analyzer
(a generator chain of Token objects per word), asks the reader for the query's expanded terms
once per hit and field, and scores every fragment to keep the best two: about a third of a
search's time (issue 21). The words are the same for every hit of a search, so they are read
once (`SnippetWords`), and a hit's text is matched in C: the first SCAN_CHARS characters are
folded in one call and split by the tokenizer's own expression; only the tokens whose first
letters can match are folded to a light stem. The first two passages found are kept (the
scan stops there), cut like whoosh's ContextFragmenter: up to SURROUND characters around the
marked words, at most MAX_CHARS each. A word is marked when it matches as the search matched
it: by its light stem (pogodba marks Pogodbe), else exactly (phrases, which the light fields
do not hold).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from whoosh.query import Query

from indexer.analysis import fold, light_stem

SCAN_CHARS = 20_000  # how much of a hit's text is searched for its words (a long scan is bounded)
MAX_CHARS = 240  # per passage
SURROUND = 60  # context before the first and after the last marked word of a passage
PASSAGES = 2
BETWEEN = " … "
_STEM_KEY = 3  # a light stem keeps at least this many letters (indexer.analysis._MIN_STEM)

# whoosh's RegexTokenizer default expression: the tokens the index holds
_TOKEN = re.compile(r"\w+(?:\.?\w+)*")


@dataclass(frozen=True, slots=True)
class SnippetWords:
    """The words a search marks: light stems (body_light terms) and exact words (body terms)."""

    light: frozenset[str]
    exact: frozenset[str]

    @property
    def empty(self) -> bool:
        return not self.light and not self.exact


def words_of(q: Query, reader: Any) -> SnippetWords:
    """The searched words that exist in the index, prefixes and wildcards expanded (as the
    highlighter's query_terms(expand=True) does), read once per search."""
    return SnippetWords(light=_terms(q, reader, "body_light"), exact=_terms(q, reader, "body"))


def _terms(q: Query, reader: Any, field: str) -> frozenset[str]:
    # One field per call: existing_terms reuses its `fieldname` argument as a loop variable, so
    # without one it keeps only the first field's leaves.
    try:
        terms = q.existing_terms(reader, phrases=True, expand=True, fieldname=field)
    except Exception:  # noqa: BLE001 - an expansion whoosh cannot do leaves the snippet unmarked, not the search failed
        return frozenset()
    return frozenset(_text(t) for f, t in terms if f == field)


def _text(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def _marked(window: str, folded: str, words: set[str] | frozenset[str], light: bool) -> list[tuple[int, int]]:
    """Character spans of the tokens of `window` that match `words`, until PASSAGES passages are
    certain. `folded` is the window folded, character for character (same length)."""
    spans: list[tuple[int, int]] = []
    keys = {w[:_STEM_KEY] for w in words} if light else None
    passages, first = 0, -1
    for m in _TOKEN.finditer(folded):
        token = m.group()
        if light:
            if token[:_STEM_KEY] not in keys or light_stem(token) not in words:  # type: ignore[operator]
                continue
        elif token not in words:
            continue
        start, end = m.span()
        if first < 0 or end - first > MAX_CHARS:
            passages += 1
            if passages > PASSAGES:
                break
            first = start
        spans.append((start, end))
    return spans


def _fold_each(window: str, words: frozenset[str], light: bool) -> list[tuple[int, int]]:
    """The slow path for a text whose folding changes its length (ß -> ss): token by token."""
    spans = []
    for m in _TOKEN.finditer(window):
        token = fold(m.group())
        if (light_stem(token) if light else token) in words:
            spans.append(m.span())
    return spans


def _passages(spans: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    out: list[list[tuple[int, int]]] = []
    for span in spans:
        if out and span[1] - out[-1][0][0] <= MAX_CHARS:
            out[-1].append(span)
        elif len(out) < PASSAGES:
            out.append([span])
        else:
            break
    return out


def _render(text: str, marks: list[tuple[int, int]]) -> str:
    start = max(0, marks[0][0] - SURROUND)
    if start:  # begin at a word: skip the partial one the cut landed in
        space = text.find(" ", start, marks[0][0])
        start = space + 1 if space >= 0 else marks[0][0]
    end = min(len(text), marks[-1][1] + SURROUND, start + MAX_CHARS)
    end = max(end, marks[-1][1])
    if end < len(text):
        space = text.rfind(" ", marks[-1][1], end)
        end = space if space >= 0 else marks[-1][1]
    parts, at = [], start
    for s, e in marks:
        parts.append(html.escape(text[at:s], quote=False))
        parts.append("<mark>" + html.escape(text[s:e], quote=False) + "</mark>")
        at = e
    parts.append(html.escape(text[at:end], quote=False))
    return " ".join("".join(parts).split())


def snippet(text: str, words: SnippetWords) -> str:
    """HTML (escaped, `<mark>` around matched words) of up to PASSAGES passages of `text`; ""
    when none of the words is within the first SCAN_CHARS characters."""
    if not text or words.empty:
        return ""
    window = text[:SCAN_CHARS]
    folded = fold(window)
    for light, wanted in ((True, words.light), (False, words.exact)):
        if not wanted:
            continue
        if len(folded) == len(window):
            spans = _marked(window, folded, wanted, light)
        else:
            spans = _fold_each(window, wanted, light)
        if spans:
            return BETWEEN.join(_render(window, marks) for marks in _passages(spans))
    return ""
