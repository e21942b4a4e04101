"""Filing feedback in headless Chromium (issue 18): a batch is sent one file per request, each file shows
its progress and then its result (filed, filed without readable text, rejected with the reason) while the
page stays put, so the chosen class, principal and level remain for the next batch."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfWriter

from tests.e2e.test_browser import SHOTS, _login, _until, _watch, browser, served, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

# Every text a file's progress line shows, in order, collected by a MutationObserver (added from the test,
# since page.evaluate runs outside the page's CSP).
OBSERVE = """() => {
  window.seenStates = [];
  new MutationObserver(() => {
    document.querySelectorAll('#upload-progress .state').forEach((s, i) => {
      window.seenStates.push(i + ':' + s.textContent);
    });
  }).observe(document.getElementById('upload-progress'), {subtree: true, childList: true, characterData: true});
}"""


def _locked_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="salajane", owner_password="omanik", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _batch(folder: Path) -> list[Path]:
    files = {f"leping-{n}.txt": f"Üürileping number {n}, etteteatamistähtaeg 90 päeva.".encode() for n in range(1, 6)}
    files["lukus.pdf"] = _locked_pdf()
    files["arve.pdf"] = b"<html>see ei ole PDF</html>" * 40  # a disguised file: rejected with its reason
    paths = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    return paths


def test_a_batch_shows_each_file_s_progress_and_result_and_keeps_the_choices(
        server: str, browser: object, tmp_path: Path) -> None:  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    context = browser.new_context(locale="et-EE", viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    _watch(page, problems)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/upload") else None)
    navigations: list[str] = []
    _login(page, server, "sekretarka")
    page.goto(f"{server}/upload")
    page.on("framenavigated", lambda f: navigations.append(f.url))
    page.evaluate(OBSERVE)
    files = _batch(tmp_path)
    page.set_input_files("input[name=file]", [str(p) for p in files])
    page.select_option("select[name=record_class]", "03.1")
    page.fill("input[name=principal]", "Kvarnerplov OÜ")
    page.select_option("select[name=confidentiality]", "confidential")
    page.click("form#upload-form button[type=submit]")
    _until(page, "() => document.getElementById('upload-form').classList.contains('done')")

    assert navigations == [] and len(posts) == len(files)  # one request per file, the page never left
    seen = page.evaluate("() => window.seenStates")
    for index in range(len(files)):  # each file went from waiting through filing to its result
        states = [s.split(":", 1)[1] for s in seen if s.startswith(f"{index}:")]
        assert "registreerimine …" in states, (index, states)
    lines = page.locator("#upload-progress li")
    assert lines.count() == len(files)
    assert page.eval_on_selector_all("#upload-progress progress", "bars => bars.every(b => b.value === 100)")
    assert page.locator("#upload-summary").inner_text() == f"Töödeldud faile: {len(files)} / {len(files)}"

    assert page.locator("tr.filed").count() == 6
    locked = page.locator("tr.unread", has_text="lukus.pdf")
    assert "registreeritud, kuid selle teksti ei õnnestunud lugeda: PDF on parooliga kaitstud" in locked.inner_text()
    rejected = page.locator("tr.rejected", has_text="arve.pdf")
    assert "tagasi lükatud" in rejected.inner_text() and "not a PDF" in rejected.inner_text()
    assert lines.nth(6).get_attribute("class") == "rejected"
    assert page.locator("#upload-progress").is_hidden()  # every file answered: the table holds the results

    # the next batch starts with the same choices
    assert page.locator("select[name=record_class]").input_value() == "03.1"
    assert page.locator("input[name=principal]").input_value() == "Kvarnerplov OÜ"
    assert page.locator("select[name=confidentiality]").input_value() == "confidential"
    assert page.eval_on_selector("input[name=file]", "i => i.files.length") == 0
    page.screenshot(path=str(SHOTS / "upload-progress.png"), full_page=True)
    assert [p for p in problems if "status of 404" not in p] == []
    context.close()


def test_without_the_script_the_form_still_files_the_whole_batch(
        server: str, browser: object, tmp_path: Path) -> None:  # noqa: F811
    context = browser.new_context(locale="sl-SI", java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    _login(page, server, "sekretarka")
    page.goto(f"{server}/upload")
    page.set_input_files("input[name=file]", [str(p) for p in _batch(tmp_path)])
    page.select_option("select[name=record_class]", "03.1")
    page.fill("input[name=principal]", "Kvarnerplov d.o.o.")
    page.click("form#upload-form button[type=submit]")
    page.wait_for_selector("tr.rejected")
    assert page.locator("tr.filed").count() == 6
    assert "zajeto, vendar besedila ni bilo mogoče prebrati" in page.locator("tr.unread").inner_text()
    assert page.locator("select[name=record_class]").input_value() == "03.1"
    assert page.locator("input[name=principal]").input_value() == "Kvarnerplov d.o.o."
    context.close()
