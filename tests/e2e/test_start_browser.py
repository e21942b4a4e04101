"""End to end in headless Chromium: the start page in Slovene (deadlines, a rejected file retried) and
the calendar (.ics download, a subscription address that works without a session)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from records.filing import FilingRequest
from records.model import Confidentiality, ContractFields
from tests.e2e.test_browser import SHOTS, _login, _watch, browser, served, server  # noqa: F401 - fixtures by name
from vault import Home
from web.office import Office
from web.settings import Settings

pytestmark = pytest.mark.browser


def _contract(home: Home) -> str:
    office = Office(home, Settings.load({"home": home.path}, environ={}))
    outcome = office.file(b"Pogodba o najemu poslovnih prostorov.", FilingRequest(
        original_name="najem.txt", record_class="03.1", actor="anna", title="Najem pisarne Kvarnerplov",
        confidentiality=Confidentiality.INTERNAL,
        details=ContractFields(parties=("Najem d.o.o.",), expiry=date.today() + timedelta(days=40), notice_days=30)))
    assert outcome.registry_number, outcome.reason
    return outcome.registry_number


def test_start_page_in_slovene_and_the_calendar(server: str, browser: object, home: Home,  # noqa: F811
                                                 tmp_path: Path) -> None:
    number = _contract(home)
    rejected = home.path / "rejected"
    rejected.mkdir(exist_ok=True)
    (rejected / "skeniran.pdf").write_bytes(b"%PDF-broken")
    (rejected / "skeniran.pdf.reason.txt").write_text("The PDF could not be read.\n")
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    context = browser.new_context(accept_downloads=True, locale="sl-SI",  # type: ignore[attr-defined]
                                  viewport={"width": 1280, "height": 860})
    page = context.new_page()
    _watch(page, problems)
    favicon: list[str] = []  # Chromium asks for /favicon.ico, which the app does not serve
    page.on("console", lambda m: favicon.append(m.text) if m.location.get("url", "").endswith("/favicon.ico")
            else None)
    _login(page, server, "anna")
    assert page.locator("h1").inner_text() == "Začetek"
    upcoming = page.locator("section#upcoming")
    assert upcoming.locator("tr", has_text=number).first.is_visible()
    assert upcoming.locator("text=Zadnji dan za odpoved").count() == 1
    row = page.locator("table.rejected tr", has_text="skeniran.pdf")
    assert row.locator("text=The PDF could not be read.").count() == 1
    page.screenshot(path=str(SHOTS / "start.png"), full_page=True)
    row.locator("select[name=folder]").select_option("contracts")
    row.locator("button", has_text="Poskusi znova").click()
    page.wait_for_selector("p.ok")
    assert "vrnjena v vhodno mapo" in page.locator("p.ok").inner_text()
    assert (home.path / "inbox" / "contracts" / "skeniran.pdf").exists()

    page.goto(f"{server}/calendar")
    with page.expect_download() as info:
        page.locator("a.button", has_text="Prenesi .ics").click()
    data = Path(info.value.path()).read_bytes()
    summaries = sorted(str(e["summary"]) for e in Calendar.from_ical(data).walk("VEVENT"))
    assert summaries == [f"Pogodba poteče {number}", f"Zadnji dan za odpoved {number}"]
    assert b"Kvarnerplov" not in data
    page.locator("button", has_text="Ustvari naslov vira").click()
    address = page.locator("input.feed-url").input_value()
    page.screenshot(path=str(SHOTS / "calendar.png"), full_page=True)
    outsider = browser.new_context()  # type: ignore[attr-defined]  # a mail client: no session
    response = outsider.request.get(address)
    assert response.status == 200 and response.headers["content-type"].startswith("text/calendar")
    assert number.encode() in response.body()
    assert outsider.request.get(address.replace(".ics", "x.ics")).status == 404
    assert [p for p in problems if p.removeprefix("console error: ") not in favicon] == []
    outsider.close()
    context.close()
