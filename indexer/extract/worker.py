"""The sandboxed worker: limits itself, then reads documents from stdin and answers on stdout until EOF."""

from __future__ import annotations

import os
import resource
import sys
from typing import BinaryIO


def _limit(memory_mb: int) -> None:
    # numpy (the search's phrase matching needs it) is kept out: the parsers take it when it is there
    # (fpdf2 for images), and its OpenBLAS threads reserve more address space than a pack worker's
    # 150 MB, so the worker could not start. Without it they work as they always did.
    sys.modules["numpy"] = None  # type: ignore[assignment]  # an import of it raises ImportError
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # no file may grow: the worker writes nothing
    try:
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # no fork bombs (root ignores this)
    except (ValueError, OSError):
        pass


def _cpu_budget(seconds: int) -> None:
    """Each document gets `seconds` more CPU; past it SIGXCPU ends the worker (the parent's clock is first)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + seconds
    if hard != resource.RLIM_INFINITY and soft > hard:
        soft = hard
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


EXIT_MEMORY = 3  # the parent reads this status as "needed more memory than allowed"


def protocol_pipes() -> tuple[BinaryIO, BinaryIO]:
    """The frames' channel to the parent: the original stdin and stdout. Fd 0 and 1 become /dev/null
    so that a stray print() in a parser (or in tesseract's wrapper) can neither corrupt a frame nor
    reach the parent. Shared by the extraction and the capture worker."""
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    sys.stdin = sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as we do
    return proto_in, proto_out


def main() -> None:
    try:
        _serve()
    except MemoryError:
        os._exit(EXIT_MEMORY)  # no clean-up that could allocate again


def _serve() -> None:
    memory_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    _limit(memory_mb)
    proto_in, proto_out = protocol_pipes()

    # Import every parser (and the lazily imported pieces they use) before the file limit drops.
    import email.policy  # noqa: F401
    import encodings.cp1250  # noqa: F401
    import encodings.cp1257  # noqa: F401
    import encodings.utf_16  # noqa: F401

    import pypdf._crypt_providers  # noqa: F401

    from .pades import preload
    preload()  # pyHanko and what it imports lazily, for signed PDFs (pades.py)

    from records.errors import ExtractionFailed

    from .frames import FrameError, dumps, encode_extraction, loads, read_frame, trusted_of, write_frame
    from .reader import read_document

    resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))
    write_frame(proto_out, dumps({"ready": True}))
    while True:
        try:
            request = loads(read_frame(proto_in, 1 << 20))  # the trusted certificates ride along
            data = read_frame(proto_in, int(request["max_input"]))
        except FrameError:
            return  # the parent closed the pipe: time to go
        _cpu_budget(int(request["timeout"]) + 2)
        try:
            result = read_document(data, str(request["name"]), int(request["max_chars"]),
                                   trusted_of(request))
            answer = {"ok": True, "extraction": encode_extraction(result)}
        except ExtractionFailed as failed:
            answer = {"ok": False, "reason": str(failed)}
        except MemoryError:
            answer = {"ok": False, "fault": "memory"}
        except RecursionError:
            answer = {"ok": False, "reason": "the file nests its structure too deeply to read."}
        except Exception as exc:  # noqa: BLE001 - any parser bug becomes a rejection, never a crash
            answer = {"ok": False, "reason": "the file could not be read; it may be damaged "
                                             f"({type(exc).__name__} in the reader)."}
        del data
        try:
            payload = dumps(answer)
        except MemoryError:
            payload = dumps({"ok": False, "fault": "memory"})
        write_frame(proto_out, payload)
        if answer.get("fault") == "memory":
            return  # the heap may be in a bad state after MemoryError: let the parent start a fresh worker


if __name__ == "__main__":
    main()
