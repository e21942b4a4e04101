"""`strongroom serve` and `strongroom demo` as a user runs them: real processes, real loopback HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import PASSPHRASE
from web.cli import cli

STRONGROOM = [sys.executable, "-c", "from web.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(proc: subprocess.Popen[str], marker: str, seconds: float = 60) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + seconds
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if marker in line:
            return lines
    raise AssertionError(f"{marker!r} never printed: {lines}")


def _status(url: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def test_serve_refuses_a_network_address_without_allow_remote(home_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(home_path), "serve", "--host", "0.0.0.0", "--no-watch"],
                                env={"STRONGROOM_PASSPHRASE": PASSPHRASE})
    assert result.exit_code == 2
    assert "--allow-remote" in result.output


def test_demo_creates_a_home_prints_the_login_once_and_serves(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("STRONGROOM_HOME", None)
    env.pop("STRONGROOM_PASSPHRASE", None)
    proc = subprocess.Popen([*STRONGROOM, "demo", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = _wait_for(proc, "Login:")
        text = "\n".join(lines)
        assert f"Strongroom is running at http://127.0.0.1:{port}" in text
        assert "Login: admin / " in text and "Passphrase (shown once" in text
        secret = tmp_path / "demo-home" / ".demo-passphrase"
        assert secret.stat().st_mode & 0o777 == 0o600
        assert _status(f"http://127.0.0.1:{port}/login") == 200
        assert _status(f"http://127.0.0.1:{port}/search") == 302
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    # the second run starts unattended from the saved passphrase and prints no secret again
    proc = subprocess.Popen([*STRONGROOM, "demo", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        text = "\n".join(_wait_for(proc, "Login:"))
        assert "Passphrase (shown once" not in text and "Login: admin / " not in text
        assert _status(f"http://127.0.0.1:{port}/login") == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
