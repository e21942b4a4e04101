"""Fixtures for the intake: a real home, the default plan, the real filing use case, fast windows."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator

import pytest

from records.plan import Plan, load_default
from records.ports import Ports, RecordFilter
from tests.records.conftest import PlainExtractor
from vault import Home
from vault.inbox import Intake, Watcher, WatchOptions
from web.office import Office
from web.settings import Settings

# Short windows keep the suite fast; the logic is the same as with the defaults.
FAST = WatchOptions(stability_seconds=0.3, network_stability_seconds=1.0, rescan_seconds=2.0,
                    poll_interval=0.2, tick=0.05)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wait_for(condition: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def plan() -> Plan:
    return load_default()


@pytest.fixture
def ports(home: Home) -> Ports:
    return Ports(blobs=home.blobs, catalog=home.catalog, signer=home.signer, extractor=PlainExtractor(),
                 audit_hmac=home.audit_hmac)


@pytest.fixture
def intake(home: Home, plan: Plan, ports: Ports) -> Intake:
    made = Office(home, Settings(home=home.path), plan=plan, extractor=PlainExtractor()).intake()
    made.ensure_folders()
    return made


@pytest.fixture
def start(intake: Intake) -> Iterator[Callable[..., Watcher]]:
    """start(polling=False) -> a running Watcher over the home; stopped after the test."""
    started: list[Watcher] = []

    def _start(polling: bool = False, options: WatchOptions = FAST) -> Watcher:
        watcher = Watcher(intake, WatchOptions(**{**_fields(options), "polling": polling}))
        started.append(watcher.start())
        return watcher

    yield _start
    for watcher in started:
        watcher.stop()
        assert watcher.error is None, watcher.error


def _fields(options: WatchOptions) -> dict[str, object]:
    return {name: getattr(options, name) for name in WatchOptions.__dataclass_fields__}


def filed_hashes(ports: Ports) -> list[str]:
    return sorted(r.sha256 for r in ports.catalog.find(RecordFilter()))
