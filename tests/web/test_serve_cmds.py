"""`strongroom serve` and `strongroom demo` as a user runs them: real processes, real loopback HTTP."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import PASSPHRASE
from web.cli import cli

STRONGROOM = [sys.executable, "-c", "from web.cli import main; main()"]
CONSOLE_SCRIPT = Path(sys.executable).parent / "strongroom"  # what `make run` runs: .venv/bin/strongroom demo
OTHER_PASSPHRASE = "the other home's own passphrase"


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


def _wait_until_served(url: str, proc: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the demo exited with {proc.returncode}"
        try:
            if _status(url) == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} never answered 200")


def _snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every file and folder under root: mode, size, mtime, ctime and (files) the SHA-256 of the bytes."""
    out: dict[str, tuple[object, ...]] = {}
    for path in [root, *sorted(root.rglob("*"))]:
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        out[str(path.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, digest)
    return out


def _env_without_strongroom() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def test_serve_refuses_a_network_address_without_allow_remote(home_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--home", str(home_path), "serve", "--host", "0.0.0.0", "--no-watch"],
                                env={"STRONGROOM_PASSPHRASE": PASSPHRASE})
    assert result.exit_code == 2
    assert "--allow-remote" in result.output


def test_demo_creates_a_home_prints_the_login_once_and_serves(tmp_path: Path) -> None:
    port = _free_port()
    env = _env_without_strongroom()
    proc = subprocess.Popen([*STRONGROOM, "demo", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = _wait_for(proc, "Login:")
        text = "\n".join(lines)
        assert f"Strongroom is running at http://127.0.0.1:{port}" in text
        assert "Login: admin / " in text and "Passphrase (shown once" in text
        assert "The demo ignores" not in text  # no notice when no STRONGROOM_* variable is set
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


@pytest.mark.parametrize("secret", ["passphrase", "passphrase_file"])
def test_demo_ignores_the_users_home_and_passphrase_and_leaves_that_home_untouched(
        tmp_path: Path, secret: str) -> None:
    other = tmp_path / "my-real-home"
    env = _env_without_strongroom()
    created = subprocess.run([str(CONSOLE_SCRIPT), "--home", str(other), "init"], capture_output=True, text=True,
                             env={**env, "STRONGROOM_PASSPHRASE": OTHER_PASSPHRASE}, timeout=120)
    assert created.returncode == 0, created.stderr
    (tmp_path / "passphrase.txt").write_text(OTHER_PASSPHRASE + "\n")
    if secret == "passphrase":
        shell = {"STRONGROOM_HOME": str(other), "STRONGROOM_PASSPHRASE": OTHER_PASSPHRASE,
                 "STRONGROOM_ADMIN_PASSWORD": "my-real-admin-password"}
    else:  # restic's convention, and the user's plan and web key, which the demo must neither read nor write
        shell = {"STRONGROOM_HOME": str(other), "STRONGROOM_PASSPHRASE_FILE": str(tmp_path / "passphrase.txt"),
                 "STRONGROOM_PLAN": str(other / "plan.toml"), "STRONGROOM_SECRET_KEY_FILE": str(other / "web.key")}
    before = _snapshot(other)
    work = tmp_path / "clone"
    work.mkdir()
    port = _free_port()
    proc = subprocess.Popen([str(CONSOLE_SCRIPT), "demo", "--port", str(port)], cwd=work, env={**env, **shell},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = _wait_for(proc, "Ctrl-C stops.")
        _wait_until_served(f"http://127.0.0.1:{port}/login", proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert _snapshot(other) == before
    assert (work / "demo-home" / ".demo-passphrase").exists()
    notices = [line for line in lines if line.startswith("The demo ignores")]
    assert notices == [f"The demo ignores {', '.join(sorted(shell))}: it always uses its own home and passphrase."]
