"""Benchmark: time per unlock with the default key-slot parameters (Argon2id 256 MiB, t=3, p=4).

Run: .venv/bin/python bench/kdf.py [--runs 5]
Prints the median of the runs for vault.kdf.derive (argon2-cffi, lanes in threads) and for
cryptography's single-threaded Argon2id over the same parameters, for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id  # noqa: E402

from vault import kdf  # noqa: E402
from vault.kdf import KdfParams  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    params = KdfParams.default()
    used, other = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        kdf.derive(b"correct horse battery staple", params)
        used.append(time.perf_counter() - start)
        start = time.perf_counter()
        Argon2id(salt=params.salt, length=32, iterations=params.time_cost, lanes=params.lanes,
                 memory_cost=params.memory_kib).derive(b"correct horse battery staple")
        other.append(time.perf_counter() - start)
    print(f"Argon2id m={params.memory_kib // 1024} MiB t={params.time_cost} p={params.lanes}, "
          f"median of {args.runs}:")
    print(f"  vault.kdf.derive (argon2-cffi): {statistics.median(used):.3f} s per unlock")
    print(f"  cryptography's Argon2id:        {statistics.median(other):.3f} s")


if __name__ == "__main__":
    main()
