"""Shared fixtures: a real home with fast (test-only) KDF parameters, and a plaintext canary scanner."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from vault import Home, KdfParams, init_home, open_home

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def fast_kdf() -> Callable[[], KdfParams]:
    """A factory of tiny Argon2id parameters (8 MiB, t=1, p=1) marked test-only in the slot."""
    return KdfParams.fast_for_tests


@pytest.fixture
def home_path(tmp_path: Path, fast_kdf: Callable[[], KdfParams]) -> Path:
    """A freshly initialised home (passphrase PASSPHRASE); the `recovery_key` fixture holds its recovery key."""
    path = tmp_path / "home"
    result = init_home(path, PASSPHRASE, kdf=fast_kdf())
    (tmp_path / "recovery-key.txt").write_text(result.recovery_key)
    return path


@pytest.fixture
def recovery_key(home_path: Path) -> str:
    """The printed recovery key of `home_path`."""
    return (home_path.parent / "recovery-key.txt").read_text()


@pytest.fixture
def home(home_path: Path) -> Iterator[Home]:
    """`home_path`, unlocked; closed after the test."""
    opened = open_home(home_path, PASSPHRASE)
    try:
        yield opened
    finally:
        opened.close()


def _forms(word: str) -> list[bytes]:
    forms = {word.encode("utf-8"), word.lower().encode("utf-8"), word.encode("utf-16-le"),
             word.lower().encode("utf-16-le")}
    return sorted(forms)


def scan_for_canaries(roots: Iterable[Path | str], words: Iterable[str]) -> list[str]:
    """Every `path: word` where a word occurs in a file under the roots (UTF-8, UTF-16LE, lower case).

    Files are read whole, so -wal and -shm journals next to a database are covered too.
    """
    needles = [(w, form) for w in words for form in _forms(w)]
    hits: list[str] = []
    for root in roots:
        root = Path(root)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            try:
                data = path.read_bytes()
            except OSError:
                continue
            lowered = data.lower()
            for word, form in needles:
                if form in data or form.lower() in lowered:
                    hits.append(f"{path}: {word}")
                    break
    return hits


@pytest.fixture
def canary_scan() -> Callable[[Iterable[Path | str], Iterable[str]], list[str]]:
    """`canary_scan(paths, words) -> list[str]` of hits; an empty list means no plaintext leaked."""
    return scan_for_canaries
