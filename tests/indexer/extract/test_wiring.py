"""The shells use the sandbox: a PDF, a cp1250 note and a Word file imported by the CLI become searchable."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest
from make_corpus import simple_pdf

from indexer.extract.sandbox import SandboxedExtractor
from vault import Home
from tests.records.test_cli import cli_home, run  # noqa: F401 - the fixture is used by name
from web.office import Office, shared_extractor
from web.settings import Settings


def test_cli_import_extracts_through_the_sandbox(cli_home: Path, tmp_path: Path,  # noqa: F811
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "offer.pdf").write_bytes(simple_pdf(["Quotation for Hydrangeaflux pumps"]))
    (docs / "zapisnik.txt").write_bytes("Sklep o Kolibrinski čistilni napravi.".encode("cp1250"))
    document = docx.Document()
    document.add_paragraph("Koosolek Zlatoroginja valla teemal.")
    document.save(str(docs / "protokoll.docx"))
    (docs / "fake.pdf").write_bytes(b"<html>not a pdf</html>")
    code, out, err = run(["import", str(docs), "--class", "contracts", "--principal", "ceo", "--json"], capsys)
    rows = json.loads(out)
    assert len(rows) == 4, (out, err)
    by_name = {Path(row["path"]).name: row for row in rows}
    assert by_name["fake.pdf"]["id"] is None and by_name["fake.pdf"]["status"] != "filed"
    assert "not a PDF" in json.dumps(by_name["fake.pdf"])
    assert all(by_name[n]["status"] == "filed" for n in ("offer.pdf", "zapisnik.txt", "protokoll.docx"))
    for query in ("hydrangeaflux", "kolibrinski", "zlatoroginja"):
        code, out, err = run(["search", query, "--json"], capsys)
        assert code == 0, err
        assert json.loads(out)["total"] == 1, query
    assert isinstance(shared_extractor(), SandboxedExtractor)
    assert shared_extractor().pids()  # the workers did the reading


def test_an_office_defaults_to_the_shared_sandbox(home: Home) -> None:
    office = Office(home, Settings(home=home.path))
    assert office.ports.extractor is shared_extractor()
