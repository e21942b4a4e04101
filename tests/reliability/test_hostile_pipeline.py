"""Hostile input through the whole pipeline: drop folders -> the real watcher -> sandboxed extraction
-> sealing -> catalogue -> index. Every file is filed or rejected with a reason, in time, the
watcher keeps running, nothing is lost (in == filed + rejected) and `verify` stays clean."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from indexer.extract.sandbox import SandboxedExtractor
from records.plan import load_default
from records.ports import RecordFilter
from tests.conftest import PASSPHRASE, scan_for_canaries
from tests.reliability.faults_support import cli_env, new_home, run  # noqa: F401 - cli_env is a fixture
from vault import Home, open_home
from vault.inbox import IntakeResult, Status, Watcher, WatchOptions
from web.office import Office
from web.settings import Settings

TOOLS = Path(__file__).resolve().parents[2] / "tools"
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))
from make_corpus import hostile_corpus  # noqa: E402

EXTRACT_TIMEOUT = 15.0
FAST = WatchOptions(stability_seconds=0.2, network_stability_seconds=1.0, rescan_seconds=1.0,
                    poll_interval=0.2, tick=0.05)


@dataclass(frozen=True, slots=True)
class Drop:
    folder: str
    name: str
    data: bytes
    sidecar: bytes | None = None


# ---- odd e-mails ----------------------------------------------------------------------------------


def rfc822_nested(levels: int) -> bytes:
    """message/rfc822 inside message/rfc822, `levels` deep (forwarded as attachment, again and again)."""
    inner = EmailMessage()
    inner["From"] = "bottom@example.org"
    inner["Subject"] = "the bottom"
    inner.set_content("Globoko zakopana pogodba.")
    for level in range(levels):
        outer = EmailMessage()
        outer["From"] = f"fwd{level}@example.org"
        outer["Subject"] = f"Fwd {level}"
        outer.set_content(f"forwarded {level}")
        outer.add_attachment(inner)
        inner = outer
    return inner.as_bytes()


def many_parts(parts: int) -> bytes:
    """One multipart/mixed with thousands of small inline text parts (no attachments)."""
    boundary = "b0undary"
    body = [f"From: parts@example.org\r\nSubject: {parts} parts\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"]
    for index in range(parts):
        body.append(f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ndel {index}\r\n")
    body.append(f"--{boundary}--\r\n")
    return "".join(body).encode()


def evil_attachment_names() -> bytes:
    """Attachments named to escape a folder, with control characters and a NUL in the header."""
    boundary = "evil"
    names = ["../../../../tmp/strongroom-escape.txt", "..\\..\\Windows\\win.ini", "/etc/passwd",
             "evil\x00.txt", "\u202etxt.exe", "a" * 300 + ".txt", "CON", "", "Triglavnicavski-priloga.txt"]
    out = [f"From: evil@example.org\r\nSubject: names\r\nMIME-Version: 1.0\r\n"
           f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
           f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"]
    for index, name in enumerate(names):
        out.append(f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
                   f"Content-Disposition: attachment; filename=\"{name}\"\r\n\r\nattachment {index}\r\n")
    out.append(f"--{boundary}--\r\n")
    return "".join(out).encode("utf-8", "surrogateescape")


# ---- the drops ------------------------------------------------------------------------------------


def _deep_json(depth: int) -> bytes:
    return b'{"title": ' + b"[" * depth + b"]" * depth + b"}"


def drops() -> list[Drop]:
    out = [Drop(("contracts", "correspondence", "minutes")[i % 3], name, make())
           for i, (name, make) in enumerate(hostile_corpus().items())]
    text = b"Pogodba o dobavi %d"
    out += [
        Drop("correspondence", "fwd-60.eml", rfc822_nested(60)),
        Drop("correspondence", "fwd-3.eml", rfc822_nested(3)),
        Drop("correspondence", "parts-3000.eml", many_parts(3000)),
        Drop("correspondence", "attachment-names.eml", evil_attachment_names()),
        Drop("contracts", "\u017e" * 125 + ".txt", text % 1),  # 254 bytes of UTF-8: the longest name
        Drop("contracts", "\u010d" * 125 + ".pdf", b"<html>not a pdf</html>"),  # the same, rejected
        Drop("contracts", "ctl\x01\x1b[31mred\x7f.txt", text % 2),
        Drop("contracts", "tab\tand\nnewline.txt", text % 3),
        Drop("contracts", "invoice\u202efdp.exe", text % 4),
        Drop("contracts", "nul\u2400name%00.txt", text % 5),
        Drop("contracts", "-rf --no-preserve-root.txt", text % 6),
        Drop("contracts", "Zlatorogovski\u202egnp.exe", b"Kvarkadabrski canary body"),
        Drop("contracts", " leading and trailing .txt", text % 7),
        Drop("contracts", "huge-sidecar.txt", text % 8, b'{"title": "' + b"x" * 70_000 + b'"}'),
        # under the size limit, deeper than the JSON parser's recursion limit
        Drop("contracts", "deep-sidecar.txt", text % 9, _deep_json(30_000)),
        Drop("contracts", "wrong-types.txt", text % 10, json.dumps(
            {"title": 5, "tags": "x", "document_date": [2026], "details": {"value": {"a": 1}}}).encode()),
        Drop("contracts", "unknown-kind.txt", text % 11, json.dumps(
            {"details": {"kind": "spaceship", "warp": 9}}).encode()),
        Drop("contracts", "unknown-field.txt", text % 12, json.dumps({"record_class": "99.9"}).encode()),
        Drop("contracts", "not-json.txt", text % 13, b"\xff\xfe\x00garbage"),
        Drop("contracts", "array-sidecar.txt", text % 14, b"[1, 2, 3]"),
        Drop("contracts", "good-sidecar.txt", text % 15, json.dumps(
            {"title": "Dobavna pogodba", "tags": ["dobava"], "details": {"parties": ["Acme d.o.o."]}}).encode()),
    ]
    return out


def _place(inbox: Path, drop: Drop) -> Path:
    target = inbox / drop.folder / drop.name
    if drop.sidecar is not None:  # the sidecar first: the watcher must never see the file without it
        target.with_name(drop.name + ".json").write_bytes(drop.sidecar)
    target.write_bytes(drop.data)
    return target


# ---- the run ---------------------------------------------------------------------------------------


@dataclass
class Run:
    home: Home
    drops: list[Drop]
    results: list[IntakeResult]
    gaps: list[float]
    seconds: float
    watcher: Watcher


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    home_path = new_home(tmp_path_factory.mktemp("hostile") / "home")
    home = open_home(home_path, PASSPHRASE)
    plan = load_default()
    extractor = SandboxedExtractor(workers=2, timeout_s=EXTRACT_TIMEOUT, memory_mb=512)
    office = Office(home, Settings(home=home_path), plan=plan, extractor=extractor)
    ports, intake = office.ports, office.intake()
    results: list[IntakeResult] = []
    stamps: list[float] = []
    lock = threading.Lock()

    def record(result: IntakeResult) -> None:
        with lock:
            results.append(result)
            stamps.append(time.monotonic())

    all_drops = drops()
    intake.ensure_folders()
    for drop in all_drops:
        _place(home_path / "inbox", drop)
    watcher = Watcher(intake, FAST, on_result=record)
    started = time.monotonic()
    watcher.start()
    try:
        deadline = started + 30 + EXTRACT_TIMEOUT * 4
        while time.monotonic() < deadline and len([r for r in results if r.status != Status.RETURNED]) < len(all_drops):
            time.sleep(0.1)
        seconds = time.monotonic() - started
        gaps = [b - a for a, b in zip([started, *stamps], stamps)]
        yield Run(home, all_drops, results, gaps, seconds, watcher)
    finally:
        watcher.stop()
        extractor.close()
        home.close()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_every_file_is_filed_or_rejected_and_nothing_is_lost(pipeline: Run) -> None:
    results = [r for r in pipeline.results if r.status != Status.RETURNED]
    assert len(results) == len(pipeline.drops), f"{len(results)} outcomes for {len(pipeline.drops)} files"
    filed = [r for r in results if r.status == Status.FILED]
    rejected = [r for r in results if r.status == Status.REJECTED]
    assert not [r for r in results if r.status == Status.DUPLICATE]  # every drop is distinct
    assert len(filed) + len(rejected) == len(pipeline.drops)
    home_path = pipeline.home.path
    # The inbox is empty (sidecars went with their files), nothing waits in a claim.
    left = [p for p in (home_path / "inbox").rglob("*") if p.is_file() and p.name != ".watch.lock"]
    assert left == []
    # Every rejected file sits in rejected/ with its reason, byte for byte as dropped.
    by_sha = {_sha(d.data): d for d in pipeline.drops}
    for result in rejected:
        assert result.rejected_to is not None and result.rejected_to.exists()
        reason = result.rejected_to.with_name(result.rejected_to.name + ".reason.txt").read_text(encoding="utf-8")
        assert reason.strip() and reason.count("\n") == 1, reason
        assert _sha(result.rejected_to.read_bytes()) in by_sha
    # Every filed file is a top-level record whose original reads back byte for byte.
    records = {r.id: r for r in pipeline.home.catalog.find(RecordFilter())}
    top = [r for r in records.values() if r.parent_id is None]
    assert sorted(r.record_id or "" for r in filed) == sorted(r.id for r in top)
    accounted = {r.sha256 for r in top} | {_sha(r.rejected_to.read_bytes()) for r in rejected if r.rejected_to}
    assert accounted == set(by_sha), "a dropped file is neither a record nor in rejected/"


def test_each_outcome_comes_within_the_extraction_time_limit_and_the_watcher_lives(pipeline: Run) -> None:
    # One file at a time: each outcome within the sandbox's limit plus the stability window and filing.
    assert max(pipeline.gaps) < EXTRACT_TIMEOUT + 10, pipeline.gaps
    assert pipeline.watcher.running and pipeline.watcher.error is None
    late = pipeline.home.path / "inbox" / "contracts" / "after-the-storm.txt"
    late.write_text("Pogodba po napadu")
    # The file leaves the folder when it is claimed, before its record commits: wait for the record.
    def filed() -> bool:
        return any(r.original_name == "after-the-storm.txt" for r in pipeline.home.catalog.find(RecordFilter()))
    deadline = time.monotonic() + 20
    while not filed() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert filed() and not late.exists() and pipeline.watcher.error is None


def test_verify_is_clean_and_names_are_kept_only_sealed(pipeline: Run) -> None:
    assert pipeline.home.verify() == []
    names = {r.original_name for r in pipeline.home.catalog.find(RecordFilter())}
    for odd in ("\u017e" * 125 + ".txt", "ctl\x01\x1b[31mred\x7f.txt", "tab\tand\nnewline.txt", "invoice\u202efdp.exe"):
        assert odd in names
    # Attachment names that try to climb out of a folder are only metadata: nothing was written there.
    assert not Path("/tmp/strongroom-escape.txt").exists()
    children = [r for r in pipeline.home.catalog.find(RecordFilter()) if r.parent_id is not None]
    assert any(".." in r.original_name for r in children)


def test_no_hostile_name_or_text_is_written_in_plaintext_outside_inbox_and_rejected(pipeline: Run) -> None:
    home = pipeline.home.path
    roots = [p for p in home.iterdir() if p.name not in ("inbox", "rejected")]
    hits = scan_for_canaries(roots, ["Zlatorogovski", "Triglavnicavski", "Kvarkadabrski", "spaceship"])
    assert hits == []
    # The scan does find them where plaintext belongs (a rejected sidecar's reason names its value).
    assert scan_for_canaries([home / "rejected"], ["spaceship"])


def test_sidecar_problems_reject_with_their_reason_and_a_good_sidecar_applies(pipeline: Run) -> None:
    rejected = pipeline.home.path / "rejected"
    for name, fragment in [("huge-sidecar.txt", "larger than 64 KiB"), ("deep-sidecar.txt", "not valid UTF-8 JSON"),
                           ("wrong-types.txt", "must be"), ("unknown-kind.txt", "not spaceship"),
                           ("unknown-field.txt", "unknown field 'record_class'"),
                           ("not-json.txt", "not valid UTF-8 JSON"), ("array-sidecar.txt", "one JSON object")]:
        reason = (rejected / (name + ".reason.txt")).read_text(encoding="utf-8")
        assert fragment in reason, (name, reason)
        assert (rejected / (name + ".json")).exists()  # the sidecar is kept beside its file
    [good] = [r for r in pipeline.home.catalog.find(RecordFilter()) if r.original_name == "good-sidecar.txt"]
    assert good.title == "Dobavna pogodba" and good.tags == ("dobava",)


def test_odd_names_in_rejected_keep_a_reason_even_at_the_name_length_limit(pipeline: Run) -> None:
    """A 254-byte name is at the file system's limit: NAME.reason.txt cannot exist, so the rejected
    copy gets a shortened stem (once this stopped the watcher for good)."""
    [longest] = [r for r in pipeline.results if r.status == Status.REJECTED and r.rejected_to is not None
                 and r.rejected_to.name.startswith("\u010d" * 20)]
    target = longest.rejected_to
    assert target is not None and target.suffix == ".pdf"
    assert target.read_bytes() == b"<html>not a pdf</html>"
    reason = target.with_name(target.name + ".reason.txt")
    assert "not a PDF" in reason.read_text(encoding="utf-8")
    assert len(os.fsencode(reason.name)) <= 255


def test_the_same_drops_through_strongroom_import(tmp_path: Path, cli_env: None,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`strongroom import` reads the same files and sidecars with the same use case: one outcome per
    file, a JSON summary instead of a traceback, the sources left where they were, verify clean."""
    home_path = new_home(tmp_path / "home")
    source = tmp_path / "incoming"
    source.mkdir()
    all_drops = [Drop(".", d.name, d.data, d.sidecar) for d in drops()]
    for drop in all_drops:
        _place(source, drop)
    code, out, err = run(home_path, ["import", str(source), "--class", "contracts", "--json"], capsys)
    assert code == 1 and "Traceback" not in out + err  # 1: some were rejected, as expected
    items = [i for i in json.loads(out) if not i["path"].endswith("(attachment)")]
    assert len(items) == len(all_drops)
    assert {i["status"] for i in items} <= {"filed", "rejected"}
    assert all(i["reason"] for i in items)
    status = {Path(i["path"]).name: i["status"] for i in items}
    assert status["\u017e" * 125 + ".txt"] == "filed"  # no NAME.json can exist beside a 254-byte name
    assert status["good-sidecar.txt"] == "filed" and status["deep-sidecar.txt"] == "rejected"
    for drop in all_drops:
        assert (source / drop.name).read_bytes() == drop.data
    with open_home(home_path, PASSPHRASE) as home:
        top = [r for r in home.catalog.find(RecordFilter()) if r.parent_id is None]
        assert len(top) == sum(1 for i in items if i["status"] == "filed")
        assert home.verify() == []
