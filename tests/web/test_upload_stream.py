"""A browser upload goes from the request into the sealed store without touching the disk in plaintext:
a real server (built as `serve` builds it: waitress, and cheroot for `serve --tls`) receives a large
upload slowly while the home and $TMPDIR are searched for its canary word, and the server's open files
for a spooled body."""

from __future__ import annotations

import http.client
import os
import re
import socket
import ssl
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import scan_for_canaries
from tests.web.conftest import PASSWORD, add_users
from vault import Home
from web.app import create_app
from web.certificates import issue
from web.cli.serve_cmds import office_server
from web.office import Office
from web.settings import Settings

CANARY = "Kvarkadabrakanarcek"
BODY_MB = 24  # far above waitress's 512 KiB spooling threshold and werkzeug's 500 KB one


Connect = Callable[[float], http.client.HTTPConnection]


class Browser:
    """Just enough of a browser: a cookie, a CSRF token, a multipart upload sent in slow pieces.
    `connect` opens a connection (plain HTTP to 127.0.0.1 unless given), `host` is the Host header;
    the raw Set-Cookie lines and the headers of the last response are kept for inspection."""

    def __init__(self, port: int, *, host: str = "127.0.0.1", connect: Connect | None = None) -> None:
        self.port = port
        self.host = host
        self.connect: Connect = connect or (lambda timeout: http.client.HTTPConnection("127.0.0.1", port,
                                                                                       timeout=timeout))
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []
        self.headers: http.client.HTTPMessage | None = None

    @property
    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str]:
        conn = self.connect(120)
        try:
            conn.request(method, path, body=body, headers={"Host": self.host, "Cookie": self.cookie,
                                                           **(headers or {})})
            response = conn.getresponse()
            data = response.read().decode("utf-8", "replace")
            self.headers = response.msg
            self.set_cookies.extend(response.msg.get_all("Set-Cookie") or [])
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
        conn = self.connect(300)
        try:
            conn.putrequest("POST", "/upload", skip_host=True)
            for key, value in (("Host", self.host), ("Cookie", self.cookie),
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


def trusting(ca: Path, port: int, name: str = "127.0.0.1") -> Connect:
    """Connections that trust only the office CA `ca` and verify the server as `name` (reached on loopback)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # no default trust store: only the office CA
    context.load_verify_locations(cafile=str(ca))

    class Pinned(http.client.HTTPSConnection):
        def connect(self) -> None:
            raw = socket.create_connection(("127.0.0.1", port), self.timeout)
            self.sock = context.wrap_socket(raw, server_hostname=name)

    return lambda timeout: Pinned(name, port, timeout=timeout, context=context)


@pytest.fixture(params=["waitress", "cheroot-tls"])
def server(request: pytest.FixtureRequest, home: Home, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Browser, Path]]:
    spool = tmp_path / "tmpdir"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))
    monkeypatch.setattr(tempfile, "tempdir", str(spool))  # where waitress or werkzeug would spool a body
    add_users(home)
    settings = Settings.load({"home": home.path}, environ={})
    made = issue(home.path, ["office.test"], [], now=datetime.now(UTC)) if request.param == "cheroot-tls" else None
    app = create_app(Office(home, settings), secret_key=b"stream-test-secret-key-0123456789", tls=made is not None)
    srv = office_server(app, settings, host="127.0.0.1", port=0, tls=made.server if made else None)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    port = srv.effective_port
    try:
        yield Browser(port, connect=trusting(made.ca_pem, port) if made else None), spool
    finally:
        srv.close()
        thread.join(timeout=10)


def test_a_large_upload_never_reaches_the_disk_in_plaintext(server: tuple[Browser, Path], home: Home) -> None:
    browser, spool = server
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
