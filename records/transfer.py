"""Transfer: handing a record whose retention ended to an archive, as an E-ARK SIP, then shredding it on receipt.

`transfer` checks the records (due, unheld, action `transfer` by class or by a review decision),
builds one package per record (records.transfer_package), hands each to the shell's `write`
(which stores it where the user asked, outside the home) and only then marks the record
transferred (`transfer.package` in its metadata) with a `record.transfer` audit entry. The record
stays readable until the archive confirms: `receipt` records the archive's reference and
crypto-shreds the record like a destruction, with a signed certificate whose lines name the
package and the receipt. A record can be packaged again (e.g. the disk was lost) until then.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from importlib import resources

from records import checkpoints, disposition
from records.access import AccessScope, Permission
from records.certificates import Certificate
from records.disposition import TRANSFER_KEY
from records.errors import AccessDenied, DispositionRefused, RecordsError
from records.events import event
from records.model import RecordId, State
from records.plan import Action, Plan
from records.ports import Ports
from records.retention import decide
from records.retrieval import read_original, visible_record
from records.transfer_package import PackageInfo, build

SCHEMAS = ("mets.xsd", "xlink.xsd", "DILCISExtensionMETS.xsd", "DILCISExtensionSIPMETS.xsd")
# (package id, files as (relative path, bytes)) -> None; raises OSError when they could not be stored
PackageWriter = Callable[[str, list[tuple[str, bytes]]], None]


@dataclass(frozen=True, slots=True)
class Transferred:
    record_id: RecordId
    registry_number: str
    package_id: str
    mets_sha256: str


def transfer(ports: Ports, plan: Plan, scope: AccessScope, ids: list[RecordId], *, write: PackageWriter,
             office: str, jurisdiction: str, as_of: date, now: datetime, channel: str = "cli") -> list[Transferred]:
    """Package each record for the archive and mark it transferred once its package is written."""
    if not scope.may(Permission.DISPOSE):
        raise AccessDenied(f"Your role ({scope.role}) may not transfer records.")
    records = disposition.checked(ports, plan, scope, ids, jurisdiction=jurisdiction, as_of=as_of,
                                  allowed=(Action.TRANSFER,))
    schemas = [(name, resources.files("records").joinpath("eark_schemas", name).read_bytes()) for name in SCHEMAS]
    done = []
    for record in records:
        _, stream = read_original(ports, scope, record.id, now=now, channel=channel)
        original = b"".join(stream)
        package_id = f"strongroom-{record.id}-{now.strftime('%Y%m%dT%H%M%S')}"
        cls = plan.resolve(record.record_class)
        basis = decide(record, plan, jurisdiction=jurisdiction, now=as_of).basis
        files = build(record, original, PackageInfo(package_id=package_id, created=now, office=office,
                                                    class_name=cls.name("en"), basis=basis), schemas)
        write(package_id, files)
        mets = hashlib.sha256(files[0][1]).hexdigest()
        marked = replace(record, extra=tuple(sorted({**dict(record.extra), TRANSFER_KEY: package_id}.items())))
        with ports.catalog.transaction() as tx:
            tx.replace(marked)
            checkpoints.append(tx, ports.signer, event("record.transfer", actor=scope.actor, now=now,
                                                       record_id=record.id, channel=channel,
                                                       details=(("package", package_id), ("mets_sha256", mets))))
        done.append(Transferred(record.id, record.registry_number, package_id, mets))
    return done


def receipt(ports: Ports, plan: Plan, scope: AccessScope, record_id: RecordId, reference: str, *,
            jurisdiction: str, as_of: date, now: datetime, channel: str = "cli") -> Certificate:
    """The archive confirmed it holds the package: record its reference and crypto-shred the record."""
    if not scope.may(Permission.DISPOSE):
        raise AccessDenied(f"Your role ({scope.role}) may not record transfers.")
    reference = reference.strip()
    if not reference:
        raise RecordsError("A receipt needs the archive's reference (its accession or receipt number): give --ref.")
    record = visible_record(ports, scope, record_id)
    package = dict(record.extra).get(TRANSFER_KEY)
    if record.state is State.DISPOSED:
        raise DispositionRefused(f"Record {record.registry_number} is already gone from this home.")
    if not package:
        raise DispositionRefused(f"Record {record.registry_number} was not transferred yet: "
                                 "run `strongroom transfer` first.")
    records = disposition.checked(ports, plan, scope, [record.id], jurisdiction=jurisdiction, as_of=as_of,
                                  allowed=(Action.TRANSFER,))
    return disposition.shred(ports, plan, records, jurisdiction=jurisdiction, as_of=as_of, now=now,
                             actor=scope.actor, approvers=(), channel=channel, kind="transfer",
                             reason=f"Transferred to an archive in package {package}; the archive's receipt "
                                    f"is {reference}.",
                             receipts={record.id: {"package": package, "receipt": reference}})
