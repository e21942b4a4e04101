"""Text analysis for Slovene, Estonian and English: case and diacritic folding, light inflection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh.analysis import CharsetFilter, Filter, LowercaseFilter, RegexTokenizer
from whoosh.analysis.analyzers import Analyzer
from whoosh.support.charset import accent_map

# Prefix length of the light field: measured on the judged set in tests/indexer/test_relevance.py.
# 5 collapses pogodba/pogodbe/pogodbo and leping/lepingu/lepingut; 6 misses many of those.
LIGHT_PREFIX = 5

# Endings peeled off before truncation: Slovene/Estonian case vowels, Estonian plural -d and
# partitive -t, English plural -s. Peeling first lets short stems meet (arve/arved/arvete,
# akt/akti, seja/seje) that truncation alone keeps apart.
_ENDINGS = frozenset("aeioudts")
_MIN_STEM = 3


def fold(text: str) -> str:
    """Lower case and without diacritics: what both analyzers index and what queries are matched as."""
    return text.lower().translate(accent_map)


def light_stem(word: str) -> str:
    """The folded word cut to a shared stem: trailing case/plural letters peeled (keeping at least
    three), then truncated to LIGHT_PREFIX characters. Crude on purpose: it also joins račun and
    računalnik, so the exact fields are boosted above the light ones and exact matches rank first."""
    end = len(word)
    while end > _MIN_STEM and word[end - 1] in _ENDINGS:
        end -= 1
    return word[:min(end, LIGHT_PREFIX)]


class LightStemFilter(Filter):
    """Replaces each token's text by its light stem (positions and offsets untouched, so the
    highlighter still marks the original word)."""

    is_morph = True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LightStemFilter)

    def __hash__(self) -> int:
        return hash(LightStemFilter)

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        for token in tokens:
            token.text = light_stem(token.text)
            yield token


# Function words of Slovene, Estonian and English: the words nearly every document holds. A
# phrase with one of them ("za pogodbo", "sveta na") would otherwise be checked position by
# position in every document holding both words; the pair field answers it from one posting list.
COMMON_WORDS = frozenset(fold(w) for w in (
    # sl
    "in na je se da za v z s o k h po pri od do iz ki ali pa ne so bo bi ter ob med nad pod pred "
    "brez kot tudi še že to ta te ti tem tega"
    # et
    " ja ning on et ka kui ei see oli ole või aga nii siis kes mis mida seda selle need pole"
    # en
    " the of and to a an is are was be by for on in at as with from or not it this that"
).split())


class CommonPairsFilter(Filter):
    """Each adjacent pair of words in which one is a common word, as one "word word" token
    (the bigram half of Lucene's CommonGrams). Positions are not kept: the pair term only finds
    the candidates; the phrase itself still checks them."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CommonPairsFilter)

    def __hash__(self) -> int:
        return hash(CommonPairsFilter)

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        previous = None
        for token in tokens:
            word = token.text
            if previous is not None and (previous in COMMON_WORDS or word in COMMON_WORDS):
                token.text = f"{previous} {word}"
                yield token
            previous = word


def common_pairs(words: list[str]) -> list[str]:
    """The pair terms CommonPairsFilter indexes for these (folded) consecutive words."""
    return [f"{a} {b}" for a, b in zip(words, words[1:]) if a in COMMON_WORDS or b in COMMON_WORDS]


def pairs_analyzer() -> Analyzer:
    return exact_analyzer() | CommonPairsFilter()


def exact_analyzer() -> Analyzer:
    """Words, lower-cased and folded: `cetrtek` finds `četrtek`, `toolepingu` finds `Töölepingu`."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def light_analyzer() -> Analyzer:
    """The exact analysis plus light stemming: `pogodba` finds `pogodbe`, `leping` finds `lepingut`."""
    return exact_analyzer() | LightStemFilter()
