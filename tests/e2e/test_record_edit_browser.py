"""In Slovene, in headless Chromium against a real server: a secretary files a contract, enters its parties,
expiry (31. 12. 2031) and notice period on the record page, and sees it in the contracts register with
its notice date (issue 18 items 1 and 3); no CSP violations or console errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from babel.dates import format_date

from tests.e2e.test_browser import SHOTS, _login, _watch, browser, served, server  # noqa: F401 - fixtures used by name
from web.i18n import DAY_PATTERNS

pytestmark = pytest.mark.browser


def test_a_secretary_enters_a_contract_on_the_record_page_and_finds_its_notice_date_in_the_register(
        server: str, browser: object, tmp_path: Path) -> None:  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    context = browser.new_context(locale="sl-SI", viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    page = context.new_page()
    _watch(page, problems)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    _login(page, server, "sekretarka")

    document = tmp_path / "najemna-pogodba.txt"
    document.write_text("Pogodba o najemu poslovnih prostorov na Dunajski cesti.", encoding="utf-8")
    page.goto(f"{server}/upload")
    page.set_input_files("input[name=file]", str(document))
    page.select_option("select[name=record_class]", "03.1")
    page.click("form#upload-form button[type=submit]")
    page.locator("tr.filed a").first.click()

    page.get_by_role("link", name="Uredi podatke").click()
    page.fill("input[name=parties]", "Najemodajalec d.o.o., Naša družba d.o.o.")
    page.fill("input[name=expiry]", "31. 12. 2031")
    page.fill("input[name=notice_days]", "90")
    page.screenshot(path=str(SHOTS / "record-edit.png"), full_page=True)
    page.get_by_role("button", name="Shrani").click()
    assert "Spremembe so shranjene" in page.locator("#edit-status").inner_text()
    assert "Odpovedni rok (dni)" in page.content() and "notice_days" not in page.inner_text("main")

    page.goto(f"{server}/registers/")
    row = page.locator("table.contracts tbody tr", has_text="Najemodajalec d.o.o.")
    assert row.count() == 1
    notice = format_date(date(2031, 10, 2), DAY_PATTERNS["sl"], locale="sl")  # 31. 12. 2031 - 90 days
    assert row.locator("td.notice").inner_text() == notice
    page.screenshot(path=str(SHOTS / "registers.png"), full_page=True)
    # Chromium's own /favicon.ico request 404s (no response event); every page request is checked above.
    assert [p for p in problems if "status of 404" not in p] == []
    context.close()
