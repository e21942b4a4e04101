"""The records core's errors: each message says what happened and what to do next."""

from __future__ import annotations


class RecordsError(Exception):
    """Root of every error the records core raises on purpose."""


class RecordNotFound(RecordsError):
    pass


class UnknownRegistryNumber(RecordsError):
    """A registry number typed into a form names no live record the person may see: the form says so
    (unlike an address that leads nowhere, which is a plain "not found" page)."""


class AccessDenied(RecordsError):
    pass


class PlanError(RecordsError):
    """The classification plan is invalid or names an unknown class."""


class PlanChangeRefused(RecordsError):
    """A plan change lacks its justification, removes a class in use, or raced another change."""


class DispositionRefused(RecordsError):
    pass


class AmendmentRefused(RecordsError):
    """An edit that would move retention earlier lacks its justification or its second person."""


class SettingRefused(RecordsError):
    """A sealed setting cannot take the value given."""


class DuplicateRecord(RecordsError):
    def __init__(self, message: str, existing_id: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class IntegrityError(RecordsError):
    """Stored data failed authentication or a consistency check. Never retried into success."""


class ExtractionFailed(RecordsError):
    """A document could not be read; the message is one sentence for the rejection note."""


class VerificationUnavailable(RecordsError):
    """A check cannot be run at all (e.g. no signature verifier): never reported as "verified"."""


class SearchUnavailable(RecordsError):
    """The search index could not be opened; filing goes on and `strongroom reindex` repairs it."""


class CaptureFailed(RecordsError):
    """The capture sandbox (previews, OCR) stopped on a document; the message is one sentence."""


class PackFailed(RecordsError):
    """A meeting pack could not be made at all (a material that stops the pack maker is left out instead)."""
