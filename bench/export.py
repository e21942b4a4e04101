"""Export and verify time for an audit export of 100,000 audit entries and 10,000 records.

    .venv/bin/python bench/export.py [--entries 100000] [--records 10000]

Generation goes straight through the catalogue's transaction API in batches and is not timed.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from records.access import AccessScope  # noqa: E402
from records.audit import AuditEvent  # noqa: E402
from records.export import ExportRequest, export_to, start_export  # noqa: E402
from records.model import Confidentiality, ContractFields, Record, new_record_id  # noqa: E402
from records.ports import Ports  # noqa: E402
from vault import KdfParams  # noqa: E402
from web.office import create_home  # noqa: E402
from web.settings import Settings  # noqa: E402
from web.verify_export import verify_export  # noqa: E402

PASSPHRASE = "bench passphrase for export"
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
BATCH = 5_000


def populate(ports: Ports, n_records: int, n_entries: int) -> None:
    catalog, blobs = ports.catalog, ports.blobs
    for first in range(0, n_records, BATCH):
        with catalog.transaction() as tx:
            for i in range(first, min(first + BATCH, n_records)):
                rid = new_record_id()
                filed = START + timedelta(minutes=50 * i)
                details = ContractFields(parties=("Žužemberk d.o.o.", "Tõnu OÜ"),
                                         expiry=date(2030, 1, 1), notice_days=60) if i % 4 == 0 else None
                record = Record(id=rid, registry_number=f"03.1-{i + 1}/{filed.year}",
                                title=f"Pogodba št. {i} — leping {i}", record_class="03.1",
                                principal=("CEO", "CFO", "Board")[i % 3],
                                confidentiality=Confidentiality.INTERNAL, document_date=filed.date(),
                                filed_at=filed, filed_by="ana", original_name=f"pogodba-{i}.pdf",
                                media_type="application/pdf", size=1000 + i,
                                sha256=secrets.token_hex(32), details=details,
                                retention_until=date(2040, 12, 31))
                tx.add(record, blobs.new_data_key(rid), secrets.token_hex(32))
    for first in range(0, n_entries, BATCH):
        with catalog.transaction() as tx:
            for i in range(first, min(first + BATCH, n_entries)):
                tx.append_audit(AuditEvent(ts=START + timedelta(minutes=5 * i), actor="ana",
                                           action="record.view", record_id=secrets.token_hex(16),
                                           channel="web", details=(("hits", str(i % 50)),)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sr-bench-export-") as tmp:
        root = Path(tmp)
        office, _recovery = create_home(Settings(home=root / "home"), PASSPHRASE, kdf=KdfParams.fast_for_tests())
        with office:
            ports = office.ports
            t = time.perf_counter()
            populate(ports, args.records, args.entries)
            print(f"generated {args.records} records and {args.entries} audit entries "
                  f"in {time.perf_counter() - t:.1f} s (not part of the figures)")
            out = root / "audit.zip"
            t = time.perf_counter()
            job = start_export(ports, AccessScope.system("bench"), ExportRequest(),
                               now=datetime.now(timezone.utc))
            with out.open("wb") as sink:
                summary = export_to(sink, job)
            export_s = time.perf_counter() - t
        t = time.perf_counter()
        result = verify_export(out, public_key=None)
        verify_s = time.perf_counter() - t
        print(f"export: {export_s:.2f} s  ({summary.entries} entries, {summary.records} records, "
              f"{out.stat().st_size / 1e6:.1f} MB ZIP)")
        print(f"verify: {verify_s:.2f} s  (exit {result.exit_code}"
              + (f": {result.problems[0]}" if result.problems else "") + ")")


if __name__ == "__main__":
    main()
