"""Benchmark: time per unlock with the default key-slot parameters (Argon2id 256 MiB, t=3, p=4).

Run: .venv/bin/python bench/kdf.py [--runs 5]
Prints the median of the runs for the KDF Strongroom uses, and argon2-cffi for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from argon2.low_level import Type, hash_secret_raw  # noqa: E402

from vault import kdf  # noqa: E402
from vault.kdf import KdfParams  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    params = KdfParams.default()
    used, cffi = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        kdf.derive(b"correct horse battery staple", params)
        used.append(time.perf_counter() - start)
        start = time.perf_counter()
        hash_secret_raw(b"correct horse battery staple", params.salt, params.time_cost, params.memory_kib,
                        params.lanes, 32, Type.ID)
        cffi.append(time.perf_counter() - start)
    print(f"Argon2id m={params.memory_kib // 1024} MiB t={params.time_cost} p={params.lanes}, "
          f"median of {args.runs}:")
    print(f"  vault.kdf.derive (cryptography): {statistics.median(used):.3f} s per unlock")
    print(f"  argon2-cffi (multithreaded):     {statistics.median(cffi):.3f} s")


if __name__ == "__main__":
    main()
