"""A browser upload goes from the request into the sealed store without touching the disk in plaintext:
a real waitress server (built as `serve` builds it) receives a large upload slowly while the home and
$TMPDIR are searched for its canary word, and the server's open files for a spooled body."""

from __future__ import annotations

import http.client
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import scan_for_canaries
from tests.web.conftest import PASSWORD, add_users
from vault import Home
from web.app import create_app
from web.cli.serve_cmds import office_server
from web.office import Office
from web.settings import Settings

CANARY = "Kvarkadabrakanarcek"
BODY_MB = 24  # far above waitress's 512 KiB spooling threshold and werkzeug's 500 KB one


class Browser:
    """Just enough of a browser: a cookie, a CSRF token, a multipart upload sent in slow pieces."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers={"Host": "127.0.0.1", "Cookie": self.cookie,
                                                           **(headers or {})})
            response = conn.getresponse()
            data = response.read().decode("utf-8", "replace")
            for cookie in response.msg.get_all("Set-Cookie") or []:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value
            return response.status, data
        finally:
            conn.close()

    def token(self, path: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.request("GET", path)[1])
        assert found is not None, path
        return found.group(1)

    def login(self, name: str) -> None:
        form = f"username={name}&password={PASSWORD.replace(' ', '+')}&csrf_token={self.token('/login')}"
        status, _ = self.request("POST", "/login", form.encode(),
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302

    def upload_slowly(self, name: str, content: bytes, record_class: str, during: threading.Event) -> str:
        """POST /upload in 256 KiB pieces; `during` is set while the body is still being sent."""
        boundary = uuid.uuid4().hex
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
                f"{self.token('/upload')}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"record_class\"\r\n\r\n{record_class}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                f"Content-Type: text/plain\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            conn.putrequest("POST", "/upload", skip_host=True)
            for key, value in (("Host", "127.0.0.1"), ("Cookie", self.cookie),
                               ("Content-Type", f"multipart/form-data; boundary={boundary}"),
                               ("Content-Length", str(len(head) + len(content) + len(tail)))):
                conn.putheader(key, value)
            conn.endheaders()
            conn.send(head)
            piece = 256 * 1024
            for start in range(0, len(content), piece):
                conn.send(content[start:start + piece])
                if start >= 2 * piece:
                    during.set()  # the server holds a part of the body now
            conn.send(tail)
            response = conn.getresponse()
            return response.read().decode("utf-8", "replace")
        finally:
            conn.close()


def spooled_files(folder: Path) -> list[str]:
    """Files this process holds open in `folder`, unlinked ones included (a TemporaryFile has no name)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


@pytest.fixture
def server(home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, Path]]:
    spool = tmp_path / "tmpdir"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))
    monkeypatch.setattr(tempfile, "tempdir", str(spool))  # where waitress or werkzeug would spool a body
    add_users(home)
    settings = Settings.load({"home": home.path}, environ={})
    app = create_app(Office(home, settings), secret_key=b"stream-test-secret-key-0123456789")
    srv = office_server(app, settings, host="127.0.0.1", port=0)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        yield srv.effective_port, spool
    finally:
        srv.close()
        thread.join(timeout=10)


def test_a_large_upload_never_reaches_the_disk_in_plaintext(server: tuple[int, Path], home: Home) -> None:
    port, spool = server
    browser = Browser(port)
    browser.login("anna")
    line = f"{CANARY} pogodba o dobavi opreme in vzdrževanju\n".encode()
    content = line * (BODY_MB * 1024 * 1024 // len(line))
    during, done = threading.Event(), threading.Event()
    leaks: list[str] = []
    scans = [0]

    def watch() -> None:
        # Poll the whole time the body travels and is filed, not only afterwards.
        while not done.is_set():
            leaks.extend(scan_for_canaries([home.path, spool], [CANARY]))
            leaks.extend(spooled_files(spool))
            leaks.extend(p for p in spooled_files(home.path) if "(deleted)" in p)
            if during.is_set():
                scans[0] += 1
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        page = browser.upload_slowly(f"{CANARY}.txt", content, "04.1", during)
    finally:
        done.set()
        watcher.join(timeout=60)
    assert re.search(r'<tr class="filed">', page), page[-2000:]
    assert scans[0] >= 1, "the disk was never searched while the upload was under way"
    assert sorted(set(leaks)) == []
    assert scan_for_canaries([home.path, spool], [CANARY]) == []
    assert not (home.path / "inbox" / ".web-upload").exists()
