"""End to end in headless Chromium against a real server (waitress on a free loopback port):
sign in, file by upload, search, open, download, hold and release, a viewer kept out; no CSP
violations or console errors; screenshots of the main pages for the README."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from records.filing import FilingRequest
from tests import scans
from tests.scans import needs_tesseract
from tests.web.conftest import PASSWORD, add_users
from vault import Home
from web.app import create_app
from web.office import Office
from web.settings import Settings

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[2]
# The suite writes to an ignored folder so that a test run leaves the checkout clean;
# `make screenshots` points this at docs/screenshots to refresh the README's pictures.
SHOTS = Path(os.environ.get("STRONGROOM_SCREENSHOTS") or ROOT / "test-results" / "screenshots")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(home: Home) -> Iterator[tuple[str, Office]]:
    """The server's address and the Office it serves."""
    from waitress import create_server
    add_users(home)
    settings = Settings.load({"home": home.path}, environ={})
    office = Office(home, settings)
    app = create_app(office, secret_key=b"e2e-only-secret-key-0123456789ab")
    port = _free_port()
    srv = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", office
    finally:
        srv.close()
        thread.join(timeout=5)


@pytest.fixture
def server(served: tuple[str, Office]) -> str:
    return served[0]


@pytest.fixture
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed (/usr/bin/chromium): run tools/ensure-chromium.sh")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _until(page: object, predicate: str, timeout: float = 30.0) -> None:
    """Poll a JavaScript predicate from the test (page.evaluate runs outside the page's CSP)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        time.sleep(0.05)


def _watch(page: object, problems: list[str]) -> None:
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")  # type: ignore[attr-defined]
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))  # type: ignore[attr-defined]


def _login(page: object, base: str, name: str) -> None:
    page.goto(f"{base}/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", name)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{base}/")  # type: ignore[attr-defined]  # the start page


def test_secretary_files_finds_opens_downloads_holds_and_a_viewer_is_kept_out(
        server: str, browser: object, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    context = browser.new_context(accept_downloads=True, locale="sl-SI",  # type: ignore[attr-defined]
                                  viewport={"width": 1280, "height": 860})
    page = context.new_page()
    _watch(page, problems)
    page.goto(f"{server}/login")
    page.screenshot(path=str(SHOTS / "login.png"))
    _login(page, server, "anna")

    # file by upload (three documents, one secret)
    docs = {"pogodba-najem.txt": "Pogodba o najemu poslovnih prostorov, odpovedni rok 90 dni.",
            "zapisnik-uprave.txt": "Zapisnik seje uprave: sklep o najemu in proračunu.",
            "tajno.txt": "Strogo zaupni načrt prevzema družbe Kvarnerplov."}
    page.goto(f"{server}/upload")
    for name, text in docs.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    page.set_input_files("input[name=file]", [str(tmp_path / n) for n in docs if n != "tajno.txt"])
    page.select_option("select[name=record_class]", "03.1")
    page.click("form#upload-form button[type=submit]")
    page.wait_for_selector("form#upload-form.done")  # strongroom.js files one file per request, in place
    assert page.locator("tr.filed").count() == 2
    page.screenshot(path=str(SHOTS / "upload.png"), full_page=True)
    page.set_input_files("input[name=file]", str(tmp_path / "tajno.txt"))
    page.select_option("select[name=confidentiality]", "secret")
    page.click("form#upload-form button[type=submit]")
    page.wait_for_selector("form#upload-form.done")
    assert page.locator("tr.filed").count() == 1

    # search and open
    page.goto(f"{server}/search?q=najemu")
    assert page.locator("li.hit").count() == 2
    assert page.locator("li.hit mark").count() >= 1
    page.screenshot(path=str(SHOTS / "search.png"), full_page=True)
    page.click("li.hit a.title >> nth=0")
    page.wait_for_selector("article.record")
    record_url = page.url

    # download
    with page.expect_download() as info:
        page.click("a.button[download]")
    download = info.value
    assert download.suggested_filename.endswith(".txt")
    assert Path(download.path()).read_text(encoding="utf-8") in docs.values()

    # place and release a hold
    page.fill("input[name=reason]", "Spor 12/2026")
    page.click("form.hold-form button[type=submit]")
    assert page.locator("ul.holds li", has_text="Spor 12/2026").count() == 1
    page.screenshot(path=str(SHOTS / "record.png"), full_page=True)
    page.goto(f"{server}/retention/")
    assert page.locator("text=Spor 12/2026").count() >= 0
    page.screenshot(path=str(SHOTS / "retention.png"), full_page=True)
    page.goto(record_url)
    page.fill("ul.holds form input[name=reason]", "Spor končan")
    page.click("ul.holds form button[type=submit]")
    assert page.locator("ul.holds form").count() == 0

    # the secret record's address, then a viewer
    page.goto(f"{server}/search?q=Kvarnerplov")
    secret_url = page.locator("li.hit a.title").first.get_attribute("href")
    assert secret_url
    viewer_context = browser.new_context(locale="et-EE")  # type: ignore[attr-defined]
    viewer = viewer_context.new_page()
    _watch(viewer, problems)
    _login(viewer, server, "vaatleja")
    viewer.goto(f"{server}/search?q=Kvarnerplov")
    assert viewer.locator("li.hit").count() == 0
    assert "Otsing" in viewer.content()
    response = viewer.goto(f"{server}{secret_url}")
    assert response is not None and response.status == 404
    response = viewer.goto(f"{server}/upload")
    assert response is not None and response.status == 403
    problems = [p for p in problems if "404" not in p and "403" not in p]  # the refusals we asked for
    assert problems == []
    context.close()
    viewer_context.close()


@needs_tesseract
def test_the_page_previews_of_a_scan_display_in_the_browser(served: tuple[str, Office], browser: object) -> None:
    base, office = served
    outcome = office.file(scans.scanned_pdf(scans.SLOVENE, scans.ESTONIAN),
                          FilingRequest(original_name="sken.pdf", record_class="03.1"))
    assert office.run_capture() == 1
    problems: list[str] = []
    context = browser.new_context(locale="et-EE", viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    page = context.new_page()
    _watch(page, problems)
    failed: list[str] = []
    context.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    _login(page, base, "anna")
    page.goto(f"{base}/records/{outcome.record_id}")
    page.wait_for_selector("img.page >> nth=1")
    for number in range(2):  # the pages load lazily: bring each into view
        page.locator("img.page").nth(number).scroll_into_view_if_needed()
    # Polled from here: page.wait_for_function evaluates its string with eval inside the page, which the
    # strict CSP (no 'unsafe-eval') refuses once the first check is not yet true.
    _until(page, "() => [...document.querySelectorAll('img.page')].every(i => i.complete)")
    widths = page.eval_on_selector_all("img.page", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 2 and all(w > 0 for w in widths)
    assert page.locator("iframe").count() == 0
    assert "OCR" in page.inner_text("section.preview")
    page.screenshot(path=str(SHOTS / "record-preview.png"), full_page=False)
    page.goto(f"{base}/search?q=Tööleping")
    _until(page, "() => !!document.querySelector('li.hit img.thumbnail')?.complete")
    assert page.eval_on_selector("li.hit img.thumbnail", "i => i.naturalWidth") > 0
    assert failed == []  # no page or thumbnail refused; the console's one 404 is Chromium's own /favicon.ico
    assert [p for p in problems if "status of 404" not in p] == []
    context.close()
