"""SIGTERM (systemd's stop, `kill`) ends `strongroom serve` cleanly: exit 0, "Stopped.", no traceback.
It used to close the server inside the signal handler, under the select() it interrupted: EBADF, exit 1."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.conftest import PASSPHRASE
from tests.web.test_serve_cmds import STRONGROOM, _free_port, _status, _wait_for
from web.unlock import write_secret_key
from web.settings import Settings


def test_sigterm_stops_an_idle_server_cleanly(home_path: Path) -> None:
    write_secret_key(Settings.load({"home": home_path}, environ={}))
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "STRONGROOM_PASSPHRASE": PASSPHRASE}
    proc = subprocess.Popen([*STRONGROOM, "--home", str(home_path), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(proc, "Ctrl-C stops.")
        assert _status(f"http://127.0.0.1:{port}/login") == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)

    assert "Traceback" not in out and "Bad file descriptor" not in out, out
    assert proc.returncode == 0, out
    assert out.rstrip().endswith("Stopped.")
