"""Fixtures for the records use cases: the real vault home, the default plan, and a stand-in extractor.

`PlainExtractor` stands in for the sandboxed extractor of `indexer.extract` until it is wired:
it reads UTF-8 text, PDFs (pypdf) and e-mail (the standard library), in this process.
"""

from __future__ import annotations

import email
import email.policy
import io
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pypdf
import pytest

from records.errors import ExtractionFailed
from records.model import Confidentiality, Role, User
from records.plan import Plan, load_default
from records.ports import Attachment, Extraction, Ports
from vault import Home

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


class PlainExtractor:
    """Implements records.ports.Extractor for tests."""

    def extract(self, path: str, name: str) -> Extraction:
        return self.extract_bytes(Path(path).read_bytes(), name)

    def extract_bytes(self, data: bytes, name: str) -> Extraction:
        if data.startswith(b"%PDF"):
            try:
                reader = pypdf.PdfReader(io.BytesIO(data))
                text = "\n".join(page.extract_text() or "" for page in reader.pages)
            except Exception as exc:  # noqa: BLE001 - any parser failure is one rejection
                raise ExtractionFailed(f"The PDF could not be read ({type(exc).__name__}).") from None
            title = str((reader.metadata or {}).get("/Title", "") or "")
            return Extraction(text=text, media_type="application/pdf", title=title, pages=len(reader.pages))
        if name.endswith(".eml"):
            return _mail(data)
        try:
            return Extraction(text=data.decode("utf-8"), media_type="text/plain")
        except UnicodeDecodeError:
            raise ExtractionFailed("The file is neither text nor a known document format.") from None


def _mail(data: bytes) -> Extraction:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    body = msg.get_body(preferencelist=("plain",))
    attachments = tuple(Attachment(name=part.get_filename() or "attachment", data=part.get_content()
                                   if isinstance(part.get_content(), bytes) else part.get_content().encode())
                        for part in msg.iter_attachments())
    headers = tuple((k.lower(), str(v)) for k, v in msg.items())
    return Extraction(text=body.get_content() if body else "", media_type="message/rfc822",
                      title=str(msg.get("subject", "")), headers=headers, attachments=attachments)


@pytest.fixture
def plan() -> Plan:
    return load_default()


@pytest.fixture
def ports(home: Home) -> Ports:
    return Ports(blobs=home.blobs, catalog=home.catalog, signer=home.signer, extractor=PlainExtractor(),
                 audit_hmac=home.audit_hmac)


@pytest.fixture
def users(ports: Ports) -> Iterator[dict[str, User]]:
    """A secretary, a manager, a limited viewer and an admin (no passwords needed for use-case tests)."""
    made = {
        "tina": User("tina", Role.SECRETARY, Confidentiality.SECRET),
        "marko": User("marko", Role.MANAGER, Confidentiality.SECRET),
        "vid": User("vid", Role.VIEWER, Confidentiality.INTERNAL, principals=("cfo",)),
        "ana": User("ana", Role.ADMIN, Confidentiality.SECRET),
    }
    with ports.catalog.transaction() as tx:
        for user in made.values():
            tx.put_user(user)
    yield made


def one_person(ports: Ports) -> None:
    """An office of one: the admin switches the two-person rule off (audited), as `settings set` does."""
    from records import safeguards
    from records.access import AccessScope
    safeguards.change(ports, AccessScope.system("ana"), "require-second-approver", "off", now=NOW)
