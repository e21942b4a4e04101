"""`strongroom search` and `reindex` on a real home: filing indexes, access applies, searches are audited."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from tests.records.test_cli import cli_home, run  # noqa: F401 - the fixture is used by name

Scan = Callable[[Iterable[Path | str], Iterable[str]], list[str]]
CANARIES = ["Zlatoroginja", "Kolibrinsko"]


def _import(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, *extra: str) -> str:
    path = tmp_path / "docs" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    code, out, err = run(["import", str(path), "--class", "contracts", "--principal", "ceo", "--json", *extra],
                         capsys)
    assert code == 0, err
    return str(json.loads(out)[0]["id"])


def test_filed_records_are_searchable_with_access_and_audit(cli_home: Path, tmp_path: Path,  # noqa: F811
                                                            capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            canary_scan: Scan) -> None:
    public = _import(tmp_path, capsys, "a.txt", f"Pogodbe o dobavi {CANARIES[0]} se podpišejo v četrtek.\n")
    secret = _import(tmp_path, capsys, "b.txt", f"Prevzem {CANARIES[1]}: strogo zaupno.\n",
                     "--confidentiality", "secret")

    code, out, err = run(["search", "pogodba cetrtek", "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["total"] == 1 and data["hits"][0]["id"] == public
    assert "<mark>" in data["hits"][0]["snippet"]
    assert set(data["facets"]) == {"record_class", "principal", "year", "state"}
    assert data["facets"]["principal"] == {"ceo": 1}

    monkeypatch.setenv("STRONGROOM_USER_PASSWORD", "a long password")
    code, _, err = run(["user", "add", "vida", "--role", "viewer", "--clearance", "internal"], capsys)
    assert code == 0, err
    code, out, _ = run(["search", CANARIES[1].lower(), "--json"], capsys)
    assert json.loads(out)["hits"][0]["id"] == secret
    code, out, _ = run(["search", CANARIES[1].lower(), "--json", "--as", "vida"], capsys)
    assert json.loads(out) == {"total": 0, "total_exact": True, "page": 1, "hits": [], "suggestion": None,
                               "facets": {"record_class": {}, "principal": {}, "year": {}, "state": {}}}

    code, out, _ = run(["search", "dobavi"], capsys)
    assert code == 0 and "1 records match" in out and "*dobavi*" in out

    code, out, _ = run(["audit", "log", "--json"], capsys)
    searches = [json.loads(line) for line in out.splitlines() if json.loads(line)["action"] == "search"]
    assert len(searches) == 4
    assert all(dict(s["details"])["query"].startswith("hmac:") for s in searches)
    assert [dict(s["details"])["hits"] for s in searches] == ["1", "1", "0", "1"]
    assert CANARIES[1].lower() not in out

    assert canary_scan([cli_home, tmp_path / "tmpdir"], [*CANARIES, "dobavi"]) == []


def test_query_errors_exit_with_one_sentence(cli_home: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    code, out, err = run(["search", "date:2025-13-45"], capsys)
    assert code == 1 and err.startswith("strongroom: ") and err.count("\n") == 1 and "Traceback" not in err


def test_reindex_rebuilds_a_damaged_index(cli_home: Path, tmp_path: Path,  # noqa: F811
                                          capsys: pytest.CaptureFixture[str]) -> None:
    rid = _import(tmp_path, capsys, "a.txt", "Letno poročilo o delu sveta.\n")
    index = cli_home / "index"
    live = index / os.readlink(index / "current")
    for seg in live.glob("*.seg"):
        seg.write_bytes(seg.read_bytes()[:-7])
    from indexer import search
    search._shared.clear()  # a new process would not have the old handle  # noqa: SLF001
    code, _, err = run(["search", "porocilo"], capsys)
    assert code == 1 and "strongroom reindex" in err

    code, out, err = run(["reindex"], capsys)
    assert code == 0 and "Indexed 1 records." in out, err
    code, out, _ = run(["search", "porocilo", "--json"], capsys)
    assert [h["id"] for h in json.loads(out)["hits"]] == [rid]


def test_cli_search_finds_registry_numbers_and_parties(cli_home: Path, tmp_path: Path,  # noqa: F811
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "docs" / "dobava.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_text("Pogodba o dobavi opreme.\n", encoding="utf-8")
    path.with_name("dobava.txt.json").write_text(json.dumps({"parties": ["Kovačič d.o.o."]}), encoding="utf-8")
    code, out, err = run(["import", str(path), "--class", "contracts", "--json"], capsys)
    assert code == 0, err
    filed = json.loads(out)[0]
    other = _import(tmp_path, capsys, "najem.txt", "Pogodba o najemu.\n")
    number = filed["registry_number"]
    for query, expected in [(number, filed["id"]), ("Kovačič", filed["id"]), ("kovacic", filed["id"])]:
        code, out, err = run(["search", query, "--json"], capsys)
        assert code == 0, err
        assert [h["id"] for h in json.loads(out)["hits"]] == [expected], query
    code, out, _ = run(["search", number.replace("-1/", "-2/"), "--json"], capsys)
    assert [h["id"] for h in json.loads(out)["hits"]] == [other]


def test_reindex_in_worker_processes_leaves_no_plaintext(cli_home: Path, tmp_path: Path,  # noqa: F811
                                                         capsys: pytest.CaptureFixture[str],
                                                         canary_scan: Scan) -> None:
    ids = [_import(tmp_path, capsys, f"{i}.txt", f"Zapisnik {CANARIES[i]} o dobavi opreme.\n") for i in range(2)]
    for path in (tmp_path / "docs").iterdir():
        path.unlink()  # the originals (plaintext by nature) are not the index's business
    code, out, err = run(["reindex"], capsys)
    assert code == 0 and "Indexed 2 records." in out, err
    code, out, _ = run(["search", CANARIES[1].lower(), "--json"], capsys)
    assert [h["id"] for h in json.loads(out)["hits"]] == [ids[1]]
    # the workers wrote sealed segments; their posting runs and the documents never touched a disk
    assert canary_scan([cli_home, tmp_path / "tmpdir"], [*CANARIES, "dobavi"]) == []
