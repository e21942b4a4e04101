"""Issue 18's flows as a secretary and an administrator do them, in Slovene and in Estonian, in headless
Chromium against a real server: file a contract by upload, enter its parties, expiry and notice period,
see the notice date on the start page and in the .ics feed, find it by a party's name; mark an invoice
paid in the register; record a lifecycle event; add a user (viewer by default), reset their password and
see them forced to choose a new one; propose the destruction of a record from the retention due list.
With STRONGROOM_SCREENSHOTS set (`make screenshots`), each flow leaves its pictures in docs/screenshots."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.support import Translations
from icalendar import Calendar

from records.filing import FilingRequest
from records.model import ContractFields, InvoiceFields
from tests.e2e.test_browser import SHOTS, _login, _watch, browser, served, server  # noqa: F401 - fixtures
from tests.web.conftest import PASSWORD
from web.i18n import DAY_PATTERNS
from web.office import Office

pytestmark = pytest.mark.browser

CATALOGS = Path(__file__).resolve().parents[2] / "web" / "translations"
# What the person reads and clicks, looked up in the catalogue, so the test follows the translators.
MSGIDS = {"edit": "Edit details", "save": "Save", "saved": "The changes were saved and recorded in the audit log.",
          "notice": "Last day to give notice", "paid": "Mark paid", "event": "Record event", "add": "Add user",
          "reset": "Reset password", "change": "Change password"}


def _typed(day: date) -> str:
    """A date as a secretary types it in both countries: 31.12.2031."""
    return f"{day.day}.{day.month}.{day.year}"


def _shown(day: date, lang: str) -> str:
    """A date as the pages show it in `lang` (web.i18n.day's pattern)."""
    return str(format_date(day, DAY_PATTERNS[lang], locale=lang))


def _shot(page: object, name: str, lang: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"flow-{name}-{lang}.png"), full_page=True)  # type: ignore[attr-defined]


def _page(browser: object, lang: str, problems: list[str]) -> tuple[object, object]:
    context = browser.new_context(accept_downloads=True, locale=f"{lang}-{'SI' if lang == 'sl' else 'EE'}",  # type: ignore[attr-defined]
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _watch(page, problems)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return context, page


def _no_problems(problems: list[str]) -> None:
    # Chromium's own /favicon.ico request 404s on the console (no response event reaches us for it).
    assert [p for p in problems if "status of 404" not in p] == []


LANGS = pytest.mark.parametrize("lang", ["sl", "et"])


def _words(lang: str) -> dict[str, str]:
    catalog = Translations.load(str(CATALOGS), [lang])
    words = {key: catalog.gettext(msgid) for key, msgid in MSGIDS.items()}
    assert all(words[key] != msgid for key, msgid in MSGIDS.items()), words  # really translated
    return words


@LANGS
def test_a_contract_from_upload_to_notice_date_calendar_and_party_search(
        server: str, browser: object, tmp_path: Path, lang: str) -> None:  # noqa: F811
    words, problems = _words(lang), []
    context, page = _page(browser, lang, problems)
    _login(page, server, "sekretarka")
    party = "Nepremičnine Žiberna d.o.o." if lang == "sl" else "Kinnisvara Õunapuu OÜ"
    folded = "ziberna" if lang == "sl" else "ounapuu"
    document = tmp_path / ("najemna-pogodba.txt" if lang == "sl" else "uurileping.txt")
    document.write_text("Pogodba o najemu pisarne v Kopru." if lang == "sl" else "Büroo üürileping Tartus.",
                        encoding="utf-8")
    page.goto(f"{server}/upload")
    page.set_input_files("input[name=file]", str(document))
    page.select_option("select[name=record_class]", "03.1")
    page.click("form#upload-form button[type=submit]")
    page.wait_for_selector("tr.filed a")
    number = page.locator("tr.filed a").first.inner_text()
    page.locator("tr.filed a").first.click()

    expiry = date.today() + timedelta(days=50)
    notice = expiry - timedelta(days=30)
    page.get_by_role("link", name=words["edit"]).click()
    page.fill("input[name=parties]", f"{party}, Kvarnerplov d.o.o.")
    page.fill("input[name=expiry]", _typed(expiry))
    page.fill("input[name=notice_days]", "30")
    _shot(page, "contract-edit", lang)
    page.get_by_role("button", name=words["save"]).click()
    assert words["saved"] in page.locator("#edit-status").inner_text()

    page.goto(f"{server}/")
    row = page.locator("section#upcoming tr", has_text=number).filter(has_text=words["notice"])
    assert row.count() == 1
    assert _shown(notice, lang) in row.inner_text()
    _shot(page, "start", lang)

    page.goto(f"{server}/calendar")
    with page.expect_download() as info:
        page.locator("a[href$='calendar.ics']").first.click()
    feed = Path(info.value.path()).read_bytes()
    events = [(str(e["summary"]), e.decoded("dtstart")) for e in Calendar.from_ical(feed).walk("VEVENT")]
    assert [day for summary, day in events if summary.startswith(f"{words['notice']} {number}")] == [notice], events

    page.goto(f"{server}/search?q={folded}")
    assert page.locator("li.hit").count() == 1 and number in page.locator("li.hit").inner_text()
    _shot(page, "search-party", lang)
    _no_problems(problems)
    context.close()


@LANGS
def test_an_invoice_is_marked_paid_in_the_register(served: tuple[str, Office], browser: object,  # noqa: F811
                                                     lang: str) -> None:
    base, office = served
    outcome = office.file("Račun za čiščenje pisarn, oktober.".encode(), FilingRequest(
        original_name="racun.txt", record_class="01.1", actor="anna", principal="Kvarnerplov d.o.o.",
        details=InvoiceFields(issuer="Čistilni servis Bleščica d.o.o.", number="2026-0417",
                              amount=Decimal("1830.50"), due_date=date.today() - timedelta(days=3))))
    words, problems = _words(lang), []
    context, page = _page(browser, lang, problems)
    _login(page, base, "sekretarka")
    page.goto(f"{base}/registers/invoices?show=unpaid")
    row = page.locator("table.invoices tbody tr", has_text="2026-0417")
    assert row.locator(".badge.overdue").count() == 1
    row.locator("input[name=reference]").fill("SI00 2026-0417")
    _shot(page, "invoice-unpaid", lang)
    row.get_by_role("button", name=words["paid"]).click()
    page.locator("table.invoices tbody tr", has_text="2026-0417").wait_for(state="detached")  # no longer unpaid
    assert page.url.endswith("/registers/invoices?show=unpaid"), page.inner_text("main")
    page.goto(f"{base}/registers/invoices")
    row = page.locator("table.invoices tbody tr", has_text="2026-0417")
    assert _shown(date.today(), lang) in row.inner_text()
    assert "SI00 2026-0417" in row.inner_text() and row.locator(".badge.overdue").count() == 0
    _shot(page, "invoice-paid", lang)
    assert outcome.registry_number in row.inner_text()
    _no_problems(problems)
    context.close()


@LANGS
def test_a_lifecycle_event_is_recorded_on_the_record_page(served: tuple[str, Office], browser: object,  # noqa: F811
                                                         lang: str) -> None:
    base, office = served
    outcome = office.file("Pogodba o vzdrževanju opreme, sklenjena za nedoločen čas.".encode(), FilingRequest(
        original_name="vzdrzevanje.txt", record_class="03.1", actor="anna",  # open-ended: no expiry
        details=ContractFields(parties=("Servis Opreme d.o.o.",))))
    words, problems = _words(lang), []
    context, page = _page(browser, lang, problems)
    _login(page, base, "sekretarka")
    page.goto(f"{base}/records/{outcome.record_id}")
    form = page.locator("form.event-form")
    chosen = form.locator("select[name=event] option:checked").inner_text()  # the class's own event
    form.locator("input[name=date]").fill("15.6.2026")
    form.get_by_role("button", name=words["event"]).click()
    assert words["saved"] in page.locator("#edit-status").inner_text()
    recorded = page.locator("ul.events li", has_text=chosen)
    assert recorded.count() == 1
    assert _shown(date(2026, 6, 15), lang) in recorded.inner_text()
    _shot(page, "lifecycle-event", lang)
    _no_problems(problems)
    context.close()


@LANGS
def test_an_administrator_adds_a_viewer_resets_the_password_and_the_user_must_choose_a_new_one(
        server: str, browser: object, lang: str) -> None:  # noqa: F811
    words, problems = _words(lang), []
    name = "maja" if lang == "sl" else "mari"
    context, page = _page(browser, lang, problems)
    _login(page, server, "anna")
    page.goto(f"{server}/admin/users")
    form = page.locator("form", has=page.locator("input[name=name]"))
    assert form.locator("select[name=role]").input_value() == "viewer"  # the safe default
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=password]").fill("prvo-geslo-za-novinko")
    form.get_by_role("button", name=words["add"]).click()
    assert page.locator("p.ok").count() == 1
    row = page.locator("table.users tbody tr", has_text=name)
    assert row.locator("select[name=role]").input_value() == "viewer"
    row.locator("input[name=password]").fill("zacasno-geslo-2026")
    row.get_by_role("button", name=words["reset"]).click()
    assert page.locator("p.ok").count() == 1
    assert page.locator("table.users tbody tr", has_text=name).locator(".muted").count() == 1  # must change
    _shot(page, "users", lang)

    newcomer_problems: list[str] = []
    newcomer, user_page = _page(browser, lang, newcomer_problems)
    user_page.goto(f"{server}/login")
    user_page.fill("input[name=username]", name)
    user_page.fill("input[name=password]", "zacasno-geslo-2026")
    user_page.click("button[type=submit]")
    user_page.wait_for_url(f"{server}/account/password")
    assert user_page.locator("p.notice").count() == 1
    user_page.goto(f"{server}/search")  # nothing else opens before a new password is chosen
    assert user_page.url == f"{server}/account/password"
    _shot(user_page, "password-forced", lang)
    user_page.fill("input[name=current]", "zacasno-geslo-2026")
    user_page.fill("input[name=new]", PASSWORD + "-novo")
    user_page.fill("input[name=confirm]", PASSWORD + "-novo")
    user_page.get_by_role("button", name=words["change"]).click()
    assert user_page.locator("p.ok").count() == 1
    user_page.goto(f"{server}/search")
    assert user_page.url == f"{server}/search"
    _no_problems(problems + newcomer_problems)
    newcomer.close()
    context.close()


@LANGS
def test_the_retention_due_list_shows_an_old_invoice_and_its_destruction_is_proposed(
        served: tuple[str, Office], browser: object, lang: str) -> None:  # noqa: F811
    base, office = served
    outcome = office.file("Račun iz leta 2014 za pisarniški material.".encode(), FilingRequest(
        original_name="racun-2014.txt", record_class="01.1", actor="anna", document_date=date(2014, 5, 1),
        title="Račun za pisarniški material 2014"))
    problems: list[str] = []
    context, page = _page(browser, lang, problems)
    _login(page, base, "anna")
    page.goto(f"{base}/retention/")
    tick = page.locator(f"input[name=record_id][value='{outcome.record_id}']")
    assert tick.count() == 1
    due_row = page.locator("tr", has=tick)
    assert outcome.registry_number in due_row.inner_text()
    _shot(page, "retention-due", lang)
    tick.check()
    page.fill("textarea[name=reason]", "Rok hrambe je potekel." if lang == "sl" else "Säilitustähtaeg on möödas.")
    page.check("input[name=confirm]")
    page.locator("button.danger[type=submit]").first.click()
    # two-person rule (the default): the destruction now waits for a second approver
    page.locator("section.proposal", has_text=outcome.registry_number).wait_for()
    _shot(page, "retention-proposed", lang)
    _no_problems(problems)
    context.close()
