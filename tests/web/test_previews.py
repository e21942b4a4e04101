"""Page previews on the record page and thumbnails in search results: shown as images to those who may
see the record, audited as views (never downloads), hidden exactly like the record from everyone else."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from records import capture
from records.filing import FilingRequest
from records.model import Confidentiality
from tests import scans
from tests.scans import ESTONIAN, SLOVENE, needs_tesseract
from tests.web.test_pages import hits, second_client
from web.blueprints import guard
from web.office import Office

pytestmark = needs_tesseract


def _office(app: Flask) -> Office:
    with app.app_context():
        return guard.state().office


def _file_scan(app: Flask, level: Confidentiality | None = None) -> str:
    office = _office(app)
    outcome = office.file(scans.scanned_pdf(SLOVENE, ESTONIAN),
                          FilingRequest(original_name="sken-pogodbe.pdf", record_class="03.1", confidentiality=level))
    assert outcome.record_id is not None
    return outcome.record_id


def _audit(app: Flask, record_id: str) -> list[tuple[str, str, str]]:
    entries = _office(app).ports.catalog.record_history(record_id, 100)  # type: ignore[arg-type]
    return [(e.event.action, e.event.outcome, dict(e.event.details).get("part", "")) for e in entries]


def test_a_queued_scan_says_so_then_shows_its_pages_and_that_ocr_read_them(app: Flask, admin: FlaskClient) -> None:
    record_id = _file_scan(app)
    waiting = admin.get(f"/records/{record_id}").get_data(as_text=True)
    assert "Waiting for OCR and page previews" in waiting and "<iframe" not in waiting
    assert "waiting for OCR" in hits(admin, "class:03.1")[1]
    assert _office(app).run_capture() == 1
    page = admin.get(f"/records/{record_id}").get_data(as_text=True)
    assert "Text recognised by OCR" in page and "<iframe" not in page
    sources = re.findall(r'<img class="page" src="([^"]+)"', page)
    assert sources == [f"/records/{record_id}/pages/1", f"/records/{record_id}/pages/2"]
    image = admin.get(sources[1])
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data.startswith(b"\xff\xd8")
    assert "attachment" not in image.headers.get("Content-Disposition", "")
    assert image.headers["Cache-Control"] == "no-store"
    assert admin.get(f"/records/{record_id}/pages/3").status_code == 404
    found, body = hits(admin, "Tööleping")
    assert found == [record_id] and "text recognised by OCR" in body
    assert f'src="/records/{record_id}/thumbnail"' in body
    assert admin.get(f"/records/{record_id}/thumbnail").mimetype == "image/jpeg"
    audit = _audit(app, record_id)
    assert ("record.view", "ok", "page 2") in audit and ("record.view", "ok", "thumbnail") in audit
    assert not any(action == "record.download" for action, _outcome, _part in audit)


def test_previews_of_a_record_a_user_may_not_see_are_not_found(app: Flask, admin: FlaskClient) -> None:
    secret = _file_scan(app, Confidentiality.SECRET)
    _office(app).run_capture()
    assert admin.get(f"/records/{secret}/pages/1").status_code == 200
    viewer = second_client(app, "vaatleja")
    missing = "0" * 32
    for suffix in ("/pages/1", "/thumbnail"):
        hidden, absent = viewer.get(f"/records/{secret}{suffix}"), viewer.get(f"/records/{missing}{suffix}")
        assert hidden.status_code == absent.status_code == 404
        assert hidden.get_data(as_text=True).replace(secret, missing) == absent.get_data(as_text=True)
    assert ("record.view", "denied", "") in _audit(app, secret)


def test_a_failed_page_is_a_visible_reason(app: Flask, admin: FlaskClient) -> None:
    office = _office(app)
    record_id = _file_scan(app)
    job = capture.status(office.ports.catalog, record_id)
    assert job is not None
    with office.ports.catalog.transaction() as tx:  # as a run that ended with page 2 over its budget
        tx.put_setting("capture.job." + record_id, capture.JobStatus(
            state=capture.JobState.DONE, seq=job.seq, pages=2, done=2, recognised=(1,),
            failed=(capture.PageProblem(2, "recognising the page needed more than 60 s of processor time."),)
        ).to_json())
    page = admin.get(f"/records/{record_id}").get_data(as_text=True)
    assert "Page 2 has no text: recognising the page needed more than 60 s of processor time." in page
