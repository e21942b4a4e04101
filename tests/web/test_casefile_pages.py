"""The case file pages and the decisions register in the browser's terms (issue 22 items 4 and 5): list with
open/closed filters, open, add by registry number or search, close after seeing the retention consequence,
reopen, hold, decisions with CSV, each change audited, nothing of a hidden record in any list or count."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from records import disposition
from records.errors import DispositionRefused
from records.model import RecordId
from tests.web.conftest import csrf_of
from tests.web.test_pages import second_client, upload


def _post(client: FlaskClient, path: str, page: str, **data: str) -> tuple[int, str]:
    token = csrf_of(client, page)
    response = client.post(path, data={"csrf_token": token, **data})
    return response.status_code, response.headers.get("Location", "") + response.get_data(as_text=True)


def _open(client: FlaskClient, title: str, record_class: str = "02.6", **form: str) -> str:
    code, where = _post(client, "/casefiles/new", "/casefiles/new", title=title, record_class=record_class,
                        opened_on="1. 2. 2026", **form)
    assert code == 302, where
    found = re.search(r"/casefiles/([0-9a-f]{12})", where)
    assert found is not None, where
    return found.group(1)


def _registry_number(client: FlaskClient, rid: str) -> str:
    page = client.get(f"/records/{rid}").get_data(as_text=True)
    found = re.search(r'<p class="meta">([0-9.]+-\d+/\d{4})', page)
    assert found is not None
    return found.group(1)


def _actions(app: Flask, prefix: str) -> list[tuple[str, str | None, str]]:
    catalog = app.extensions["strongroom"].ports.catalog
    return [(e.event.action, e.event.record_id, e.event.channel)
            for e in reversed(catalog.audit_page(limit=500, action=prefix))]


def test_a_case_file_from_opening_to_closing_in_the_browser(app: Flask, admin: FlaskClient) -> None:
    cid = _open(admin, "Zaposlitev računovodje")
    page = admin.get(f"/casefiles/{cid}").get_data(as_text=True)
    assert "Zaposlitev računovodje" in page and "Z-02.6-1/2026" in page and "No records yet." in page
    cv = upload(admin, "prijava.txt", "Prijava na delovno mesto računovodje, Ana Novak.", record_class="02.6")
    letter = upload(admin, "vabilo.txt", "Vabilo na razgovor kandidatki.", record_class="04.1")
    code, where = _post(admin, f"/casefiles/{cid}/records", f"/casefiles/{cid}", record=_registry_number(admin, cv))
    assert code == 302 and "done=added" in where, where
    found = admin.get(f"/casefiles/{cid}", query_string={"q": "razgovor"}).get_data(as_text=True)
    assert "vabilo" in found.lower() and 'name="record" value="' + letter in found
    code, where = _post(admin, f"/casefiles/{cid}/records", f"/casefiles/{cid}", record=letter)
    assert code == 302, where
    record_page = admin.get(f"/records/{cv}").get_data(as_text=True)
    assert "Z-02.6-1/2026" in record_page and "permanently or not yet known" in record_page

    preview = admin.get(f"/casefiles/{cid}/close", query_string={"closed_on": "1. 3. 2026"}).get_data(as_text=True)
    assert "(retention starts)" in preview and "unchanged: its class counts from another start" in preview
    assert "Mar 1, 2027" in preview  # 02.6: one year after the selection closed
    assert app.extensions["strongroom"].ports.catalog.get(RecordId(cv)).retention_until is None  # nothing stored yet
    code, where = _post(admin, f"/casefiles/{cid}/close", f"/casefiles/{cid}", closed_on="2026-03-01")
    assert code == 302 and "done=closed" in where, where
    record_page = admin.get(f"/records/{cv}").get_data(as_text=True)
    assert "Kept until Mar 1, 2027 (" in record_page and "closed on Mar 1, 2026" in record_page
    record_sl = admin.get(f"/records/{cv}", headers={"Accept-Language": "sl"}).get_data(as_text=True)
    assert "Hrani se do 1. 3. 2027 (" in record_sl and "zaključena 1. 3. 2026" in record_sl
    assert "closed" in admin.get("/casefiles/", query_string={"show": "closed"}).get_data(as_text=True).lower()
    assert "Z-02.6-1/2026" not in admin.get("/casefiles/", query_string={"show": "open"}).get_data(as_text=True)

    code, where = _post(admin, f"/casefiles/{cid}/reopen", f"/casefiles/{cid}", reason="Pritožba kandidatke")
    assert code == 302 and "done=reopened" in where
    assert app.extensions["strongroom"].ports.catalog.get(RecordId(cv)).retention_until is None
    actions = _actions(app, "casefile.")
    assert [a for a, _r, _c in actions] == ["casefile.open", "casefile.add", "casefile.add", "casefile.close",
                                            "casefile.close.record", "casefile.reopen", "casefile.reopen.record"]
    assert {c for _a, _r, c in actions} == {"web"}
    sl = admin.get(f"/casefiles/{cid}?lang=sl").get_data(as_text=True)
    assert ">Zadeve<" in sl and "Zaključi zadevo" in sl
    et = admin.get("/casefiles/?show=all&lang=et").get_data(as_text=True)
    assert ">Toimikud<" in et and "Toimiku number" in et


def test_a_hold_on_the_case_file_holds_a_record_added_later(app: Flask, admin: FlaskClient) -> None:
    cid = _open(admin, "Spor s kandidatom")
    code, where = _post(admin, f"/casefiles/{cid}/hold", f"/casefiles/{cid}", reason="Tožba kandidata")
    assert code == 302 and "done=held" in where
    late = upload(admin, "pozna.txt", "Prijava, vložena po zadržanju.", record_class="02.6")
    _post(admin, f"/casefiles/{cid}/records", f"/casefiles/{cid}", record=late)
    _post(admin, f"/casefiles/{cid}/close", f"/casefiles/{cid}", closed_on="2026-03-01")
    state = app.extensions["strongroom"]
    from datetime import date
    held = {h.decision.record_id for h in disposition.held(state.ports, state.plan, jurisdiction="SI",
                                                           as_of=date(2040, 1, 1))}
    assert late in held
    from records.access import AccessScope
    try:
        disposition.dispose(state.ports, state.plan, AccessScope.system("anna"), [RecordId(late)],
                            reason="One year after the selection", jurisdiction="SI", as_of=date(2040, 1, 1),
                            now=state.clock())
        raise AssertionError("a held record was disposed of")
    except DispositionRefused as exc:
        assert "matter hold" in str(exc)
    page = admin.get(f"/casefiles/{cid}").get_data(as_text=True)
    assert "Tožba kandidata" in page and "On hold" in page


def test_no_list_or_count_shows_what_a_user_may_not_see(app: Flask, admin: FlaskClient) -> None:
    cid = _open(admin, "Nabava strežnika", record_class="04.1", confidentiality="internal")
    secret_cid = _open(admin, "Odpoved direktorju", record_class="02.6")  # confidential: above the viewer
    plain = upload(admin, "ponudba.txt", "Ponudba za strežnik.", record_class="04.1", confidentiality="internal")
    hidden = upload(admin, "cena.txt", "Tajna cena strežnika Kozorogovec.", record_class="04.1",
                    confidentiality="secret")
    for rid in (plain, hidden):
        _post(admin, f"/casefiles/{cid}/records", f"/casefiles/{cid}", record=rid)
    viewer = second_client(app, "vaatleja")  # internal clearance
    listing = viewer.get("/casefiles/").get_data(as_text=True)
    assert "Nabava strežnika" in listing and "Odpoved direktorju" not in listing
    row = re.search(r"Nabava strežnika.*?</tr>", listing, re.S)
    assert row is not None and row.group(0).endswith("<td>1</td></tr>")  # the secret record is not counted
    page = viewer.get(f"/casefiles/{cid}").get_data(as_text=True)
    assert "ponudba" in page and "cena" not in page and "Kozorogovec" not in page
    assert viewer.get(f"/casefiles/{secret_cid}").status_code == 404
    code, _ = _post(viewer, f"/casefiles/{cid}/records", f"/casefiles/{cid}", record=plain)
    assert code == 403
    secretary = second_client(app, "sekretarka")  # confidential clearance: sees no secret record in a search
    found = secretary.get(f"/casefiles/{cid}", query_string={"q": "Kozorogovec"}).get_data(as_text=True)
    assert "Nothing found." in found
    hidden_number = _registry_number(admin, hidden)
    answers = {}
    for typed in (hidden_number, "04.1-999/2026"):  # one she may not see, one that does not exist: same answer
        code, page = _post(secretary, f"/casefiles/{cid}/records", f"/casefiles/{cid}", record=typed)
        answers[typed] = (code, page.replace(typed, "N"))
    assert answers[hidden_number] == answers["04.1-999/2026"]
    assert answers[hidden_number][0] == 400 and "that you may see: check the registry number" in page


def test_decisions_register_with_csv(app: Flask, admin: FlaskClient) -> None:
    cid = _open(admin, "Izbira kandidata")
    decision = upload(admin, "odlocba.txt", "Odločba o izbiri kandidata.", record_class="02.6")
    code, where = _post(admin, f"/casefiles/{cid}/decisions", f"/casefiles/{cid}", record=decision,
                        addressee="Ana Novak", subject="=Izbira", issued_on="2. 3. 2026")
    assert code == 302 and "done=decided" in where, where
    register = admin.get("/casefiles/decisions").get_data(as_text=True)
    assert "Z-02.6-1/2026-1" in register and "Ana Novak" in register
    csv = admin.get("/casefiles/decisions?format=csv").data
    assert csv.startswith("\ufeffnumber;issued_on;".encode()) and b";'=Izbira;" in csv
    viewer = second_client(app, "vaatleja")
    assert "Ana Novak" not in viewer.get("/casefiles/decisions").get_data(as_text=True)
    assert _actions(app, "decision.")[0][0] == "decision.issue"
