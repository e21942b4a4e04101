"""One shared sandboxed pool for the extraction tests (workers are reused, as in production)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.extract.sandbox import SandboxedExtractor

TOOLS = Path(__file__).resolve().parents[3] / "tools"
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))


@pytest.fixture(scope="session")
def extractor() -> Iterator[SandboxedExtractor]:
    with SandboxedExtractor(workers=2, timeout_s=20) as pool:
        yield pool
