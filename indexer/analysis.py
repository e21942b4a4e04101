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


class LightStemFilter(Filter):  # type: ignore[misc]  # whoosh is untyped
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


def exact_analyzer() -> Analyzer:
    """Words, lower-cased and folded: `cetrtek` finds `četrtek`, `toolepingu` finds `Töölepingu`."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def light_analyzer() -> Analyzer:
    """The exact analysis plus light stemming: `pogodba` finds `pogodbe`, `leping` finds `lepingut`."""
    return exact_analyzer() | LightStemFilter()
