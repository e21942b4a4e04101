"""A PDF's record page: no embedded frame (Chromium blocks it), a clear panel and the text rendition;
opening it is a view, never a download."""

from __future__ import annotations

import io

from flask import Flask
from flask.testing import FlaskClient
from reportlab.pdfgen import canvas

from records.filing import FilingRequest


def _pdf(text: str) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def _actions(app: Flask, record_id: str) -> list[str]:
    catalog = app.extensions["strongroom"].ports.catalog
    return [e.event.action for e in catalog.audit_entries() if e.event.record_id == record_id]


def test_pdf_record_page_shows_a_panel_and_its_text_and_writes_no_download(app: Flask, admin: FlaskClient) -> None:
    office = app.extensions["strongroom"].office
    outcome = office.file(_pdf("Letna pogodba o vzdrzevanju"), FilingRequest(original_name="pogodba.pdf",
                                                                             record_class="03.1", actor="anna"))
    record_id = str(outcome.record_id)
    body = admin.get(f"/records/{record_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<iframe" not in body
    assert "A page preview is not available yet" in body
    assert "Letna pogodba o vzdrzevanju" in body  # the text rendition, as the preview
    preview = admin.get(f"/records/{record_id}/preview")
    assert preview.mimetype == "text/plain" and b"%PDF" not in preview.data
    actions = _actions(app, record_id)
    assert "record.download" not in actions
    assert actions.count("record.view") == 1 and "record.view_text" in actions
    assert admin.get(f"/records/{record_id}/download").data.startswith(b"%PDF")
    assert _actions(app, record_id).count("record.download") == 1
