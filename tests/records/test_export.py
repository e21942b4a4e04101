"""Audit exports: a real home, a real ZIP, the offline verifier, and each tamper case named."""

from __future__ import annotations

import base64
import csv
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from records.access import AccessScope
from records.errors import AccessDenied, IntegrityError
from records.export import LAST_EXPORT_SETTING, ExportRequest, export_to, start_export
from records.export_package import fingerprint, manifest_bytes, signed_message
from records.model import Confidentiality, Role, User
from tests.records.test_export_world import T0, World, contract, letter, make_world, rewrite_zip
from vault import Home
from web.verify_export import EXIT_BROKEN, EXIT_UNUSABLE, EXIT_VERIFIED, verify_export

AUDITOR = AccessScope.of(User(name="revizor", role=Role.AUDITOR, clearance=Confidentiality.SECRET))
NOW = T0 + timedelta(days=20)


@pytest.fixture
def world(home: Home) -> World:
    return make_world(home)


def export(world: World, path: Path, request: ExportRequest = ExportRequest(), *,
           scope: AccessScope = AUDITOR, now=NOW) -> Path:  # type: ignore[no-untyped-def]
    job = start_export(world.ports, scope, request, now=now)
    with path.open("wb") as sink:
        export_to(sink, job)
    return path


def public_key(world: World) -> bytes:
    return world.ports.signer.public_key()


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def resign(path: Path, world_key: Ed25519PrivateKey | None, signer=None) -> None:  # type: ignore[no-untyped-def]
    """Recompute every member hash in the manifest and sign it again (an insider's forgery)."""
    data = members(path)
    manifest = json.loads(data["manifest.json"])
    for name, meta in manifest["members"].items():
        import hashlib
        meta["sha256"] = hashlib.sha256(data[name]).hexdigest()
        meta["size"] = len(data[name])
    if world_key is not None:
        raw = world_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        manifest["key"] = {"algorithm": "Ed25519", "public_key": base64.b64encode(raw).decode(),
                           "fingerprint": fingerprint(raw)}
        sign = world_key.sign
    else:
        sign = signer.sign
    body = manifest_bytes(manifest)
    rewrite_zip(path, {"manifest.json": body,
                       "manifest.sig": base64.b64encode(sign(signed_message(body))) + b"\n"})


def populated(world: World) -> None:
    world.file("Pogodba o najemu — Žužemberk", b"%PDF contract one", details=contract(T0.date()))
    world.file("Kiri: töölepingu lõpetamine", b"%PDF letter", record_class="04.1",
               principal="Juhatus", details=letter(), filed_at=T0 + timedelta(days=1))
    world.file("=HYPERLINK(\"http://evil\";\"x\")", b"formula", filed_at=T0 + timedelta(days=2),
               name="+cmd.pdf")
    world.log(30, start=T0 + timedelta(days=3))


def test_fresh_export_verifies_and_is_audited(world: World, tmp_path: Path) -> None:
    populated(world)
    path = export(world, tmp_path / "a.zip")
    result = verify_export(path)
    assert result.exit_code == EXIT_VERIFIED, result.problems
    assert any("self-asserted" in n for n in result.notes)
    trusted = verify_export(path, public_key=public_key(world))
    assert trusted.exit_code == EXIT_VERIFIED and trusted.key_trusted and not trusted.notes
    names = set(members(path))
    assert {"README.txt", "records.csv", "contracts.csv", "correspondence.csv", "dispositions.csv",
            "audit.jsonl", "manifest.json", "manifest.sig"} <= names
    assert not any(n.startswith("documents/") for n in names)  # metadata only by default
    head = world.ports.catalog.audit_head()
    assert head is not None and head.event.action == "audit.export" and head.event.outcome == "ok"
    details = dict(head.event.details)
    manifest = json.loads(members(path)["manifest.json"])
    assert details["head"] == f"{manifest['chain']['head']['seq']}:{manifest['chain']['head']['hash']}"
    assert world.ports.catalog.get_setting(LAST_EXPORT_SETTING) == details["head"]


def test_csv_opens_as_excel_reads_it(world: World, tmp_path: Path) -> None:
    populated(world)
    data = members(export(world, tmp_path / "a.zip"))
    raw = data["records.csv"]
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["registry_number", "record_class", "title"]
    titles = {r[header.index("title")] for r in body}
    assert "Pogodba o najemu — Žužemberk" in titles and "Kiri: töölepingu lõpetamine" in titles
    assert all(len(r) == len(header) for r in body)
    filed = body[0][header.index("filed_at_utc")]
    assert len(filed) == 19 and filed[4] == "-" and filed[10] == " "  # ISO, spreadsheet-readable
    contracts = list(csv.reader(io.StringIO(data["contracts.csv"].decode("utf-8-sig")), delimiter=";"))
    assert "Žužemberk d.o.o., Tõnu Ääremaa OÜ" in contracts[1]
    letters = list(csv.reader(io.StringIO(data["correspondence.csv"].decode("utf-8-sig")), delimiter=";"))
    assert letters[1][1] == "in" and "Öö Õunapuu" in letters[1] and "Čedo Šuštar" in letters[1]


def test_formula_injection_is_neutralised(world: World, tmp_path: Path) -> None:
    populated(world)
    raw = members(export(world, tmp_path / "a.zip"))["records.csv"].decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
    cells = [c for row in rows for c in row]
    assert "'=HYPERLINK(\"http://evil\";\"x\")" in cells and "'+cmd.pdf" in cells
    assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)


def test_edited_csv_row_is_named(world: World, tmp_path: Path) -> None:
    populated(world)
    path = export(world, tmp_path / "a.zip")
    raw = members(path)["records.csv"]
    rewrite_zip(path, {"records.csv": raw.replace("Žužemberk".encode(), "Zuzemberk".encode(), 1)})
    result = verify_export(path, public_key=public_key(world))
    assert result.exit_code == EXIT_BROKEN
    assert result.problems == ["records.csv was changed: its SHA-256 does not match the manifest."]


def _audit_lines(path: Path) -> list[bytes]:
    return members(path)["audit.jsonl"].splitlines(keepends=True)


def test_dropped_audit_line_is_named_even_if_re_signed(world: World, tmp_path: Path) -> None:
    populated(world)
    path = export(world, tmp_path / "a.zip")
    lines = _audit_lines(path)
    dropped = json.loads(lines[5])["seq"]
    rewrite_zip(path, {"audit.jsonl": b"".join(lines[:5] + lines[6:])})
    plain = verify_export(path)
    assert plain.exit_code == EXIT_BROKEN
    assert "audit.jsonl was changed: its SHA-256 does not match the manifest." in plain.problems
    assert f"audit.jsonl: audit entry {dropped} is missing (found {dropped + 1} instead)." in plain.problems
    # Someone holding the home's key re-signs the manifest: only the chain still tells.
    resign(path, None, world.ports.signer)
    forged = verify_export(path, public_key=public_key(world))
    assert forged.problems == [f"audit.jsonl: audit entry {dropped} is missing "
                               f"(found {dropped + 1} instead)."]


def test_reordered_pair_and_edited_entry_are_named(world: World, tmp_path: Path) -> None:
    populated(world)
    path = export(world, tmp_path / "a.zip")
    lines = _audit_lines(path)
    seq = json.loads(lines[3])["seq"]
    rewrite_zip(path, {"audit.jsonl": b"".join(lines[:3] + [lines[4], lines[3]] + lines[5:])})
    resign(path, None, world.ports.signer)
    assert verify_export(path).problems == [
        f"audit.jsonl: audit entry {seq} is missing (found {seq + 1} instead)."]
    edited = [*lines]
    edited[7] = edited[7].replace(b'"actor":"ana"', b'"actor":"bob"')
    rewrite_zip(path, {"audit.jsonl": b"".join(edited)})
    resign(path, None, world.ports.signer)
    seq7 = json.loads(lines[7])["seq"]
    assert verify_export(path).problems == [
        f"audit.jsonl: audit entry {seq7} was altered (its hash does not match)."]


def test_replaced_manifest_is_caught(world: World, tmp_path: Path) -> None:
    populated(world)
    path = export(world, tmp_path / "a.zip")
    manifest = json.loads(members(path)["manifest.json"])
    manifest["period"]["from"] = "1999-01-01"
    rewrite_zip(path, {"manifest.json": manifest_bytes(manifest)})
    result = verify_export(path)
    assert result.exit_code == EXIT_BROKEN
    assert result.problems == ["The signature in manifest.sig does not match manifest.json: the "
                               "manifest was changed or replaced after it was signed."]


def test_signature_by_another_key_is_caught_with_the_known_key(world: World, tmp_path: Path) -> None:
    populated(world)
    path = export(world, tmp_path / "a.zip")
    rewrite_zip(path, {"records.csv": members(path)["records.csv"] + b"extra;row\r\n"})
    resign(path, Ed25519PrivateKey.generate())
    alone = verify_export(path)  # self-consistent: only the key's provenance can tell
    assert alone.exit_code == EXIT_VERIFIED and any("self-asserted" in n for n in alone.notes)
    checked = verify_export(path, public_key=public_key(world))
    assert checked.exit_code == EXIT_BROKEN
    assert len(checked.problems) == 2 and "not with the key you gave" in checked.problems[0]
    assert "does not match manifest.json" in checked.problems[1]


def test_missing_and_extra_members_and_a_corrupt_zip(world: World, tmp_path: Path) -> None:
    populated(world)
    path = export(world, tmp_path / "a.zip")
    rewrite_zip(path, {"contracts.csv": None, "notes.txt": b"hello"})
    result = verify_export(path)
    assert result.problems == [
        "contracts.csv is listed in the manifest but missing from the ZIP.",
        "notes.txt is in the ZIP but not in the manifest (it was added)."]
    broken = tmp_path / "broken.zip"
    broken.write_bytes(path.read_bytes()[:200])
    unusable = verify_export(broken)
    assert unusable.exit_code == EXIT_UNUSABLE and unusable.unusable is not None
    assert "not a readable ZIP" in unusable.unusable
    assert verify_export(tmp_path / "nope.zip").exit_code == EXIT_UNUSABLE


def test_consecutive_exports_link(world: World, tmp_path: Path) -> None:
    world.log(10, start=T0)
    first = export(world, tmp_path / "1.zip", ExportRequest(date_to=T0.date()),
                   now=T0 + timedelta(days=1))
    world.log(10, start=T0 + timedelta(days=2))
    second = export(world, tmp_path / "2.zip", ExportRequest(date_from=(T0 + timedelta(days=2)).date()),
                    now=T0 + timedelta(days=3))
    m1 = json.loads(members(first)["manifest.json"])
    m2 = json.loads(members(second)["manifest.json"])
    assert m2["previous_export"] == m1["chain"]["head"]
    assert m2["bridge"] is not None  # the first export's own audit entry lies between the periods
    result = verify_export(second, previous=first, public_key=public_key(world))
    assert result.exit_code == EXIT_VERIFIED, result.problems
    # A bridge entry rewritten (and re-signed by the key holder) breaks the link.
    bridge = members(second)["audit-bridge.jsonl"].replace(b'"outcome":"ok"', b'"outcome":"no"', 1)
    rewrite_zip(second, {"audit-bridge.jsonl": bridge})
    resign(second, None, world.ports.signer)
    assert verify_export(second, previous=first).exit_code == EXIT_BROKEN


def test_previous_export_of_a_rewritten_trail_does_not_continue(world: World, tmp_path: Path) -> None:
    world.log(5, start=T0)
    first = export(world, tmp_path / "1.zip")
    world.log(5, start=T0 + timedelta(days=1))
    second = export(world, tmp_path / "2.zip")
    manifest = json.loads(members(first)["manifest.json"])
    manifest["chain"]["head"]["hash"] = "f" * 64  # a different history signed by the same key
    body = manifest_bytes(manifest)
    rewrite_zip(first, {"manifest.json": body, "manifest.sig": base64.b64encode(
        world.ports.signer.sign(signed_message(body))) + b"\n"})
    result = verify_export(second, previous=first)
    assert result.exit_code == EXIT_BROKEN
    assert any("does not verify" in p or "rewritten" in p for p in result.problems)


def test_period_slice_verifies_from_its_anchor(world: World, tmp_path: Path) -> None:
    world.log(48, start=T0)  # two days, one entry an hour
    day2 = (T0 + timedelta(days=1)).date()
    path = export(world, tmp_path / "a.zip", ExportRequest(date_from=day2, date_to=day2))
    manifest = json.loads(members(path)["manifest.json"])
    lines = [json.loads(x) for x in _audit_lines(path)]
    assert {x["ts"][:10] for x in lines} == {day2.isoformat()}
    assert manifest["chain"]["anchor"]["hash"] == lines[0]["prev"]
    assert manifest["chain"]["entries"] == len(lines) == 24  # one an hour, the whole of day 2
    assert verify_export(path).exit_code == EXIT_VERIFIED


def test_scope_filters_registers(world: World, tmp_path: Path) -> None:
    populated(world)
    path = export(world, tmp_path / "a.zip", ExportRequest(record_class="04.1"))
    rows = members(path)["records.csv"].decode("utf-8-sig").splitlines()
    assert len(rows) == 2 and "töölepingu" in rows[1]
    scope = json.loads(members(path)["manifest.json"])["scope"]
    assert scope == {"record_class": "04.1", "principal": None, "with_documents": False}


def test_with_documents_match_their_fixity(world: World, tmp_path: Path) -> None:
    populated(world)
    path = export(world, tmp_path / "a.zip", ExportRequest(with_documents=True))
    docs = {n: d for n, d in members(path).items() if n.startswith("documents/")}
    assert docs == {f"documents/03.1-1_{T0.year}/document.pdf": b"%PDF contract one",
                    f"documents/04.1-1_{T0.year}/document.pdf": b"%PDF letter",
                    f"documents/03.1-2_{T0.year}/+cmd.pdf": b"formula"}
    assert verify_export(path).exit_code == EXIT_VERIFIED


def test_a_document_that_fails_its_fixity_stops_the_export(world: World, tmp_path: Path) -> None:
    from dataclasses import replace
    record = world.file("Zapisnik", b"original bytes")
    with world.ports.catalog.transaction() as tx:
        tx.replace(replace(record, sha256="0" * 64))  # the catalogue's fixity no longer matches
    with pytest.raises(IntegrityError, match="does not match its fixity"):
        export(world, tmp_path / "a.zip", ExportRequest(with_documents=True))
    head = world.ports.catalog.audit_head()
    assert head is not None and head.event.outcome == "failed"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.SECRETARY, Role.MANAGER])
def test_only_auditors_and_admins_export(world: World, tmp_path: Path, role: Role) -> None:
    scope = AccessScope.of(User(name="eva", role=role, clearance=Confidentiality.SECRET))
    with pytest.raises(AccessDenied):
        start_export(world.ports, scope, ExportRequest(), now=NOW)
    head = world.ports.catalog.audit_head()
    assert head is not None and (head.event.action, head.event.outcome) == ("audit.export", "denied")
    admin = AccessScope.of(User(name="root", role=Role.ADMIN, clearance=Confidentiality.PUBLIC))
    assert verify_export(export(world, tmp_path / "a.zip", scope=admin)).exit_code == EXIT_VERIFIED


def test_auditor_sees_only_records_in_their_clearance(world: World, tmp_path: Path) -> None:
    world.file("Tajno", b"x", confidentiality=Confidentiality.SECRET)
    world.file("Interno", b"y")
    low = AccessScope.of(User(name="rev", role=Role.AUDITOR, clearance=Confidentiality.INTERNAL))
    rows = members(export(world, tmp_path / "a.zip", scope=low))["records.csv"].decode("utf-8-sig")
    assert "Interno" in rows and "Tajno" not in rows


def test_export_is_checkpointed_and_checkpoints_travel_in_the_next_export(
        world: World, tmp_path: Path) -> None:
    world.log(5, start=T0)
    export(world, tmp_path / "1.zip", now=T0 + timedelta(days=1))
    head = world.ports.catalog.audit_head()
    cps = world.ports.catalog.checkpoints()
    assert head is not None and cps and (cps[-1].size, cps[-1].head) == (head.seq, head.hash)
    world.log(5, start=T0 + timedelta(days=2))
    second = export(world, tmp_path / "2.zip", now=T0 + timedelta(days=3))
    lines = members(second)["checkpoints.jsonl"].splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["text"].split("\n")[1] == str(head.seq)
    assert verify_export(second, public_key=public_key(world)).exit_code == EXIT_VERIFIED
    # A checkpoint signed by someone else (manifest re-signed by the key holder) is named.
    doc = json.loads(lines[0])
    doc["signature"] = base64.b64encode(Ed25519PrivateKey.generate().sign(doc["text"].encode())).decode()
    rewrite_zip(second, {"checkpoints.jsonl": json.dumps(doc).encode() + b"\n"})
    resign(second, None, world.ports.signer)
    assert verify_export(second).problems == [
        "checkpoints.jsonl line 1: the checkpoint's signature does not verify."]


def test_dispositions_carry_their_signed_certificates(world: World, tmp_path: Path) -> None:
    from records.disposition import dispose
    from records.plan import load_default
    kept = world.file("Dopis ostane", b"kept", record_class="04.1", details=letter())
    gone = world.file("Dopis za uničenje", b"gone", record_class="04.1", details=letter())
    admin = AccessScope.system("ana")
    from records import safeguards
    safeguards.change(world.ports, admin, "require-second-approver", "off", now=T0)
    result = dispose(world.ports, load_default(), admin, [gone.id], reason="Retention ended", jurisdiction="SI",
                     as_of=T0.date().replace(year=T0.year + 50), now=T0 + timedelta(days=1))
    assert result.certificate is not None
    path = export(world, tmp_path / "a.zip", ExportRequest(with_documents=True))
    data = members(path)
    rows = list(csv.DictReader(io.StringIO(data["dispositions.csv"].decode("utf-8-sig")), delimiter=";"))
    assert [r["record_id"] for r in rows] == [gone.id]
    cert_id = result.certificate.certificate_id
    assert rows[0]["certificate_id"] == cert_id and rows[0]["retention_basis"]
    cert = json.loads(data[rows[0]["certificate_file"]])
    assert cert["certificate"]["certificate_id"] == cert_id
    assert not any(gone.registry_number.replace("/", "_") in n for n in data if n.startswith("documents/"))
    assert any(kept.registry_number.replace("/", "_") in n for n in data if n.startswith("documents/"))
    assert verify_export(path, public_key=public_key(world)).exit_code == EXIT_VERIFIED
    # A certificate edited after signing (manifest re-signed by the key holder) is named.
    name = rows[0]["certificate_file"]
    rewrite_zip(path, {name: data[name].replace(b'"approvers": []', b'"approvers": ["eva"]')})
    resign(path, None, world.ports.signer)
    assert verify_export(path).problems == [
        f"{name}: the destruction certificate's signature does not verify."]


def test_an_export_is_unusable_not_verified_without_a_signature_check(world: World, tmp_path: Path) -> None:
    """A missing Ed25519 dependency stops the one chain verifier: exit 2, never "verified"."""
    path = export(world, tmp_path / "a.zip")
    assert verify_export(path).exit_code == EXIT_VERIFIED
    result = verify_export(path, signature_check=None)
    assert result.exit_code == EXIT_UNUSABLE and "cannot be checked" in (result.unusable or "")
