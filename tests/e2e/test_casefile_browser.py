"""In Slovene, in headless Chromium against a real server (issue 22 item 6): a secretary opens a case file,
adds an application by its registry number and an invitation found by search, closes the case file after
seeing the retention it starts, and sees the retention running on the application's record page; no CSP
violations or console errors. Screenshots go to docs/screenshots/ with `make screenshots`."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from babel.dates import format_date

from records.retention import add_years
from tests.e2e.test_browser import SHOTS, _login, _watch, browser, served, server  # noqa: F401 - fixtures used by name
from web.i18n import DAY_PATTERNS

pytestmark = pytest.mark.browser


def _upload(page: object, server: str, path: Path, record_class: str) -> str:
    """File one document through the upload page; returns its record page's address."""
    page.goto(f"{server}/upload")  # type: ignore[attr-defined]
    page.set_input_files("input[name=file]", str(path))  # type: ignore[attr-defined]
    page.select_option("select[name=record_class]", record_class)  # type: ignore[attr-defined]
    page.click("form#upload-form button[type=submit]")  # type: ignore[attr-defined]
    return str(page.locator("tr.filed a").first.get_attribute("href"))  # type: ignore[attr-defined]


def test_a_secretary_runs_a_case_file_from_open_to_closed_and_sees_retention_start(
        server: str, browser: object, tmp_path: Path) -> None:  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    context = browser.new_context(locale="sl-SI", viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    _watch(page, problems)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    _login(page, server, "sekretarka")

    cv = tmp_path / "prijava-novak.txt"
    cv.write_text("Prijava na delovno mesto računovodje. Ana Novak, Ljubljana.", encoding="utf-8")
    invitation = tmp_path / "vabilo-razgovor.txt"
    invitation.write_text("Vabilo kandidatki na razgovor za delovno mesto računovodje.", encoding="utf-8")
    cv_page = _upload(page, server, cv, "02.6")
    _upload(page, server, invitation, "04.1")
    page.goto(f"{server}{cv_page}")
    cv_number = page.locator("p.meta").inner_text().split("·")[0].strip()
    assert re.fullmatch(r"02\.6-\d+/\d{4}", cv_number), cv_number

    page.get_by_role("link", name="Zadeve").first.click()
    page.get_by_role("link", name="Nova zadeva").click()
    page.fill("input[name=title]", "Zaposlitev računovodje")
    page.select_option("select[name=record_class]", "02.6")
    page.fill("input[name=principal]", "uprava")
    page.get_by_role("button", name="Odpri zadevo").click()
    assert "Zaposlitev računovodje" in page.locator("h1").inner_text()
    number = page.locator("p.meta").inner_text().split("·")[0].strip()
    assert number.startswith("Z-02.6-")

    page.fill("form.add-record input[name=record]", cv_number)
    page.locator("form.add-record button").click()
    assert "Zapis je dodan." in page.locator("p.ok").inner_text()
    page.fill("form.find-record input[name=q]", "razgovor")
    page.locator("form.find-record button").click()
    page.locator("ul.hits li", has_text="vabilo").locator("button").click()
    rows = page.locator("table.casefile-records tbody tr")
    assert rows.count() == 2
    page.screenshot(path=str(SHOTS / "casefile.png"), full_page=True)

    page.locator("form.close-form button").click()
    today = datetime.now(timezone.utc).date()
    # 02.6: one year after the selection; in the form Slovene pages write a day (1. 3. 2027)
    kept_until = format_date(add_years(today, 1), DAY_PATTERNS["sl"], locale="sl")
    consequence = page.locator("table.consequences tbody tr", has_text=cv_number)
    assert kept_until in consequence.inner_text() and "hramba se začne" in consequence.inner_text()
    assert "nespremenjeno" in page.locator("table.consequences tbody tr", has_text="04.1").inner_text()
    page.screenshot(path=str(SHOTS / "casefile-close.png"), full_page=True)
    page.locator("form.confirm-close button").click()
    assert "Zadeva je zaključena" in page.locator("p.ok").inner_text()
    assert "Zaključena" in page.locator("p.meta").inner_text()

    page.locator("table.casefile-records a", has_text=cv_number).click()
    retention = page.locator("dl.fields", has_text="Hrani do").last.inner_text()
    assert kept_until in retention, retention
    assert number in page.locator("main").inner_text()  # the record names its case file
    page.screenshot(path=str(SHOTS / "casefile-record.png"), full_page=True)
    assert [p for p in problems if "status of 404" not in p] == []
    context.close()
