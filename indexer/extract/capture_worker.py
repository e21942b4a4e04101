"""The capture worker: limits itself, reads one document from stdin, answers page by page on stdout.

One process per document (the capture stage runs one job at a time). Like the extraction worker it
holds the document only in memory and may write no file (RLIMIT_FSIZE 0, inherited by tesseract);
unlike it, it may start tesseract, one page at a time, each with its own processor budget.
It runs at the lowest priority (niceness 19, inherited by tesseract): OCR shares the office PC's
cores with filing, and text filed beside a scan must not wait for the scan's pages.
"""

from __future__ import annotations

import os
import resource
import sys

from .worker import EXIT_MEMORY, protocol_pipes


def _limit(memory_mb: int) -> None:
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # neither we nor tesseract may write a file


NICENESS = 19  # the lowest: the scheduler gives filing (niceness 0) the cores whenever it wants them


def yield_to_filing() -> None:
    """Drop this process (and its session) to the lowest priority; bench/ocr.py gives bare tesseract the same."""
    os.nice(NICENESS - os.nice(0))
    # The worker leads a session of its own, and Linux shares the processor between sessions
    # (autogroups) before niceness counts inside one: the session's own niceness is what puts it
    # behind filing. Raising it needs no privilege; without autogroups the file is absent.
    try:
        with open("/proc/self/autogroup", "w", encoding="ascii") as fh:
            fh.write(str(NICENESS))
    except OSError:
        pass


def main() -> None:
    try:
        _serve()
    except MemoryError:
        os._exit(EXIT_MEMORY)


def _serve() -> None:
    _limit(int(sys.argv[1]) if len(sys.argv) > 1 else 1024)
    yield_to_filing()
    proto_in, proto_out = protocol_pipes()

    import io

    import PIL.JpegImagePlugin  # noqa: F401 - the formats Pillow would otherwise import lazily
    import PIL.PngImagePlugin  # noqa: F401
    import PIL.TiffImagePlugin  # noqa: F401
    import pypdfium2  # noqa: F401

    from .frames import FrameError, dumps, loads, read_frame, write_frame
    from PIL import Image

    from .pages import THUMBNAIL_WIDTH, Job, PageError, jpeg, pages

    write_frame(proto_out, dumps({"ready": True}))
    try:
        request = loads(read_frame(proto_in, 1 << 16))
        data = read_frame(proto_in, int(request["max_input"]))
    except FrameError:
        return
    job = Job(media_type=str(request["media_type"]), languages=str(request["languages"]),
              page_cpu_s=int(request["page_cpu_s"]), page_timeout_s=float(request["page_timeout_s"]),
              max_pages=int(request["max_pages"]))
    thumbnail = b""
    try:
        for page in pages(data, job):
            if page.number == 1 and page.preview:
                thumbnail = jpeg(Image.open(io.BytesIO(page.preview)), THUMBNAIL_WIDTH)
            write_frame(proto_out, dumps({"page": page.number, "pages": page.total, "text": page.text,
                                          "recognised": page.recognised, "problem": page.problem}))
            write_frame(proto_out, page.preview)
        answer: dict[str, object] = {"done": True}
    except PageError as exc:
        answer = {"done": True, "problem": str(exc)}
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a parser bug is a reason on the record, never a crash
        answer = {"done": True, "problem": f"the pages could not be read; the file may be damaged "
                                           f"({type(exc).__name__} in the reader)."}
    write_frame(proto_out, dumps(answer))
    write_frame(proto_out, thumbnail)


if __name__ == "__main__":
    main()
