"""Properties: spreadsheet cells never start a formula and round-trip; any flipped byte is caught."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import example, HealthCheck, given, settings
from hypothesis import strategies as st

from records.access import AccessScope
from records.export import ExportRequest, export_to, start_export
from records.spreadsheet import cell, csv_lines
from tests.records.test_export_world import T0, make_world, rewrite_zip
from vault import Home
from web.verify_export import EXIT_VERIFIED, verify_export

FORMULA = ("=", "+", "-", "@", "\t", "\r")


@given(st.lists(st.lists(st.text(max_size=30), min_size=3, max_size=3), max_size=8))
def test_cells_round_trip_through_the_csv_reader_and_never_start_a_formula(rows: list[list[str]]) -> None:
    data = b"".join(csv_lines(("a", "b", "c"), rows))
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert parsed[0] == ["a", "b", "c"]
    assert len(parsed) == len(rows) + 1
    for original, back in zip(rows, parsed[1:]):
        for value, text in zip(original, back):
            assert not text.startswith(FORMULA)
            assert text == cell(value)
            assert text == value or (text == "'" + value and value.startswith(FORMULA))


@pytest.fixture
def sample(home: Home, tmp_path: Path) -> tuple[Path, bytes]:
    world = make_world(home)
    world.file("Zapisnik seje nadzornega sveta", b"%PDF minutes")
    world.log(12, start=T0 + timedelta(hours=1))
    path = tmp_path / "base.zip"
    job = start_export(world.ports, AccessScope.system("t"), ExportRequest(), now=T0 + timedelta(days=1))
    with path.open("wb") as sink:
        export_to(sink, job)
    assert verify_export(path).exit_code == EXIT_VERIFIED
    return path, world.ports.signer.public_key()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(member=st.sampled_from(["records.csv", "audit.jsonl", "manifest.json", "manifest.sig",
                               "dispositions.csv", "README.txt"]),
       where=st.floats(min_value=0, max_value=1, exclude_max=True), bit=st.integers(0, 7))
@example(member="manifest.sig", where=0.9999, bit=0)  # the final newline became a vertical tab (stripped)
def test_any_flipped_bit_in_any_member_is_caught(sample: tuple[Path, bytes], tmp_path: Path,
                                                 member: str, where: float, bit: int) -> None:
    base, key = sample
    with zipfile.ZipFile(base) as z:
        data = bytearray(z.read(member))
    data[int(where * len(data))] ^= 1 << bit
    target = tmp_path / "flipped.zip"
    target.write_bytes(base.read_bytes())
    rewrite_zip(target, {member: bytes(data)})
    result = verify_export(target, public_key=key)
    assert result.exit_code != EXIT_VERIFIED
    assert result.problems or result.unusable


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(["chain", "bridge", "members", "key", "previous_export", "period", "scope"]),
       value=JSON)
def test_a_manifest_of_any_shape_signed_by_the_key_holder_never_crashes_the_verifier(
        sample: tuple[Path, bytes], home: Home, tmp_path: Path, key: str, value: object) -> None:
    import base64
    import json

    from records.export_package import manifest_bytes, signed_message
    from web.verify_export import EXIT_BROKEN
    base, public = sample
    with zipfile.ZipFile(base) as z:
        manifest = json.loads(z.read("manifest.json"))
    manifest[key] = value
    body = manifest_bytes(manifest)
    target = tmp_path / "shaped.zip"
    target.write_bytes(base.read_bytes())
    rewrite_zip(target, {"manifest.json": body,
                         "manifest.sig": base64.b64encode(home.signer.sign(signed_message(body)))})
    result = verify_export(target, public_key=public)
    assert result.exit_code in (EXIT_VERIFIED, EXIT_BROKEN)
    json.dumps(result.to_json())
    if key in ("chain", "members", "key"):
        assert result.exit_code == EXIT_BROKEN
