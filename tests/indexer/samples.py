"""Test data for the indexer: a record factory and a small judged multilingual corpus."""

from __future__ import annotations

import random
from datetime import date, datetime, timezone
from pathlib import Path

from records.model import Confidentiality, Record, RecordId, State
from records.ports import IndexDoc

FILED = datetime(2025, 6, 2, 9, 30, tzinfo=timezone.utc)
KEY = bytes(range(32))


def record(rid: str, title: str = "Dokument", *, record_class: str = "03.1", principal: str = "Acme d.o.o.",
           confidentiality: Confidentiality = Confidentiality.INTERNAL, document_date: date | None = None,
           state: State = State.ACTIVE, parties: tuple[str, ...] = (), tags: tuple[str, ...] = (),
           retention_until: date | None = None) -> Record:
    return Record(id=RecordId(rid), registry_number=f"{record_class}-{rid}/2025", title=title,
                  record_class=record_class, principal=principal, confidentiality=confidentiality,
                  document_date=document_date, filed_at=FILED, filed_by="tajnica", original_name=f"{rid}.txt",
                  media_type="text/plain", size=100, sha256="0" * 64, parties=parties, tags=tags,
                  retention_until=retention_until, state=state)


def doc(rid: str, text: str, **kwargs: object) -> IndexDoc:
    return IndexDoc(record=record(rid, **kwargs), text=text)  # type: ignore[arg-type]


# ---- the judged set -------------------------------------------------------------------------
# Concepts and their inflected forms (sl, et, en); a document is relevant to a query for concept C
# when it contains any form of C. Distractors share a prefix but mean something else.

CONCEPTS: dict[str, tuple[str, ...]] = {
    "pogodba": ("pogodba", "pogodbe", "pogodbo", "pogodbi", "pogodbah"),
    "račun": ("račun", "računa", "računi", "računov"),
    "delavec": ("delavec", "delavca", "delavci", "delavcev"),
    "sodišče": ("sodišče", "sodišča", "sodišču"),
    "četrtek": ("četrtek", "četrtka", "četrtku"),
    "zapisnik": ("zapisnik", "zapisnika", "zapisniku"),
    "seja": ("seja", "seje", "sejo", "seji"),
    "leping": ("leping", "lepingu", "lepingut", "lepingud"),
    "tööleping": ("tööleping", "töölepingu", "töölepingut"),
    "arve": ("arve", "arved", "arvete"),
    "otsus": ("otsus", "otsuse", "otsust"),
    "koosolek": ("koosolek", "koosoleku", "koosolekul"),
    "juhatus": ("juhatus", "juhatuse", "juhatust"),
    "resolution": ("resolution", "resolutions"),
    "contract": ("contract", "contracts"),
    "invoice": ("invoice", "invoices"),
    "employee": ("employee", "employees"),
    "meeting": ("meeting", "meetings"),
}
DISTRACTORS = {"račun": "računalnik", "delavec": "delavnica", "contract": "contractor",
               "pogodba": "pogodil", "leping": "lepinguline", "seja": "sejem"}
FILLER = ("in", "ja", "the", "na", "ning", "of", "podjetje", "ettevõte", "company", "dne", "kuupäev",
          "date", "direktor", "board", "glede", "kohta", "regarding", "priloga", "lisa", "annex")

# (query, concept): base forms, inflected forms, and unaccented spellings
JUDGED_QUERIES: tuple[tuple[str, str], ...] = (
    ("pogodba", "pogodba"), ("pogodbe", "pogodba"), ("pogodbo", "pogodba"),
    ("račun", "račun"), ("racun", "račun"), ("računi", "račun"),
    ("delavec", "delavec"), ("delavca", "delavec"),
    ("sodišče", "sodišče"), ("sodisce", "sodišče"),
    ("četrtek", "četrtek"), ("cetrtek", "četrtek"),
    ("zapisnik", "zapisnik"), ("seja", "seja"), ("sejo", "seja"),
    ("leping", "leping"), ("lepingut", "leping"),
    ("tööleping", "tööleping"), ("toolepingu", "tööleping"),
    ("arve", "arve"), ("arvete", "arve"),
    ("otsus", "otsus"), ("otsuse", "otsus"),
    ("koosolek", "koosolek"), ("juhatus", "juhatus"),
    ("resolution", "resolution"), ("resolutions", "resolution"),
    ("contract", "contract"), ("invoices", "invoice"), ("employee", "employee"), ("meeting", "meeting"),
)


def judged_corpus(n: int = 120, seed: int = 7) -> tuple[list[IndexDoc], dict[str, set[str]]]:
    """`n` documents of two concepts each (random forms), some with a distractor; and for every
    concept the ids of the documents relevant to it."""
    rng = random.Random(seed)
    names = sorted(CONCEPTS)
    docs: list[IndexDoc] = []
    relevant: dict[str, set[str]] = {c: set() for c in names}
    for i in range(n):
        rid = f"j{i:03d}"
        chosen = rng.sample(names, 2)
        words = [rng.choice(CONCEPTS[c]) for c in chosen]
        for c in chosen:
            relevant[c].add(rid)
        others = [c for c in DISTRACTORS if c not in chosen]
        if rng.random() < 0.3:
            words.append(DISTRACTORS[rng.choice(others)])
        words += rng.choices(FILLER, k=12)
        rng.shuffle(words)
        docs.append(doc(rid, " ".join(words).capitalize() + "."))
    return docs, relevant


def tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
