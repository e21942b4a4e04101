"""The search language: words, "phrases", OR, -word/NOT, prefix*, fields and date ranges.

Fields (`class:` `principal:` `from:` `signer:` `tag:` `state:` `confidentiality:` `hold:` `type:`) and
ranges (`year:2024..2026`, `date:2025-01-01..2025-12-31`, `filed:`, `retention:`) are built here as
whoosh query objects; only the free text goes through whoosh's parser, whose own date ranges
truncate dashed ISO dates and raise TimeError on European ones (whoosh.md §6).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from whoosh import qparser
from whoosh.fields import Schema
from whoosh.query import And, Every, NullQuery, NumericRange, Or, Phrase, Query, Term
from whoosh.query import Not as NotQuery

from indexer.analysis import fold, light_stem
from indexer.errors import QueryError
from indexer.phrase import ExactPhrase
from indexer.schema import FIELD_BOOSTS, LIGHT_FIELDS, TEXT_FIELDS, day_int
from records.registry import RegistryNumber

# query word -> index field, for exact-value fields (matched case-insensitively against the lexicon)
ID_FIELDS = {"class": "record_class", "principal": "principal", "state": "state",
             "confidentiality": "confidentiality", "type": "media_type"}
RANGE_FIELDS = {"date": "date", "filed": "filed", "retention": "retention_until", "year": "year"}
FIELD_NAMES = sorted([*ID_FIELDS, *RANGE_FIELDS, "from", "signer", "tag", "hold"])

_TOKEN = re.compile(r'-?[A-Za-z_]+:"[^"]*"|-?"[^"]*"?|\S+')
_FIELD = re.compile(r"^(-?)([A-Za-z_]+):(.*)$", re.S)
_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_EURO = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")

Lexicon = Callable[[str], Iterable[str]]
_WORD = re.compile(r"\w+(?:\.?\w+)*")  # one token of the index's tokenizer, whole
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})  # whoosh's, upper case only
# A typed registry number (`03.1-2/2026`) is looked up whole in the registry_number ID field: the
# text analyzer would split it at `.`, `-` and `/` into numbers that match everywhere.
REGISTRY_BOOST = 10.0


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    text: Query  # scored part (Every() when the query is only filters)
    restrictions: Query | None  # structured part, ANDed with the text
    free_text: str  # what went to whoosh's parser (for "did you mean")

    @property
    def query(self) -> Query:
        if self.restrictions is None:
            return self.text
        if isinstance(self.text, Every):
            return self.restrictions
        return And([self.text, self.restrictions])


def _bad_date(text: str) -> QueryError:
    return QueryError(f"'{text}' in the search is not a date: write it as 2025-01-31, 2025-01, 2025 "
                      "or 31.1.2025.")


def _date_bounds(text: str) -> tuple[int, int]:
    """First and last yyyymmdd day a typed date stands for (a year, a month or one day)."""
    text = text.strip()
    euro, iso = _EURO.match(text), _ISO.match(text)
    if euro:
        year, month, day = int(euro.group(3)), euro.group(2), euro.group(1)
    elif iso:
        year, month, day = int(iso.group(1)), iso.group(2), iso.group(3)
    else:
        raise _bad_date(text)
    try:
        if month is None:
            first, last = date(year, 1, 1), date(year, 12, 31)
        elif day is None:
            first = date(year, int(month), 1)
            nxt = date(year + 1, 1, 1) if first.month == 12 else date(year, first.month + 1, 1)
            last = date.fromordinal(nxt.toordinal() - 1)
        else:
            first = last = date(year, int(month), int(day))
    except ValueError:
        raise _bad_date(text) from None
    return day_int(first) or 0, day_int(last) or 0


def _range(field: str, value: str) -> Query:
    lo_text, sep, hi_text = value.partition("..")
    if field == "year":
        try:
            lo = int(lo_text) if lo_text else None
            hi = (int(hi_text) if hi_text else None) if sep else lo
            if any(y is not None and not 0 <= y <= 9999 for y in (lo, hi)):
                raise ValueError(value)  # the year field holds 16 bits; whoosh would raise its own error
        except ValueError:
            raise QueryError(f"'{value}' is not a year or a range of years: write year:2024 or "
                             "year:2020..2024.") from None
        return NumericRange("year", 0 if lo is None else lo, 9999 if hi is None else hi)
    lo = _date_bounds(lo_text)[0] if lo_text else None
    hi = (_date_bounds(hi_text)[1] if hi_text else None) if sep else _date_bounds(lo_text)[1]
    if lo is not None and hi is not None and lo > hi:
        raise QueryError(f"The range '{value}' ends before it starts: put the earlier date first.")
    # Open ends are spelled out (whoosh mis-encodes open starts on unsigned fields; ours are
    # signed, but an explicit floor keeps the query independent of that).
    return NumericRange(field, 0 if lo is None else lo, 99991231 if hi is None else hi)


def _id_query(field: str, value: str, lexicon: Lexicon) -> Query:
    wanted = fold(value.strip())
    matches = [term for term in lexicon(field) if fold(term) == wanted]
    if not matches:
        return NullQuery
    return Or([Term(field, t) for t in matches]) if len(matches) > 1 else Term(field, matches[0])


def _field_query(name: str, value: str, lexicon: Lexicon, schema: Schema) -> Query:
    value = value.strip().strip('"')
    if not value:
        raise QueryError(f"The field {name}: needs a value, e.g. {name}:something.")
    if name in ID_FIELDS:
        return _id_query(ID_FIELDS[name], value, lexicon)
    if name in RANGE_FIELDS:
        return _range(RANGE_FIELDS[name], value)
    if name == "tag":
        return Term("tags", value.lower())
    if name == "hold":
        if value.lower() not in ("yes", "no", "true", "false"):
            raise QueryError("hold: takes yes or no.")
        return Term("hold", value.lower() in ("yes", "true"))
    if name == "signer":  # a signer's name or identity code, as a phrase
        return _text_parser(schema, "signers").parse(f'"{value}"')
    # from: the parties and correspondents, as a phrase
    return _text_parser(schema, "parties").parse(f'"{value}"')


def _no_light_phrases(q: Query) -> Query:
    # The light fields keep no positions: a phrase is matched on the exact fields only.
    if isinstance(q, Phrase) and q.fieldname in LIGHT_FIELDS:
        return NullQuery
    return q


def _exact_phrases(q: Query) -> Query:
    # Phrases are matched by position sets, not whoosh's span objects (indexer/phrase.py).
    if type(q) is Phrase:  # noqa: E721 - ExactPhrase is a Phrase too; replace only the plain ones
        return ExactPhrase(q.fieldname, q.words, slop=q.slop, boost=q.boost, char_ranges=q.char_ranges)
    return q


def _text_parser(schema: Schema, field: str | None = None) -> qparser.QueryParser:
    if field is not None:
        parser = qparser.QueryParser(field, schema)
    else:
        parser = qparser.MultifieldParser(list(TEXT_FIELDS), schema, fieldboosts=FIELD_BOOSTS)
    # Users may not name internal fields or use whoosh's range/boost syntax: the structured
    # part above is the only way to filter, so nothing bypasses it.
    for plugin in (qparser.FieldsPlugin, qparser.RangePlugin, qparser.BoostPlugin):
        parser.remove_plugin_class(plugin)
    return parser


def _plain_words(free_text: str, schema: Schema) -> Query | None:
    """The query whoosh's parser makes of one or more plain words (no operators, quotes, wildcards
    or punctuation beyond a word's own dots), built directly: the parser's plugin passes cost
    1-2 ms a search, a tenth of a common one. None for anything else, which goes to the parser
    (tests/indexer/test_search.py checks both give equal queries)."""
    words = free_text.split()
    if not words or any(w in _OPERATORS or not _WORD.fullmatch(w) for w in words):
        return None
    if any(f not in schema for f in TEXT_FIELDS):
        return None
    folded = [fold(w) for w in words]
    if len(set(folded)) != len(folded) or not all(folded):
        return None  # the parser drops repeated words when it normalises; leave that to it
    parts: list[Query] = []
    for word in folded:
        stem = light_stem(word)
        parts.append(Or([Term(f, stem if f in LIGHT_FIELDS else word, boost=FIELD_BOOSTS[f]) for f in TEXT_FIELDS]))
    return parts[0] if len(parts) == 1 else And(parts)


def parsed_text(free_text: str, schema: Schema) -> Query:
    """The free text through whoosh's parser, whose terms remember where in the text they stood
    (what "did you mean" needs to rewrite it)."""
    try:
        scored = _text_parser(schema).parse(free_text)
    except Exception:  # noqa: BLE001 - whoosh's parser errors are not typed
        raise QueryError("The search text cannot be read: check quotes, brackets and OR/NOT.") from None
    return scored.accept(_no_light_phrases).normalize().accept(_exact_phrases)


def parse(text: str, schema: Schema, lexicon: Lexicon) -> ParsedQuery:
    """The whoosh query of one search text; QueryError (one sentence) when it cannot be read."""
    free: list[str] = []
    restrictions: list[Query] = []
    numbers: list[Query] = []
    for token in _TOKEN.findall(text):
        m = _FIELD.match(token)
        number = RegistryNumber.parse(token.strip('"'))
        if number is not None:
            numbers.append(Term("registry_number", str(number), boost=REGISTRY_BOOST))
        elif m and not token.startswith('"'):
            negate, name, value = m.group(1) == "-", m.group(2).lower(), m.group(3)
            if name not in FIELD_NAMES:
                raise QueryError(f"There is no search field '{m.group(2)}:'; use one of "
                                 + ", ".join(f"{n}:" for n in FIELD_NAMES) + ".")
            q = _field_query(name, value, lexicon, schema)
            restrictions.append(NotQuery(q) if negate else q)
        elif token.startswith("-") and len(token) > 1:
            free.append("NOT " + token[1:])  # whoosh's default syntax would read -x as x
        else:
            free.append(token)
    free_text = " ".join(free).strip()
    if free_text.count('"') % 2:
        raise QueryError('A phrase in the search has no closing quote: add the missing ".')
    plain = _plain_words(free_text, schema) if free_text else None
    if plain is not None:
        scored = plain
    elif free_text:
        scored = parsed_text(free_text, schema)
        if scored is NullQuery:
            scored = Every() if restrictions else NullQuery
    else:
        scored = Every()
    if numbers:
        parts = [*([] if isinstance(scored, Every) else [scored]), *numbers]
        scored = parts[0] if len(parts) == 1 else And(parts)
    if not restrictions and isinstance(scored, Every):
        raise QueryError("The search is empty: type a word, a \"phrase\" or a field such as class:03.1.")
    joined = None if not restrictions else (restrictions[0] if len(restrictions) == 1 else And(restrictions))
    return ParsedQuery(text=scored, restrictions=joined, free_text=free_text)
