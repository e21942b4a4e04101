"""Every page in Slovene and Estonian, with no English left (issue 18, item 7).

A home with records of several classes (a contract, an invoice, letters, a destroyed record, a held
record, an open destruction proposal, a rejected and an unsorted file) and an audit log of many action
kinds is rendered page by page: every GET route of the app (from `app.url_map`, each parameter filled
with a real value) and the pages a form answers with. Every visible string (text nodes; the title,
placeholder, aria-label and alt attributes; the value of submit buttons) is cut into words, and a word
is English when it occurs in the English UI vocabulary (the msgids of the catalogue and the sentences
the core writes) and in no translation of the page's language. What is data is taken out first: text
inside <bdi> (the `bidi` filter marks names, titles and file names), <pre> and search snippets (document
text), <code>,
and every data string of the home (titles, names, parties, file names, the plan's legal citations).
"""

from __future__ import annotations

import ast
import io
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from records import certificates, safeguards
from records.meeting_bodies import DEFAULTS
from records.plan import load_default
from records.access import AccessScope
from records.filing import FilingRequest
from records.model import (Confidentiality, ContractFields, CorrespondenceFields, Direction, InvoiceFields,
                           RecordId)
from tests.web.conftest import csrf_of, login

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "web" / "translations"
LANGS = ("sl", "et")
WORD = re.compile(r"[^\W\d_]+")
SKIPPED_TAGS = {"script", "style", "pre", "code", "bdi", "textarea"}
VISIBLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


class VisibleText(HTMLParser):
    """The strings a person sees on a page, data-marked elements left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.strings: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        document_text = "snippet" in str(values.get("class", "")).split()  # a search hit's own words
        if tag in SKIPPED_TAGS or document_text or "lang" in values and tag != "html":
            self._skipping.append(tag)  # data, or words of another language on purpose (the language links)
        for name in VISIBLE_ATTRIBUTES:
            if values.get(name):
                self.strings.append(str(values[name]))
        if tag == "input" and values.get("type") in ("submit", "button", "reset") and values.get("value"):
            self.strings.append(str(values["value"]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.strings.append(" ".join(data.split()))


def visible_strings(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.strings


def words(text: str) -> set[str]:
    """The words of `text`: a token holding a digit (an id, a hash, a date, a number) is none."""
    return {w.lower() for token in text.split() if not any(c.isdigit() for c in token)
            for w in WORD.findall(token) if len(w) > 1}


def _catalog(lang: str) -> list[tuple[object, object]]:
    with (CATALOGS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return [(m.id, m.string) for m in read_po(fh) if m.id]


def _texts(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value or "")]


def _core_sentences() -> set[str]:
    """The string literals of records/, vault/ and indexer/ that read as words (sentences the core writes)."""
    found: set[str] = set()
    for package in ("records", "vault", "indexer"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value:
                    found.add(node.value)
    return found


def english_words(lang: str) -> set[str]:
    """Words of the English UI (msgids, the core's sentences) that no translation into `lang` (nor the
    plan's class names in it) uses."""
    english: set[str] = set()
    for msgid, _text in _catalog(lang):
        for text in _texts(msgid):
            english |= words(re.sub(r"%\(\w+\)[sd]", " ", text))
    for sentence in _core_sentences():
        english |= words(sentence)
    native: set[str] = set()
    for _msgid, text in _catalog(lang):
        for t in _texts(text):
            native |= words(re.sub(r"%\(\w+\)[sd]", " ", t))
    for cls in load_default().classes:
        native |= words(cls.name(lang))
    for body in (b for bodies in DEFAULTS.values() for b in bodies):  # the meeting bodies' own names
        native |= words(body.name(lang))
    return english - native


@dataclass
class Office:
    """The ids and data strings of the home the pages are rendered from."""

    records: dict[str, str] = field(default_factory=dict)  # what -> record id
    data: list[str] = field(default_factory=list)
    certificates: list[str] = field(default_factory=list)
    meetings: list[str] = field(default_factory=list)
    casefiles: list[str] = field(default_factory=list)  # an open one (records, a decision, a hold), a closed one


def _file(app: Flask, name: str, body: bytes, **request: object) -> str:
    office = app.extensions["strongroom"].office
    outcome = office.file(body, FilingRequest(original_name=name, actor="anna", **request))  # type: ignore[arg-type]
    assert outcome.record_id, outcome.reason
    return str(outcome.record_id)


@pytest.fixture
def office_day(app: Flask, home_path: Path) -> Office:
    """A home after a day of work: several classes, a destruction, a hold, a proposal, waiting files."""
    state = app.extensions["strongroom"]
    today = datetime.now(timezone.utc).date()
    found = Office()
    found.records["contract"] = _file(
        app, "najemna-pogodba.txt", b"Najemna pogodba za poslovni prostor Tivoli.", record_class="03.1",
        title="Najemna pogodba Tivoli", principal="Direktorica",
        details=ContractFields(parties=("Najem d.o.o.", "Podjetje d.o.o."), signed=today - timedelta(days=400),
                               expiry=today + timedelta(days=20), notice_days=10, value=Decimal("123456.5"),
                               auto_renewal=True))
    found.records["invoice"] = _file(
        app, "racun-2026-17.txt", b"Racun 2026-17 za najemnino.", record_class="01.1", title="Račun za najemnino",
        principal="Direktorica", document_date=today - timedelta(days=40),
        details=InvoiceFields(issuer="Najem d.o.o.", number="2026-17", amount=Decimal("1234.56"),
                              due_date=today - timedelta(days=5)))
    found.records["letter_in"] = _file(
        app, "dopis-upravi.txt", b"Spostovani, prosimo za odgovor.", record_class="04.1", title="Dopis upravni enoti",
        details=CorrespondenceFields(direction=Direction.INCOMING, sender="Upravna enota Ljubljana",
                                     recipients=("Direktorica",), subject="Prošnja za odgovor",
                                     message_id="<abc.123@upravna.example>"))
    found.records["held"] = _file(app, "sodni-spis.txt", b"Sodni spis v zadevi Kovac.", record_class="03.1",
                                  title="Sodni spis Kovač")
    found.records["old"] = _file(app, "stari-racun.txt", b"Star racun iz leta 2001.", record_class="01.1",
                                 title="Star račun", document_date=date(2001, 3, 1))
    found.records["proposed"] = _file(app, "stari-racun-2.txt", b"Se en star racun iz leta 2002.",
                                      record_class="01.1", title="Drugi star račun", document_date=date(2002, 3, 1))
    found.records["empty"] = _file(app, "prazno.txt", b"", record_class="04.1", title="Prazna datoteka")
    found.records["application"] = _file(app, "prijava.txt", b"Prijava na delovno mesto racunovodje.",
                                         record_class="02.6", title="Prijava Ane Novak")
    found.records["decision"] = _file(app, "odlocba.txt", b"Odlocba o izbiri kandidatke.", record_class="02.6",
                                      title="Odločba o izbiri")
    found.records["closed_case"] = _file(app, "prijava-2.txt", b"Druga prijava na delovno mesto.",
                                         record_class="02.6", title="Prijava Borisa Kralja")
    found.data += ["Najemna pogodba Tivoli", "Direktorica", "Najem d.o.o.", "Podjetje d.o.o.", "Račun za najemnino",
                   "2026-17", "Dopis upravni enoti", "Upravna enota Ljubljana", "Prošnja za odgovor",
                   "Sodni spis Kovač", "Star račun", "Drugi star račun", "Prazna datoteka", "Strongroom",
                   "Slovenščina", "Eesti", "English", "Spor s Kovačem", "Kovač se je umaknil", "zavrnjeno.pdf",
                   "neurejeno.txt", "Računi se hranijo 10 let", "SHA-256", "EUR", "KEY.txt", "FILE.zip",
                   "<abc.123@upravna.example>", "pogodba", "nova-sl", "nova-et", "Zaposlitev računovodje",
                   "Izbira dobavitelja", "Ana Novak", "Izbira kandidatke", "Tožba kandidatke",
                   "Pritožba kandidata", "Kadrovska služba", "'someday'"]
    for record in state.ports.catalog.find():  # the documents' own words (search snippets show them)
        found.data += [record.title, record.original_name]
    found.data += ["Najemna pogodba za poslovni prostor Tivoli.", "Racun 2026-17 za najemnino.",
                   "Spostovani, prosimo za odgovor.", "Sodni spis v zadevi Kovac.", "Star racun iz leta 2001.",
                   "Se en star racun iz leta 2002."]
    for cls in state.plan.classes:  # the plan's legal citations are the office's own text
        for _j, period in cls.retention:
            found.data.append(period.basis)

    admin = app.test_client()
    assert login(admin, "anna") == 302
    token = csrf_of(admin, "/")
    hold = admin.post(f"/records/{found.records['held']}/holds", data={"csrf_token": token,
                                                                       "reason": "Spor s Kovačem"})
    assert hold.status_code == 302
    second = admin.post(f"/records/{found.records['contract']}/holds", data={"csrf_token": token,
                                                                             "reason": "Spor s Kovačem"})
    assert second.status_code == 302
    contract = state.ports.catalog.get(RecordId(found.records["contract"]))
    assert admin.post(f"/records/{contract.id}/holds/{contract.holds[0].hold_id}/release",
                      data={"csrf_token": token, "reason": "Kovač se je umaknil"}).status_code == 302
    edited = admin.post(f"/records/{found.records['contract']}/edit",
                        data={"csrf_token": token, "notice_days": "30", "title": "Najemna pogodba Tivoli"})
    assert edited.status_code == 302, edited.get_data(as_text=True)
    assert admin.post(f"/records/{found.records['invoice']}/paid",
                      data={"csrf_token": token, "paid_on": "", "reference": "SI56"}).status_code == 302
    admin.get(f"/records/{found.records['contract']}/download")
    admin.get("/search?q=pogodba")
    admin.post("/calendar/feed", data={"csrf_token": token})
    proposed = admin.post("/retention/dispose", data={"csrf_token": token, "record_id": found.records["proposed"],
                                                      "confirm": "yes", "reason": "Računi se hranijo 10 let"})
    assert proposed.status_code == 200, proposed.get_data(as_text=True)
    safeguards.change(state.ports, AccessScope.system(), "require-second-approver", "off", now=state.clock())
    destroyed = admin.post("/retention/dispose", data={"csrf_token": token, "record_id": found.records["old"],
                                                       "confirm": "yes", "reason": "Računi se hranijo 10 let"})
    assert destroyed.status_code == 200, destroyed.get_data(as_text=True)
    safeguards.change(state.ports, AccessScope.system(), "require-second-approver", "on", now=state.clock())
    found.certificates = [c.certificate_id for c in certificates.all_certificates(state.ports.catalog)]
    assert found.certificates
    meeting = admin.post("/meetings/new", data={
        "csrf_token": token, "body": "uprava", "date": "12.3.2026", "place": "Sejna soba", "confidentiality": "internal",
        "participants": "Ana Žužek = juht\nZunanji Gost"}, follow_redirects=True).get_data(as_text=True)
    found.meetings = re.findall(r'action="/meetings/([0-9a-f]+)/items"', meeting)[:1]
    assert found.meetings, meeting
    base = f"/meetings/{found.meetings[0]}"
    page = admin.post(f"{base}/items", data={"csrf_token": token, "title": "Letno poročilo"},
                      follow_redirects=True).get_data(as_text=True)
    item = re.findall(r'id="item-([0-9a-f]+)"', page)[0]
    contract_number = state.ports.catalog.get(RecordId(found.records["contract"])).registry_number
    admin.post(f"{base}/items/{item}/materials", data={"csrf_token": token, "registry_number": contract_number})
    admin.post(f"{base}/items/{item}/resolutions", data={"csrf_token": token, "text": "Sprejme poročilo",
                                                         "owner": "Ana", "due": "2026-12-31"})
    found.data += ["Letno poročilo", "Sejna soba", "Ana Žužek", "Zunanji Gost", "Sprejme poročilo", "Ana", "(SI)", "(EE)"]
    found.casefiles = [_casefile(admin, token, "Zaposlitev računovodje", date(2020, 1, 15)),
                       _casefile(admin, token, "Izbira dobavitelja", today - timedelta(days=90))]
    working, closed = (f"/casefiles/{c}" for c in found.casefiles)
    for what, where in (("application", working), ("letter_in", working), ("closed_case", closed)):
        added = admin.post(f"{where}/records", data={"csrf_token": token, "record": found.records[what]})
        assert added.status_code == 302, added.get_data(as_text=True)
    decided = admin.post(f"{working}/decisions", data={
        "csrf_token": token, "record": found.records["decision"], "addressee": "Ana Novak",
        "subject": "Izbira kandidatke", "issued_on": (today - timedelta(days=2)).isoformat()})
    assert decided.status_code == 302, decided.get_data(as_text=True)
    assert admin.post(f"{working}/hold", data={"csrf_token": token, "reason": "Tožba kandidatke"}).status_code == 302
    for step, form in (("close", {"closed_on": (today - timedelta(days=30)).isoformat()}),
                       ("reopen", {"reason": "Pritožba kandidata"}), ("close", {"closed_on": today.isoformat()})):
        answer = admin.post(f"{closed}/{step}", data={"csrf_token": token, **form})
        assert answer.status_code == 302, answer.get_data(as_text=True)
    outsider = app.test_client()
    assert login(outsider, "anna", "not the password") == 401  # a refused login in the audit log

    rejected = home_path / "rejected"
    rejected.mkdir(exist_ok=True)
    (rejected / "zavrnjeno.pdf").write_bytes(b"%PDF-broken")
    (rejected / "zavrnjeno.pdf.reason.txt").write_text("the PDF is damaged and cannot be read.\n")
    waiting = home_path / "inbox" / "_unsorted" / "neurejeno.txt"
    waiting.parent.mkdir(parents=True, exist_ok=True)
    waiting.write_text("Dokument brez razreda.")
    past = time.time() - 3600
    os.utime(waiting, (past, past))
    return found


def _casefile(client: FlaskClient, token: str, title: str, opened: date) -> str:
    opened_page = client.post("/casefiles/new", data={"csrf_token": token, "title": title, "record_class": "02.6",
                                                      "principal": "Kadrovska služba",
                                                      "opened_on": opened.isoformat()})
    found = re.search(r"/casefiles/([0-9a-f]+)", opened_page.headers.get("Location", ""))
    assert opened_page.status_code == 302 and found, opened_page.get_data(as_text=True)
    return found.group(1)


def _value(name: str, office: Office) -> list[str]:
    """Real values for a route parameter; several for a record id (each kind of record page)."""
    if name == "record_id":
        return list(office.records.values())
    if name == "number":
        return ["1"]
    if name == "certificate_id":
        return office.certificates
    if name == "meeting_id":
        return office.meetings
    if name == "casefile_id":
        return office.casefiles
    if name == "user":
        return ["juht"]
    if name == "token":
        return ["no-such-token"]  # the feed itself is an .ics; a wrong token gets the error page
    raise AssertionError(f"the test has no value for the route parameter <{name}>: add one")


def get_pages(app: Flask, office: Office) -> Iterator[str]:
    """Every GET route of the app, its parameters filled, plus the query strings that change a page."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        paths = [rule.rule]
        for name in sorted(rule.arguments):
            paths = [re.sub(rf"<(?:\w+:)?{name}>", value, p) for p in paths for value in _value(name, office)]
        yield from paths
    yield from ("/search?q=pogodba", "/search?q=ra%C4%8Dun&sort=-date", "/search?q=class:nosuch",
                "/registers/invoices?show=unpaid", "/registers/invoices?show=overdue",
                "/registers/correspondence?direction=in", "/audit/?action=record.view",
                f"/records/{office.records['contract']}?done=saved", f"/records/{office.records['invoice']}?done=paid",
                "/records/nosuchrecord", "/nosuchpage",
                "/retention/?by=31.12.2040", "/retention/?by=31.%202.%202013", "/retention/?by=someday",
                "/casefiles/?show=closed", "/casefiles/?show=all", "/casefiles/decisions?year=2026",
                f"/casefiles/{office.casefiles[0]}?q=prijava", f"/casefiles/{office.casefiles[0]}?done=decided",
                # closing far back: the preview warns that a record falls due at once
                f"/casefiles/{office.casefiles[0]}/close?closed_on=1.%203.%202020")


def english_on(html: str, vocabulary: set[str], data: list[str]) -> set[str]:
    """The visible strings of `html` that hold an English word (data strings taken out first)."""
    found = set()
    for text in visible_strings(html):
        rest = text
        for value in sorted(data, key=len, reverse=True):  # a longer data string before any part of it
            rest = rest.replace(value, " ")
        english = sorted(words(rest) & vocabulary)
        if english:
            found.add(f"{text!r} ({', '.join(english)})")
    return found


def test_english_vocabulary_catches_an_untranslated_string() -> None:
    """The detector itself: an untranslated sentence is caught, its translation and data are not."""
    vocabulary = english_words("sl")
    page = ('<h1>Zadržanja</h1><p title="Keep until">Hranjeno do 31. 12. 2031</p><p><bdi>Meeting notes</bdi></p>'
            '<input type="submit" value="Save"><pre>The text of a document</pre>')
    assert english_on(page, vocabulary, []) == {"'Keep until' (keep, until)", "'Save' (save)"}


def test_every_get_page_is_translated(app: Flask, office_day: Office) -> None:
    admin = app.test_client()
    assert login(admin, "anna") == 302
    pages = list(get_pages(app, office_day))
    problems: list[str] = []
    for lang in LANGS:
        vocabulary = english_words(lang)
        for path in pages:
            response = admin.get(path, headers={"Accept-Language": lang})
            if not response.mimetype == "text/html":
                continue
            html = response.get_data(as_text=True)
            assert f'<html lang="{lang}">' in html, path
            problems += [f"{lang} {path}: {found}" for found in sorted(english_on(html, vocabulary, office_day.data))]
    assert problems == [], "English left on the pages:\n" + "\n".join(problems)


def test_pages_after_forms_are_translated(app: Flask, office_day: Office, home_path: Path) -> None:
    """What the forms answer with: filing results, errors re-rendering a page, flash messages."""
    problems: list[str] = []
    for lang in LANGS:
        vocabulary = english_words(lang)
        client = app.test_client()
        assert login(client, "anna") == 302
        client.get(f"/?lang={lang}")
        token = csrf_of(client, "/")
        answers = {
            "upload": client.post("/upload", data={
                "csrf_token": token, "record_class": "04.1",
                "file": [(io.BytesIO(f"Nov dopis {lang}".encode()), f"dopis-{lang}.txt"),
                         (io.BytesIO(b"Spostovani, prosimo za odgovor."), "dopis-upravi.txt"),
                         (io.BytesIO(b""), f"prazno-{lang}.txt"),
                         (io.BytesIO(b"%PDF-1.4 broken"), f"pokvarjen-{lang}.pdf")]},
                content_type="multipart/form-data"),
            "upload without files": client.post("/upload", data={"csrf_token": token, "record_class": "04.1"}),
            "unsorted": client.post("/unsorted", data={"csrf_token": token, "name": "neurejeno.txt",
                                                       "record_class": "04.1"}),
            "dispose without ticks": client.post("/retention/dispose", data={"csrf_token": token}),
            "dispose not due": client.post("/retention/dispose", data={
                "csrf_token": token, "record_id": office_day.records["contract"], "confirm": "yes",
                "reason": "Računi se hranijo 10 let"}),
            "edit error": client.post(f"/records/{office_day.records['contract']}/edit",
                                      data={"csrf_token": token, "expiry": "31.13.2031", "notice_days": "x"}),
            "reclassify": client.post(f"/records/{office_day.records['contract']}/edit",
                                      data={"csrf_token": token, "record_class": "04.1"}),
            "add user": client.post("/admin/users", data={"csrf_token": token, "name": f"nova-{lang}",
                                                          "password": "a-long-new-password", "role": "viewer"},
                                    follow_redirects=True),
            "calendar": client.post("/calendar/feed", data={"csrf_token": token}),
            "export error": client.post("/exports/", data={"csrf_token": token, "date_from": "2030-01-01",
                                                           "date_to": "2020-01-01"}),
            **_casefile_errors(client, token, office_day),
        }
        for what, response in answers.items():
            html = response.get_data(as_text=True)
            data = office_day.data + [f"dopis-{lang}.txt", f"prazno-{lang}.txt", f"pokvarjen-{lang}.pdf",
                                      f"Nov dopis {lang}", f"nova-{lang}"]
            problems += [f"{lang} {what}: {found}" for found in sorted(english_on(html, vocabulary, data))]
    assert problems == [], "English left after forms:\n" + "\n".join(problems)


def _casefile_errors(client: FlaskClient, token: str, office: Office) -> dict[str, TestResponse]:
    """The refusals the case file forms answer with (each leaves the home as it was)."""
    working, closed = (f"/casefiles/{c}" for c in office.casefiles)
    answers = {
        "case file without a date": ("/casefiles/new", {"title": "Nova zadeva", "record_class": "02.6",
                                                        "opened_on": "someday"}),
        "case file in the future": ("/casefiles/new", {"title": "Nova zadeva", "record_class": "02.6",
                                                       "opened_on": "2099-01-01"}),
        "record twice": (f"{working}/records", {"record": office.records["letter_in"]}),
        "record of another case file": (f"{working}/records", {"record": office.records["closed_case"]}),
        "add to a closed one": (f"{closed}/records", {"record": office.records["invoice"]}),
        "close before opening": (f"{working}/close", {"closed_on": "2019-12-01"}),
        "close without justification": (f"{working}/close", {"closed_on": "2020-03-01"}),
        "close against the two-person rule": (f"{working}/close", {"closed_on": "2020-03-01",
                                                                   "reason": "Izbira je končana"}),
        "close twice": (f"{closed}/close", {}),
        "reopen an open one": (f"{working}/reopen", {"reason": "Pritožba"}),
        "reopen without reason": (f"{closed}/reopen", {"reason": " "}),
        "decision without subject": (f"{working}/decisions", {"record": office.records["decision"],
                                                              "addressee": "Ana Novak", "subject": " "}),
        "decision twice": (f"{working}/decisions", {"record": office.records["decision"], "addressee": "Ana Novak",
                                                    "subject": "Izbira kandidatke"}),
        "decision in a closed one": (f"{closed}/decisions", {"record": office.records["closed_case"],
                                                             "addressee": "Ana Novak", "subject": "Izbira"}),
        "release another hold": (f"{working}/holds/nosuchhold/release", {"reason": "Konec spora"}),
    }
    found = {what: client.post(path, data={"csrf_token": token, **form}) for what, (path, form) in answers.items()}
    assert all(r.status_code == 400 for r in found.values()), {w: r.status_code for w, r in found.items()}
    return found


def test_the_audit_log_names_records_not_internal_ids(app: Flask, office_day: Office) -> None:
    """A record is shown by registry number (and title), a destroyed one as such; never by its id."""
    admin = app.test_client()
    assert login(admin, "anna") == 302
    catalog = app.extensions["strongroom"].ports.catalog
    destroyed = catalog.get(RecordId(office_day.records["old"])).registry_number
    for lang, words_of_destroyed in (("sl", "uničen"), ("et", "hävitatud"), ("en", "destroyed record")):
        html = admin.get("/audit/", headers={"Accept-Language": lang}).get_data(as_text=True)
        text = " ".join(visible_strings(html))
        for record_id in office_day.records.values():
            assert record_id[:8] not in text, lang
        assert catalog.get(RecordId(office_day.records["contract"])).registry_number in text
        assert re.search(rf"{words_of_destroyed}\w* \w*\s*{re.escape(destroyed)}", text, re.I), lang
