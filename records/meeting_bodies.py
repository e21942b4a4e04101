"""Governing bodies that hold meetings (uprava, nadzorni svet, skupščina, kolegij; juhatus, nõukogu,
üldkoosolek): a configurable list, each body with its names and the plan class its minutes go to.

The list in force is the jurisdiction's default until an administrator sets another (sealed setting
`meeting.bodies`, audited as `meeting.bodies`); a body's class decides how long its meetings are kept
(docs/ARCHITECTURE.md, "Meetings").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from records import checkpoints, meetings
from records.access import AccessScope, Permission
from records.errors import AccessDenied, RecordsError
from records.events import event
from records.plan import Plan, jurisdictions_of
from records.ports import Ports

SETTING = "meeting.bodies"
_CODE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


@dataclass(frozen=True, slots=True)
class Body:
    code: str  # e.g. "uprava", "noukogu": stable, used in meeting numbers' sequences and URLs
    names: tuple[tuple[str, str], ...]  # (language, name) for sl, et, en
    record_class: str  # the plan class of its minutes, e.g. "00.4"

    def name(self, language: str = "en") -> str:
        names = dict(self.names)
        return names.get(language) or names.get("en") or self.code


def _body(code: str, sl: str, et: str, en: str, record_class: str) -> Body:
    return Body(code=code, names=(("sl", sl), ("et", et), ("en", en)), record_class=record_class)


DEFAULTS: dict[str, tuple[Body, ...]] = {
    "SI": (_body("uprava", "Uprava", "Juhatus (SI)", "Management board", "00.4"),
           _body("nadzorni-svet", "Nadzorni svet", "Nõukogu (SI)", "Supervisory board", "00.3"),
           _body("skupscina", "Skupščina", "Üldkoosolek (SI)", "General meeting", "00.2"),
           _body("kolegij", "Kolegij", "Kolleegium", "Collegium (management meeting)", "00.4")),
    "EE": (_body("juhatus", "Uprava (EE)", "Juhatus", "Management board", "00.4"),
           _body("noukogu", "Nadzorni svet (EE)", "Nõukogu", "Supervisory board", "00.3"),
           _body("uldkoosolek", "Skupščina (EE)", "Üldkoosolek", "General meeting", "00.2")),
}


def bodies(ports: Ports, jurisdiction: str) -> tuple[Body, ...]:
    """The bodies in force: the stored list, else the default of each of the home's jurisdictions."""
    raw = ports.catalog.get_setting(SETTING)
    if raw:
        return tuple(Body(code=b["code"], names=tuple((k, v) for k, v in b["names"].items()),
                          record_class=b["record_class"]) for b in json.loads(raw))
    return tuple(b for j in jurisdictions_of(jurisdiction) for b in DEFAULTS[j])


def body_of(ports: Ports, jurisdiction: str, code: str) -> Body:
    for body in bodies(ports, jurisdiction):
        if body.code == code:
            return body
    known = ", ".join(b.code for b in bodies(ports, jurisdiction))
    raise RecordsError(f"There is no body {code!r}: choose one of {known}.")


def set_bodies(ports: Ports, plan: Plan, scope: AccessScope, items: list[Body], *, now: datetime,
               jurisdiction: str, channel: str = "cli") -> tuple[Body, ...]:
    """Replace the list of bodies (administrators only); every body's class must be in the plan, and a body
    that has meetings stays on the list (its meetings name it by its code). The audit entry names the codes
    before (the list in force: the stored one, else the jurisdiction's) and after."""
    if not scope.may(Permission.ADMIN):
        raise AccessDenied(f"Your role ({scope.role}) may not change the list of bodies.")
    if not items:
        raise RecordsError("The list of bodies is empty: name at least one body.")
    seen: set[str] = set()
    for body in items:
        if not _CODE.match(body.code) or body.code in seen:
            raise RecordsError(f"The body code {body.code!r} is not valid or not unique: use lower-case letters, "
                               "digits and hyphens, once each.")
        seen.add(body.code)
        plan.resolve(body.record_class)
        if not any(name.strip() for _language, name in body.names):
            raise RecordsError(f"The body {body.code} needs a name.")
    doc = [{"code": b.code, "names": {k: v.strip() for k, v in b.names if v.strip()},
            "record_class": plan.resolve(b.record_class).code} for b in items]
    with ports.catalog.transaction() as tx:
        # Read under the catalogue's lock: no meeting of a body being removed is made meanwhile.
        kept = sorted(meetings.bodies_in_use(ports) - seen)
        if kept:
            raise RecordsError(f"The body {', '.join(kept)} has meetings, so it stays on the list: keep its code "
                               "and change only its names or class.")
        before = ",".join(sorted(b.code for b in bodies(ports, jurisdiction)))
        tx.put_setting(SETTING, json.dumps(doc, ensure_ascii=False, sort_keys=True))
        checkpoints.append(tx, ports.signer, event("meeting.bodies", actor=scope.actor, now=now, channel=channel,
                                                   details=(("before", before),
                                                            ("bodies", ",".join(sorted(seen))))))
    return bodies(ports, jurisdiction)
