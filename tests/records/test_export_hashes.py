"""Audit exports show a document's SHA-256 only to an exporter who may see the record, and never
for a destroyed one (issue 17, item 8): the filing entry's hash is withheld in audit.jsonl, the
chain still verifies offline, and the disposed stub keeps no hash either."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import date, timedelta
from pathlib import Path

from records.access import AccessScope
from records.audit import GENESIS, WITHHELD, first_break, withhold
from records.disposition import dispose
from records.export import ExportRequest, export_to, start_export
from records.filing import FilingRequest, file_document
from records.model import Confidentiality, RecordId, Role, User
from records.plan import Plan
from records.ports import Ports
from tests.records.conftest import NOW, one_person
from web.verify_export import EXIT_VERIFIED, verify_export

LOW = AccessScope.of(User(name="revizor", role=Role.AUDITOR, clearance=Confidentiality.INTERNAL))
HIGH = AccessScope.of(User(name="revizorka", role=Role.AUDITOR, clearance=Confidentiality.SECRET))


def _file(ports: Ports, plan: Plan, tmp_path: Path, name: str, text: str,
          confidentiality: Confidentiality) -> tuple[RecordId, str]:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    outcome = file_document(ports, plan, source, FilingRequest(
        original_name=name, actor="tina", record_class="correspondence", confidentiality=confidentiality,
        document_date=date(2010, 1, 5)), jurisdiction="SI", now=NOW)
    assert outcome.record_id is not None
    return outcome.record_id, hashlib.sha256(text.encode()).hexdigest()


def _export(ports: Ports, scope: AccessScope, path: Path) -> bytes:
    job = start_export(ports, scope, ExportRequest(), now=NOW + timedelta(days=1))
    with path.open("wb") as sink:
        export_to(sink, job)
    with zipfile.ZipFile(path) as z:
        return b"".join(z.read(n) for n in z.namelist())


def test_export_withholds_hashes_of_hidden_and_destroyed_records(ports: Ports, plan: Plan, tmp_path: Path) -> None:
    _, internal = _file(ports, plan, tmp_path, "interno.txt", "Interni dopis\n", Confidentiality.INTERNAL)
    _, secret = _file(ports, plan, tmp_path, "tajno.txt", "Tajni dopis uprave\n", Confidentiality.SECRET)
    gone_id, gone = _file(ports, plan, tmp_path, "unici.txt", "Dopis za uničenje\n", Confidentiality.INTERNAL)
    one_person(ports)
    dispose(ports, plan, AccessScope.system("ana"), [gone_id], reason="Retention ended", jurisdiction="SI",
            as_of=date(2060, 1, 1), now=NOW)
    assert ports.catalog.get(gone_id).sha256 == ""  # the stub keeps no hash

    low = _export(ports, LOW, tmp_path / "low.zip")
    assert internal.encode() in low
    assert secret.encode() not in low and gone.encode() not in low
    high = _export(ports, HIGH, tmp_path / "high.zip")
    assert internal.encode() in high and secret.encode() in high
    assert gone.encode() not in high  # destroyed: withheld whatever the clearance

    for path in (tmp_path / "low.zip", tmp_path / "high.zip"):
        result = verify_export(path, public_key=ports.signer.public_key())
        assert result.exit_code == EXIT_VERIFIED, result.problems
        assert any("withhold a document hash" in note for note in result.notes)
    with zipfile.ZipFile(tmp_path / "low.zip") as z:
        lines = [json.loads(line) for line in z.read("audit.jsonl").splitlines()]
    withheld = [d for d in lines if "withheld" in d]
    assert len(withheld) == 2 and all(d["details"]["sha256"] == WITHHELD for d in withheld)


def test_a_withheld_marker_never_passes_in_the_catalogue_chain(ports: Ports, plan: Plan, tmp_path: Path) -> None:
    _file(ports, plan, tmp_path, "a.txt", "A\n", Confidentiality.INTERNAL)
    docs = list(ports.catalog.audit_documents())
    forged = [withhold(d, ["sha256"]) for d in docs]
    assert first_break(docs, start_prev=GENESIS) is None
    assert first_break(forged, start_prev=GENESIS) is not None  # only an export may withhold
    assert first_break(forged, start_prev=GENESIS, withheld_ok=True) is None
