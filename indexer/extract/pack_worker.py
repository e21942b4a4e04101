"""The pack worker: limits itself like the extraction worker, then makes one meeting pack from the materials
the parent sends over its stdin and answers on stdout.

One process per pack (the parent starts another, without the material to blame, when one dies). The
protocol, each line one frame:
  parent  {"font", "watermark", "page_label", "parts", "max_input", "timeout"}
  per part: parent {"kind": "pdf"|"text", "heading"} and the material's bytes;
            worker {"ok": true, "pages": N} or {"ok": false, "reason": LeftOut code}
  parent  {"bookmarks": [[title, page, parent]], "title"} and the front matter (the shell's own PDF)
  worker  {"at": part} as it starts on each part (-1: none), then {"done": true, "pages": N} and the pack,
          or {"failed": part, "reason": code}, or {"error": text}
Each part has its own processor budget (RLIMIT_CPU) and the parent its own wall clock.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

from .worker import EXIT_MEMORY, _cpu_budget, _limit, protocol_pipes


def main() -> None:
    try:
        _serve()
    except MemoryError:
        os._exit(EXIT_MEMORY)  # no clean-up that could allocate again


def _serve() -> None:
    _limit(int(sys.argv[1]) if len(sys.argv) > 1 else 1024)
    proto_in, proto_out = protocol_pipes()

    import pypdf._crypt_providers  # noqa: F401 - imported lazily by pypdf otherwise
    from pypdf.errors import LimitReachedError

    from records.packs import LeftOut

    from . import pdf  # noqa: F401 - sets pypdf's configuration: it never starts another program
    from .frames import FrameError, dumps, loads, read_frame, write_frame
    from .pack_pages import Bookmark, PackBuilder, Refused, Stamp

    resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))
    write_frame(proto_out, dumps({"ready": True}))
    try:
        head = loads(read_frame(proto_in, 1 << 16))
        timeout = int(head["timeout"])
        builder = PackBuilder(Path(str(head["font"])), Stamp(str(head["watermark"]), str(head["page_label"])))
        for index in range(int(head["parts"])):
            meta = loads(read_frame(proto_in, 1 << 16))
            data = read_frame(proto_in, int(head["max_input"]))
            _cpu_budget(timeout)
            try:
                answer: dict[str, object] = {"ok": True, "pages": builder.add(
                    index, str(meta["kind"]), str(meta["heading"]), data)}
            except Refused as refused:
                answer = {"ok": False, "reason": refused.code}
            except MemoryError:
                raise
            except Exception:  # noqa: BLE001 - a reader bug leaves the material out, never the pack
                answer = {"ok": False, "reason": LeftOut.UNREADABLE}
            del data
            write_frame(proto_out, dumps(answer))
        layout = loads(read_frame(proto_in, 1 << 24))
        front = read_frame(proto_in, 1 << 28)
    except FrameError:
        return  # the parent gave up on this pack
    current = [-1]

    def progress(index: int) -> None:
        if index != current[0] or index == -1:
            _cpu_budget(timeout)
            current[0] = index
            write_frame(proto_out, dumps({"at": index}))

    marks = [Bookmark(str(t), int(p), int(q)) for t, p, q in layout["bookmarks"]]
    try:
        data, pages = builder.build(front, marks, str(layout["title"]), progress)
    except MemoryError:
        raise
    except (LimitReachedError, RecursionError):
        write_frame(proto_out, dumps(_blame(current[0], LeftOut.LIMITS)))
        return
    except Exception as exc:  # noqa: BLE001 - blamed on the material in hand, or one sentence
        write_frame(proto_out, dumps(_blame(current[0], LeftOut.UNREADABLE, type(exc).__name__)))
        return
    write_frame(proto_out, dumps({"done": True, "pages": pages}))
    write_frame(proto_out, data)


def _blame(part: int, code: str, what: str = "") -> dict[str, object]:
    if part >= 0:
        return {"failed": part, "reason": code}
    return {"error": f"the pack could not be joined ({what or code} in the PDF writer)"}


if __name__ == "__main__":
    main()
