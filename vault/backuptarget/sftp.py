"""The SFTP adapter of the backup-target port (an OpenSSH server, a NAS), through paramiko.

The server's host key must already be in the known_hosts file the settings name: an unknown or
changed key is refused, never accepted silently. Each file is written under a temp name in its
folder and renamed over the final name (OpenSSH's posix-rename), so a name never holds a part.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import paramiko

from vault.atomicfile import TEMP_PREFIX
from vault.backuptarget.errors import TargetError, TargetUnreachable
from vault.backuptarget.port import TargetOptions

_READ = 256 * 1024
# sftp:user@host:/abs or sftp:user@host:rel (restic's scp-like form, port 22);
# sftp://user@host:port//abs or sftp://user@host:port/rel (restic's URL form).
_SCP = re.compile(r"^sftp:(?:(?P<user>[^@/:]+)@)?(?P<host>\[[^\]]+\]|[^:/@\[]+):(?P<path>.+)$")
_URL = re.compile(r"^sftp://(?:(?P<user>[^@/:]+)@)?(?P<host>\[[^\]]+\]|[^:/@\[]+)(?::(?P<port>\d+))?/(?P<path>.+)$")


@dataclass(frozen=True, slots=True)
class SftpAddress:
    user: str | None
    host: str
    port: int
    path: str  # absolute, or relative to the login folder

    @classmethod
    def parse(cls, spec: str) -> SftpAddress:
        found = _URL.match(spec) or _SCP.match(spec)
        port = int(found["port"] or 22) if found and "port" in found.groupdict() else 22
        path = found["path"].rstrip("/") if found else ""
        if not found or not path or not 0 < port < 65536 or any(p == ".." for p in path.split("/")):
            raise TargetError(f"{spec} is not an SFTP target: write sftp:USER@HOST:/PATH, or "
                              "sftp://USER@HOST:PORT//PATH for another port than 22.")
        return cls(user=found["user"], host=found["host"].strip("[]"), port=port, path=path)

    def __str__(self) -> str:
        who = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == 22:
            return f"sftp:{who}{host}:{self.path}"
        return f"sftp://{who}{host}:{self.port}/{self.path}"


class SftpTarget:
    """A folder on an SFTP server."""

    def __init__(self, address: SftpAddress, client: paramiko.SSHClient, sftp: paramiko.SFTPClient) -> None:
        self.address = address
        self.location = str(address)
        self._client = client
        self._sftp = sftp
        self._folders: set[str] = set()

    @classmethod
    def open(cls, spec: str, options: TargetOptions, *, create: bool) -> SftpTarget:
        address = SftpAddress.parse(spec)
        client = _connect(address, options)
        try:
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(options.timeout_seconds)
            target = cls(address, client, sftp)
            with target._calls("open the backup folder"):
                if create:
                    target._make_folders(address.path)
                elif not target._is_folder(address.path):
                    raise TargetError(f"{address} does not exist: check the target's path.")
        except BaseException:
            client.close()
            raise
        return target

    def list(self) -> dict[str, int]:
        found: dict[str, int] = {}
        with self._calls("list the backup"):
            self._walk("", found)
        return found

    def stat(self, name: str) -> int | None:
        with self._calls(f"look at {name}"):
            try:
                return int(self._sftp.stat(self._path(name)).st_size or 0)
            except FileNotFoundError:
                return None

    def put(self, name: str, source: BinaryIO) -> None:
        final = self._path(name)
        folder = final.rpartition("/")[0]
        temp = f"{folder}/{TEMP_PREFIX}{secrets.token_hex(8)}"
        with self._calls(f"upload {name}"):
            self._make_folders(folder)
            try:
                with self._sftp.open(temp, "wb") as sink:
                    sink.set_pipelined(True)  # don't wait for each write's acknowledgement
                    while block := source.read(_READ):
                        sink.write(block)
                self._sftp.chmod(temp, 0o600)
                self._sftp.posix_rename(temp, final)
            except BaseException:
                with contextlib.suppress(Exception):
                    self._sftp.remove(temp)
                raise

    @contextmanager
    def get(self, name: str) -> Iterator[BinaryIO]:
        with self._calls(f"download {name}"):
            handle = self._sftp.open(self._path(name), "rb")
            try:
                handle.prefetch()
                yield cast(BinaryIO, handle)
            finally:
                handle.close()

    def delete(self, name: str) -> bool:
        with self._calls(f"delete {name}"):
            try:
                self._sftp.remove(self._path(name))
            except FileNotFoundError:
                return False
        return True

    def clean_leftovers(self) -> int:
        removed = 0
        with self._calls("tidy unfinished uploads"):
            leftovers: dict[str, int] = {}
            self._walk("", leftovers, temps=True)
            for name in leftovers:
                self._sftp.remove(self._path(name))
                removed += 1
        return removed

    def close(self) -> None:
        self._sftp.close()
        self._client.close()

    # ---- inside ---------------------------------------------------------------------------------

    def _path(self, name: str) -> str:
        if not name or any(p in ("", ".", "..") for p in name.split("/")):
            raise ValueError(f"not a backup name: {name!r}")
        return f"{self.address.path}/{name}"

    def _walk(self, relative: str, found: dict[str, int], *, temps: bool = False) -> None:
        folder = f"{self.address.path}/{relative}".rstrip("/")
        try:
            entries = self._sftp.listdir_attr(folder)
        except FileNotFoundError:
            return
        for entry in sorted(entries, key=lambda e: e.filename):
            name = f"{relative}{entry.filename}"
            if stat.S_ISDIR(entry.st_mode or 0):
                self._walk(name + "/", found, temps=temps)
            elif entry.filename.startswith(TEMP_PREFIX) == temps:
                found[name] = int(entry.st_size or 0)

    def _is_folder(self, path: str) -> bool:
        try:
            return stat.S_ISDIR(self._sftp.stat(path).st_mode or 0)
        except FileNotFoundError:
            return False

    def _make_folders(self, path: str) -> None:
        if path in self._folders:
            return
        if not self._is_folder(path):
            parent = path.rpartition("/")[0]
            if parent and parent != path:
                self._make_folders(parent)
            with contextlib.suppress(OSError):  # made meanwhile, or a folder we may not list
                self._sftp.mkdir(path, mode=0o700)
        self._folders.add(path)

    @contextmanager
    def _calls(self, doing: str) -> Iterator[None]:
        """paramiko's errors as one sentence naming the target."""
        try:
            yield
        except PermissionError:
            raise TargetError(f"The SFTP server {self.address.host} refused to {doing} (permission denied): "
                              "check the folder's rights.") from None
        except (paramiko.SSHException, EOFError, TimeoutError, ConnectionError) as exc:
            raise TargetUnreachable(f"The SFTP connection to {self.address.host} broke off while trying to "
                                    f"{doing} ({type(exc).__name__}): try again.") from None


def _connect(address: SftpAddress, options: TargetOptions) -> paramiko.SSHClient:
    known = options.sftp_known_hosts or Path.home() / ".ssh" / "known_hosts"
    client = paramiko.SSHClient()
    try:
        client.load_host_keys(str(known))
    except FileNotFoundError:
        raise TargetError(f"The known_hosts file {known} does not exist: add the server's host key to it "
                          f"(ssh-keyscan -p {address.port} {address.host}, checked against the server) or set "
                          "sftp_known_hosts.") from None
    client.set_missing_host_key_policy(_Refuse(known))
    try:
        client.connect(address.host, port=address.port, username=address.user,
                       key_filename=str(options.sftp_key_file) if options.sftp_key_file else None,
                       allow_agent=options.sftp_use_agent, look_for_keys=False,
                       timeout=options.timeout_seconds, banner_timeout=options.timeout_seconds,
                       auth_timeout=options.timeout_seconds)
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise TargetError(f"The SFTP server {address.host} presented another host key than {known} holds "
                          f"({_fingerprint(exc.key)}): nothing was sent; if the server's key really changed, "
                          "replace its line in known_hosts after checking it.") from None
    except _UnknownHost as exc:
        client.close()
        raise TargetError(str(exc)) from None
    except paramiko.AuthenticationException:
        client.close()
        raise TargetError(f"The SFTP server {address.host} refused the login of {address.user or 'this user'}: "
                          "check the key file (sftp_key_file) or the SSH agent.") from None
    except (OSError, paramiko.SSHException, EOFError) as exc:
        client.close()
        raise TargetUnreachable(f"The SFTP server {address.host}:{address.port} did not answer "
                                f"({type(exc).__name__}): check that it runs and the address is right.") from None
    return client


class _UnknownHost(paramiko.SSHException):  # type: ignore[misc]
    pass


class _Refuse(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]
    """Refuse a server whose key known_hosts lacks, naming its fingerprint so the user can check it."""

    def __init__(self, known: Path) -> None:
        self._known = known

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise _UnknownHost(f"The SFTP server {hostname} is not in {self._known} (it offers {_fingerprint(key)}): "
                           "nothing was sent; check that fingerprint with the server's administrator and add "
                           "the key to known_hosts.")


def _fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return f"{key.get_name()} SHA256:{base64.b64encode(digest).decode().rstrip('=')}"
