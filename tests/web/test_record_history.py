"""The record page's history comes from the catalogue's per-record lookup, not a scan of the whole
audit log (that made each record view cost O(audit log): 177 ms at 10,000 entries, growing forever)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from records.model import RecordId
from tests.web.test_pages import upload
from web import audit_names
from web.blueprints.records import HISTORY_LIMIT


def _history_rows(page: str) -> list[str]:
    table = re.search(r'<table class="history">(.*?)</table>', page, re.S)
    assert table is not None
    return re.findall(r"<tr><td>.*?</tr>", table.group(1), re.S)


def test_history_is_the_records_own_newest_entries(app: Flask, admin: FlaskClient) -> None:
    first = upload(admin, "a.txt", "Prvi dopis o najemu prostorov.")
    second = upload(admin, "b.txt", "Drugi dopis o dobavi opreme.")
    for _ in range(HISTORY_LIMIT + 5):  # each download is one audit entry of `first`
        assert admin.get(f"/records/{first}/download").status_code == 200
    catalog = app.extensions["strongroom"].ports.catalog
    everything = [e for e in catalog.audit_entries() if e.event.record_id == RecordId(first)]

    history = catalog.record_history(RecordId(first), HISTORY_LIMIT)

    assert [e.seq for e in history] == [e.seq for e in everything][-HISTORY_LIMIT:]
    assert len(history) == HISTORY_LIMIT and history[-1].event.action == "record.download"
    others = catalog.record_history(RecordId(second), HISTORY_LIMIT)
    assert [e.event.record_id for e in others] == [RecordId(second)] * len(others)
    assert others[0].event.action == "record.file"
    page = admin.get(f"/records/{second}").get_data(as_text=True)
    shown = catalog.record_history(RecordId(second), HISTORY_LIMIT)
    actions = [re.findall(r"<td>([^<]*)</td>", row)[2] for row in _history_rows(page)]
    # newest first; the view audits itself before the page is built, reading the text after it
    names = [audit_names.action(e.event.action) for e in shown]
    assert actions[::-1] == names[:len(actions)] and len(actions) > len(others)
    assert "Opened" in actions and "record.view" not in page  # human names, never the raw kinds
    assert "record.download" not in page


def test_record_page_does_not_read_the_whole_audit_log(app: Flask, admin: FlaskClient,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    record_id = upload(admin, "c.txt", "Tretji dopis.")
    catalog = app.extensions["strongroom"].ports.catalog

    def whole_log(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the record page read the whole audit log")

    monkeypatch.setattr(catalog, "audit_entries", whole_log)
    page = admin.get(f"/records/{record_id}")

    assert page.status_code == 200
    assert len(_history_rows(page.get_data(as_text=True))) >= 1
