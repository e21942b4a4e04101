"""Synthetic records for the search bench: ~2 KB of mixed sl/et/en text, Zipf-like vocabulary, fixed seed.

Each record is generated from its own number, so any record's text can be rebuilt on demand (the
bench's snippet source) without keeping the corpus in memory.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import replace
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

from records.model import Confidentiality, Record, RecordId
from records.ports import IndexDoc

SEED = 20261123
REAL_WORDS = (
    # sl
    "pogodba pogodbe pogodbo pogodbi račun računa računi delavec delavca sodišče sodišča četrtek "
    "zapisnik zapisnika seja seje sklep sklepa družba družbe direktor direktorja nadzorni svet sveta "
    "skupščina skupščine delničar delničarjev dobava dobave plačilo plačila rok roka odpoved odpovedi "
    "zaposlitev zaposlitvi najem najemna prostor prostora ponudba ponudbe naročilo naročila občina "
    "ministrstvo ministrstva zakon zakona člen člena priloga priloge podpis podpisa dan leto mesec "
    # et
    "leping lepingu lepingut tööleping töölepingu arve arved arvete otsus otsuse koosolek koosoleku "
    "juhatus juhatuse nõukogu nõukogu aktsionär aktsionäride tarne tarnimine makse maksed tähtaeg "
    "ülesütlemine töötaja töötajad üür üüri ruumid pakkumine tellimus vald ministeerium seadus "
    "paragrahv lisa allkiri päev aasta kuu kiri kirja protokoll protokolli volikiri "
    # en
    "contract contracts invoice invoices employee employees court thursday minutes meeting meetings "
    "resolution resolutions board company director shareholder shareholders delivery payment term "
    "termination employment lease premises offer order municipality ministry law article annex "
    "signature day year month letter notice agreement amendment report budget audit"
).split()
FILLER = "in na je se da za v z o the of and to a is for on ja ning on et ka kui".split()
CLASSES = ("01.1", "01.2", "02.1", "03.1", "04.1", "05.1", "06.1", "07.1")
PRINCIPALS = ("Acme d.o.o.", "Beta d.d.", "Tallinna OÜ", "Gamma Ltd", "Delta AS", "Epsilon s.p.")
LEVELS = (Confidentiality.PUBLIC, Confidentiality.INTERNAL, Confidentiality.INTERNAL,
          Confidentiality.CONFIDENTIAL, Confidentiality.SECRET)
SYNTHETIC = 40_000
WORDS_PER_DOC = 300  # ~2 KB


def _synthetic(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnoprstuvzčšžõäöü"
    words: set[str] = set()
    while len(words) < SYNTHETIC:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(4, 11))))
    return sorted(words)


class Vocabulary:
    """Real record words at the head, synthetic words in the tail, Zipf weights (s = 1.05)."""

    def __init__(self, seed: int = SEED) -> None:
        rng = random.Random(seed)
        tail = _synthetic(rng)
        rng.shuffle(tail)
        self.words = FILLER + REAL_WORDS + tail
        weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(self.words))]
        self._cum = list(itertools.accumulate(weights))

    def sample(self, rng: random.Random, k: int) -> list[str]:
        total = self._cum[-1]
        return [self.words[bisect.bisect_left(self._cum, rng.random() * total)] for _ in range(k)]


def record_of(i: int) -> Record:
    rng = random.Random(SEED * 7 + i)
    doc_date = date(2015, 1, 1) + timedelta(days=rng.randrange(4000))
    cls = CLASSES[rng.randrange(len(CLASSES))]
    return Record(id=RecordId(f"b{i:07d}"), registry_number=f"{cls}-{i}/{doc_date.year}",
                  title=f"Dokument {i}", record_class=cls, principal=PRINCIPALS[rng.randrange(len(PRINCIPALS))],
                  confidentiality=LEVELS[rng.randrange(len(LEVELS))], document_date=doc_date,
                  filed_at=datetime.combine(doc_date + timedelta(days=3), datetime.min.time(), tzinfo=timezone.utc),
                  filed_by="bench", original_name=f"{i}.txt", media_type="text/plain", size=2048,
                  sha256="0" * 64, retention_until=doc_date + timedelta(days=365 * 10))


def text_of(vocab: Vocabulary, i: int) -> str:
    rng = random.Random(SEED * 13 + i)
    return " ".join(vocab.sample(rng, WORDS_PER_DOC))


def corpus(vocab: Vocabulary, n: int) -> Iterator[IndexDoc]:
    for i in range(n):
        title = " ".join(vocab.sample(random.Random(i), 4)).capitalize()
        yield IndexDoc(record=replace(record_of(i), title=title), text=text_of(vocab, i))


def queries(vocab: Vocabulary, count: int = 200, seed: int = SEED) -> list[str]:
    """1/3 rare words, 1/3 common words, 1/3 phrases or two words with a class or year filter."""
    rng = random.Random(seed + 1)
    head = len(FILLER)
    out: list[str] = []
    for q in range(count):
        kind = q % 3
        if kind == 0:
            out.append(vocab.words[rng.randrange(2_000, 30_000)])
        elif kind == 1:
            out.append(vocab.words[rng.randrange(head, head + 150)])
        elif rng.random() < 0.5:
            doc_words = text_of(vocab, rng.randrange(1_000)).split()
            at = rng.randrange(len(doc_words) - 1)
            out.append(f'"{doc_words[at]} {doc_words[at + 1]}"')
        else:
            a, b = (vocab.words[rng.randrange(head, head + 400)] for _ in range(2))
            extra = f"class:{rng.choice(CLASSES)}" if rng.random() < 0.5 else f"year:{rng.randint(2016, 2025)}"
            out.append(f"{a} {b} {extra}")
    return out
