"""Every main page fits the screen (issue 18): in Estonian and Slovene, the menu stays on one line at 1280
and 1024 px, and at a phone's 390 px no page scrolls sideways (the Search button used to run off screen)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from records.filing import FilingRequest
from records.model import ContractFields, CorrespondenceFields, Direction, InvoiceFields
from tests.e2e.test_browser import SHOTS, _login, browser, served  # noqa: F401 - fixtures used by name
from web.office import Office

pytestmark = pytest.mark.browser
WIDTHS = (1280, 1024, 390)
SHOWN = {(1024, "/registers/"): "layout-1024", (390, "/search?q=pogodba"): "layout-phone"}  # screenshots
PAGES = ("/", "/search", "/search?q=pogodba", "/upload", "/unsorted", "/retention/", "/plan/", "/registers/",
         "/registers/invoices", "/registers/correspondence", "/audit/", "/exports/", "/admin/users",
         "/admin/passphrases", "/calendar", "/account/password", "{record}", "{record}/edit", "/meetings",
         "/resolutions", "/casefiles/", "/casefiles/decisions")

# The menu is on one line when every link sits on the first link's line; nothing of it is cut off either.
NAV_ON_ONE_LINE = """() => {
  const nav = document.querySelector('header.top nav.main');
  const links = [...nav.querySelectorAll('a')];
  const top = links[0].getBoundingClientRect().top;
  return links.every(a => Math.abs(a.getBoundingClientRect().top - top) < 2) && nav.scrollWidth <= nav.clientWidth
    && links.every(a => a.getBoundingClientRect().right <= window.innerWidth);
}"""
# The bar above the menu (brand, oversight links, languages, the person, sign out) does not wrap either.
BAR_ON_ONE_LINE = """() => {
  const middle = r => r.top + r.height / 2;
  const brand = document.querySelector('header.top .brand').getBoundingClientRect();
  const parts = [...document.querySelectorAll('header.top .bar a, header.top .bar button')];
  return parts.every(p => Math.abs(middle(p.getBoundingClientRect()) - middle(brand)) < 4);
}"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _demo_records(office: Office) -> str:
    """A contract, an invoice and a letter with long, realistic values, so the tables have width to show."""
    today = date.today()
    contract = office.file("Pogodba o najemu poslovnih prostorov na Dunajski cesti 5 v Ljubljani.".encode(),
                           FilingRequest(original_name="najemna-pogodba-dunajska-cesta-5-ljubljana.txt",
                                         record_class="03.1", actor="anna", principal="Uprava Kvarnerplov d.o.o.",
                                         details=ContractFields(parties=("Nepremičnine Dunajska d.o.o.",
                                                                         "Kvarnerplov d.o.o."),
                                                                expiry=today + timedelta(days=60), notice_days=30,
                                                                value=Decimal("124500.00"))))
    office.file("Račun št. 2026-000123 za storitve čiščenja poslovnih prostorov.".encode(),
                FilingRequest(original_name="racun-2026-000123.txt", record_class="01.1", actor="anna",
                              details=InvoiceFields(issuer="Čistilni servis Bleščica d.o.o.", number="2026-000123",
                                                    amount=Decimal("1830.50"), due_date=today + timedelta(days=10))))
    office.file("Dopis Finančni upravi Republike Slovenije glede davčne obravnave najemnin.".encode(),
                FilingRequest(original_name="dopis-furs.txt", record_class="04.2", actor="anna",
                              details=CorrespondenceFields(direction=Direction.OUTGOING, sender="Kvarnerplov d.o.o.",
                                                           recipients=("Finančna uprava Republike Slovenije",),
                                                           subject="Davčna obravnava najemnin za leto 2026")))
    assert contract.record_id is not None, contract.reason
    return f"/records/{contract.record_id}"


@pytest.mark.parametrize("locale", ["et-EE", "sl-SI"])
def test_the_menu_fits_on_one_line_and_no_page_scrolls_sideways(
        served: tuple[str, Office], browser: object, locale: str) -> None:  # noqa: F811
    base, office = served
    record = _demo_records(office)
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    _login(page, base, "anna")
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        for path in PAGES:
            page.goto(base + path.format(record=record))
            if width >= 1024 and not page.evaluate(NAV_ON_ONE_LINE):
                problems.append(f"{width} px {path}: the menu wraps or is cut off")
            if width >= 1024 and not page.evaluate(BAR_ON_ONE_LINE):
                problems.append(f"{width} px {path}: the bar above the menu wraps")
            overflow = page.evaluate(OVERFLOW)
            if overflow > 0:
                problems.append(f"{width} px {path}: the page is {overflow} px wider than the screen")
            if (width, path) in SHOWN:
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / f"{SHOWN[width, path]}-{locale[:2]}.png"))
    context.close()
    assert problems == [], "\n".join(problems)
