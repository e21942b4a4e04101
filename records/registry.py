"""Registry numbers: `<class code>-<sequence>/<year>`, e.g. `03.1-17/2026`, one sequence per class and year."""

from __future__ import annotations

import re
from dataclasses import dataclass

from records.ports import CatalogTx

_PATTERN = re.compile(r"^(?P<code>\d{2}(?:\.\d{1,2}){0,2})-(?P<seq>\d+)/(?P<year>\d{4})$")


@dataclass(frozen=True, slots=True)
class RegistryNumber:
    class_code: str
    seq: int
    year: int

    def __str__(self) -> str:
        return f"{self.class_code}-{self.seq}/{self.year}"

    @classmethod
    def parse(cls, text: str) -> RegistryNumber | None:
        match = _PATTERN.match(text.strip())
        if match is None:
            return None
        return cls(match.group("code"), int(match.group("seq")), int(match.group("year")))


def assign(tx: CatalogTx, class_code: str, year: int) -> RegistryNumber:
    """The next number of the class in the year of registration (filing), taken inside `tx`.

    The year is the filing year, as in a mail register (evidenca / dokumendiregister): a
    document dated last December but filed in January gets this year's number.
    """
    return RegistryNumber(class_code, tx.next_registry_seq(class_code, year), year)
