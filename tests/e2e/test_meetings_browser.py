"""End to end in headless Chromium, in Slovene (issue 22 item 6): a secretary prepares a board meeting with
three agenda items and their materials, makes packs for two recipients (read back with pypdf: bookmarks,
pages, the watermark on every page), files the minutes, adopts two resolutions and closes one."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from records.filing import FilingRequest
from records.model import Confidentiality
from tests.e2e.test_browser import SHOTS, _login, _watch, browser, served, server  # noqa: F401 - fixtures by name
from tests.records.test_filing import make_pdf
from vault import Home
from web.office import Office
from web.settings import Settings

pytestmark = pytest.mark.browser


def _filed_pdf(home: Home, tmp_path: Path, name: str, line: str, level: Confidentiality) -> str:
    office = Office(home, Settings.load({"home": home.path}, environ={}))
    outcome = office.file(make_pdf(tmp_path / name, [line]).read_bytes(), FilingRequest(
        original_name=name, record_class="00.4", actor="anna", confidentiality=level))
    assert outcome.registry_number, outcome.reason
    return outcome.registry_number


def _picture(pdf: bytes, target: Path) -> None:
    """The pack's agenda and first material side by side, as a PDF reader shows them."""
    import pypdfium2
    from PIL import Image
    doc = pypdfium2.PdfDocument(pdf)
    pages = [doc[i].render(scale=0.9).to_pil() for i in (0, 1, 2)]
    sheet = Image.new("RGB", (sum(p.width for p in pages) + 40, max(p.height for p in pages) + 20), "#d0d4da")
    x = 10
    for picture in pages:
        sheet.paste(picture, (x, 10))
        x += picture.width + 10
    sheet.save(target)
    doc.close()


def test_a_board_meeting_prepared_held_and_followed_up_in_the_browser(
        server: str, browser: object, home: Home, tmp_path: Path) -> None:  # noqa: F811
    report = _filed_pdf(home, tmp_path, "porocilo.pdf", "Letno porocilo 2025", Confidentiality.INTERNAL)
    secret = _filed_pdf(home, tmp_path, "prevzem.pdf", "Tajni nacrt prevzema", Confidentiality.SECRET)
    offer = make_pdf(tmp_path / "ponudba.pdf", ["Ponudba za opremo"])
    minutes = make_pdf(tmp_path / "zapisnik.pdf", ["Zapisnik 1. seje uprave"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    context = browser.new_context(accept_downloads=True, locale="sl-SI",  # type: ignore[attr-defined]
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _watch(page, problems)
    favicon: list[str] = []  # Chromium asks for /favicon.ico, which the app does not serve
    page.on("console", lambda m: favicon.append(m.text) if m.location.get("url", "").endswith("/favicon.ico")
            else None)
    _login(page, server, "sekretarka")

    page.click("nav >> text=Seje")
    page.click("text=Nova seja")
    page.select_option("select[name=body]", "uprava")
    page.fill("input[name=date]", "12. 3. 2026")
    page.fill("input[name=place]", "Sejna soba, Ljubljana")
    page.select_option("select[name=confidentiality]", "internal")
    page.fill("textarea[name=participants]", "Janez Juhant = juht\nVesna Vidmar = vaatleja\nZunanji svetovalec")
    page.click("text=Ustvari sejo")
    page.wait_for_selector("h1:has-text('seja 1/2026')")
    for title in ("Letno poročilo 2025", "Nakup opreme", "Prevzem družbe"):
        page.fill("form.add-item input[name=title]", title)
        page.click("form.add-item button")
        page.wait_for_selector(f"div.agenda-item h3:has-text('{title}')")
    items = page.locator("div.agenda-item")
    assert items.count() == 3

    def link(n: int, number: str) -> None:
        form = page.locator("div.agenda-item").nth(n).locator("form.link-material")
        form.locator("input[name=registry_number]").fill(number)
        form.locator("button").click()
        page.wait_for_selector(f"div.agenda-item >> nth={n} >> text={number}")

    link(0, report)
    upload = page.locator("div.agenda-item").nth(1).locator("form.upload-material")
    upload.locator("input[type=file]").set_input_files(str(offer))
    upload.locator("select[name=record_class]").select_option("00.4")
    upload.locator("button").click()
    page.wait_for_selector("p.ok:has-text('Vloženo pod')")
    page.locator("div.agenda-item").nth(2).locator("input[name=registry_number]").fill(secret)
    page.locator("div.agenda-item").nth(2).locator("form.link-material button").click()
    page.wait_for_selector("h1")  # the secretary's clearance (confidential) does not reach a secret record
    # a typed number nobody may see is the form's error (400, in Slovene), not a page that is not there
    assert f"Ni dokumenta {secret}, ki bi ga smeli videti" in page.content()
    problems.clear()  # that refusal (400) was the point
    page.go_back()
    page.reload()
    page.screenshot(path=str(SHOTS / "meeting.png"), full_page=True)

    packs = {}
    for user, name in (("juht", "Janez Juhant"), ("vaatleja", "Vesna Vidmar")):
        with page.expect_download() as info:
            page.click(f"a.pack[href$='/pack/{user}.pdf']")
        data = Path(info.value.path()).read_bytes()
        packs[name] = PdfReader(io.BytesIO(data))
        if user == "juht":
            _picture(data, SHOTS / "meeting-pack.png")
    for name, reader in packs.items():
        for p in reader.pages:
            assert f"Zaupno — za: {name}, " in p.extract_text()
        tops = [o.title for o in reader.outline if not isinstance(o, list)]
        assert tops == ["Naslovnica", "Dnevni red", "1. Letno poročilo 2025", "2. Nakup opreme", "3. Prevzem družbe"]
    assert len(packs["Janez Juhant"].pages) == 4  # cover, agenda, the report, the offer (confidential)
    assert len(packs["Vesna Vidmar"].pages) == 3  # a viewer of clearance internal: not the offer
    assert "Ponudba" not in "".join(p.extract_text() for p in packs["Vesna Vidmar"].pages)

    page.set_input_files("form.file-minutes input[type=file]", str(minutes))
    page.click("form.file-minutes button")
    page.wait_for_selector("section#minutes a")
    assert "00.4-" in page.locator("section#minutes").inner_text()

    first = page.locator("div.agenda-item").nth(0).locator("form.adopt")
    first.locator("input[name=text]").fill("Uprava sprejme letno poročilo 2025.")
    first.locator("input[name=owner]").fill("Janez Juhant")
    first.locator("input[name=due]").fill((date.today() + timedelta(days=10)).strftime("%d.%m.%Y"))
    first.locator("button").click()
    page.wait_for_selector("p.ok:has-text('1/2026-1')")
    second = page.locator("div.agenda-item").nth(1).locator("form.adopt")
    second.locator("input[name=text]").fill("Kupi se nova oprema.")
    second.locator("input[name=owner]").fill("Vesna Vidmar")
    second.locator("input[name=due]").fill((date.today() - timedelta(days=3)).strftime("%d.%m.%Y"))
    second.locator("button").click()
    page.wait_for_selector("p.ok:has-text('1/2026-2')")
    page.click("a.brand")  # the start page
    page.wait_for_selector("section#overdue")
    assert "1/2026-2" in page.locator("section#overdue").inner_text()
    assert "1/2026-1" in page.locator("section#upcoming").inner_text()

    page.goto(f"{server}/resolutions")
    page.locator("tr", has_text="1/2026-2").locator("button").click()
    page.wait_for_selector("p.ok:has-text('izvršen')")
    page.select_option("select[name=status]", "open")
    page.click("form.filters button")
    rows = page.locator("table.resolutions tbody tr")
    assert rows.count() == 1 and "1/2026-1" in rows.first.inner_text()
    page.select_option("select[name=status]", "")
    page.click("form.filters button")
    page.screenshot(path=str(SHOTS / "resolutions.png"), full_page=True)
    assert [p for p in problems if p.removeprefix("console error: ") not in favicon] == []
    context.close()
