"""`strongroom serve` (the web UI of a home, on loopback) and `strongroom demo` (a ready demo home)."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import secrets
import signal
import socket
import ssl
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

import click
from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from flask import Flask
from waitress import create_server

from records.filing import FilingRequest
from records.model import Confidentiality
from vault import BackupScheduler, parse_clock
from vault.errors import VaultError
from web.app import create_app
from web.certificates import CertificateError, TlsFiles, default_files, served_by
from web.cli.common import settings_of
from web.cli.backup_cmds import scheduled_backups
from web.cli.keys_cmds import init_home_from
from web.office import Office
from web.security import LOOPBACK_HOSTS
from web.settings import Settings

ACTOR = "system:web"
DEMO_DIR = "demo-home"
DEMO_PASSPHRASE_FILE = ".demo-passphrase"
DEMO_ADMIN = "admin"
THREADS = 8
SWITCH_INTERVAL = 0.001  # seconds; see run_server
MAX_HEADER_BYTES = 256 * 1024  # waitress's own default; cheroot's is unlimited
SOCKET_TIMEOUT = 30  # seconds a TLS connection may stay silent between requests or reads
# cheroot shakes hands in the thread that accepts connections (cherrypy/cheroot#748): a client that
# connects and says nothing holds up every other connection for this long, not SOCKET_TIMEOUT.
HANDSHAKE_TIMEOUT = 5
# (class, name, title, principal, confidentiality, text): a little of each language so search has matter
DEMO_DOCUMENTS = (
    ("03.1", "pogodba-vzdrzevanje.txt", "Pogodba o vzdrževanju opreme", "Podjetje d.o.o.", None,
     "Pogodba o vzdrževanju računalniške opreme med Podjetje d.o.o. in Servis Šoštanj d.o.o. "
     "Odpovedni rok je trideset dni. Pogodba velja do 31. 12. 2027."),
    ("00.2", "skupscina-2026.txt", "Zapisnik skupščine 2026", "Podjetje d.o.o.", None,
     "Zapisnik redne skupščine družbe. Sklep: dobiček se razporedi v rezerve. Prisotni družbeniki."),
    ("00.4", "juhatuse-otsus.txt", "Juhatuse otsus nr 7", "Ettevõte OÜ", None,
     "Juhatuse koosoleku protokoll. Otsustati sõlmida üürileping ja kinnitada eelarve."),
    ("04.1", "kiri-tarnijale.txt", "Kiri tarnijale arve kohta", "Ettevõte OÜ", None,
     "Lugupeetud tarnija, palume saata parandatud arve. Lugupidamisega, juhatus."),
    ("04.1", "letter-auditor.txt", "Letter to the auditor", "Example Ltd", None,
     "Dear auditor, please find enclosed the annual report and the board minutes for review."),
    ("02.1", "employment-contract.txt", "Employment contract (confidential)", "Example Ltd", "confidential",
     "Employment contract between Example Ltd and the employee. Salary and notice period."),
)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _free_port(host: str, start: int) -> int:
    for port in range(start, start + 50):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            try:
                s.bind((host.strip("[]"), port))
            except OSError:
                continue
            return port
    raise click.ClickException(f"No free port from {start} to {start + 49}: stop another server or pass --port.")


def _stop(_signum: int, _frame: object) -> None:
    # Unwind like Ctrl-C; `finally` closes the server. Closing it here closed the sockets under the
    # select() the signal interrupted, which Python retries: EBADF, exit 1 and a traceback.
    raise KeyboardInterrupt


class OfficeServer(Protocol):
    """What `serve` needs of a server: its port, run until closed, close."""

    @property
    def effective_port(self) -> int: ...

    def run(self) -> None: ...

    def close(self) -> None: ...


class _QuietCheroot(wsgi.Server):
    """cheroot's server, logging like waitress does: to a logger (`cheroot`), not straight to stderr."""

    def error_log(self, msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
        logging.getLogger("cheroot").log(level, "%s", msg, exc_info=traceback and level >= logging.ERROR)


class _OfficeTlsAdapter(BuiltinSSLAdapter):
    """cheroot's builtin adapter with a short handshake timeout (cheroot restores SOCKET_TIMEOUT after)."""

    def wrap(self, sock: Any) -> Any:
        sock.settimeout(HANDSHAKE_TIMEOUT)
        return super().wrap(sock)  # type: ignore[no-untyped-call]


class TlsServer:
    """cheroot with its builtin TLS adapter (Python's `ssl`): `serve --tls`. A request body is read from
    the socket as the app asks for it and is never spooled to a file."""

    def __init__(self, app: Flask, files: TlsFiles, *, host: str, port: int, body_limit: int) -> None:
        try:
            adapter = _OfficeTlsAdapter(str(files.cert), str(files.key))
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc.__class__.__name__
            raise CertificateError(f"The certificate {files.cert} and key {files.key} cannot be used ({reason}): "
                                   "check that the key belongs to the certificate, or run `strongroom tls init`."
                                   ) from None
        adapter.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._server = _QuietCheroot((host, port), app, numthreads=THREADS, server_name="Strongroom",
                                     timeout=SOCKET_TIMEOUT)
        self._server.max_request_body_size = body_limit
        self._server.max_request_header_size = MAX_HEADER_BYTES
        self._server.ssl_adapter = adapter
        self._server.prepare()  # binds now, like waitress's create_server

    @property
    def effective_port(self) -> int:
        return int(self._server.bind_addr[1])

    def run(self) -> None:
        self._server.serve()

    def close(self) -> None:
        self._server.stop()


def office_server(app: Flask, settings: Settings, *, host: str, port: int,
                  tls: TlsFiles | None = None) -> OfficeServer:
    """The server `serve` runs (bound, not started): waitress on plain HTTP, cheroot with `tls`.
    Request bodies up to the upload limit stay in memory: waitress would otherwise spool a body over
    512 KiB to a temporary file, and an upload's plaintext must never reach the disk."""
    in_memory = settings.max_upload_mb * 1024 * 1024 + (1 << 20)
    try:
        if tls is not None:
            return TlsServer(app, tls, host=host.strip("[]"), port=port, body_limit=in_memory)
        server: OfficeServer = create_server(app, host=host.strip("[]"), port=port, threads=THREADS,
                                             ident="Strongroom", inbuf_overflow=in_memory,
                                             max_request_body_size=in_memory)
    except OSError as exc:
        reason = "another program uses it" if "in use" in str(exc) else str(exc)
        raise click.ClickException(f"Strongroom cannot listen on {host} port {port} ({reason}): stop the other "
                                   "program or pass another --port.") from None
    return server


def check_exposure(host: str, *, allow_remote: bool, tls: bool) -> None:
    """Refuse to serve the records to the network unless asked to, and never without TLS."""
    if _is_loopback(host):
        return
    if not allow_remote:
        raise click.UsageError(f"Binding {host} would expose the records to the network: use 127.0.0.1, "
                               "or add --allow-remote --tls (see docs/office-server.md).")
    if not tls:
        raise click.UsageError(f"Serving {host} without TLS would send passwords and documents across the network "
                               "readable by anyone on it: add --tls (after `strongroom tls init` once), or use "
                               "127.0.0.1.")


def run_server(office: Office, *, host: str, port: int, watch: bool, allow_remote: bool,
               tls: TlsFiles | None = None, banner: list[str] | None = None) -> None:
    """Serve the open home until Ctrl-C or SIGTERM; the drop-folder watcher runs alongside."""
    check_exposure(host, allow_remote=allow_remote, tls=tls is not None)
    allowed = LOOPBACK_HOSTS if _is_loopback(host) else (*LOOPBACK_HOSTS, host.lower(), socket.gethostname().lower())
    served = served_by(tls.cert) if tls is not None else None
    if served is not None:
        allowed = (*allowed, *served.hosts)  # the names a browser can reach it by without a warning
    app = create_app(office, allowed_hosts=allowed, tls=tls is not None)
    server = office_server(app, office.settings, host=host, port=port, tls=tls)
    watcher = None
    if watch:
        try:
            watcher = office.start_watcher()
        except VaultError as exc:
            click.echo(f"The drop-folder watcher did not start: {exc}", err=True)
    schedule = None
    if office.settings.backup_at:  # nightly backups in a background thread (one lock with disposition)
        schedule = BackupScheduler(parse_clock(office.settings.backup_at),
                                   scheduled_backups(office, echo=lambda line: click.echo(line, err=True)),
                                   now=lambda: datetime.now().astimezone(),
                                   quiet_seconds=office.settings.backup_quiet_minutes * 60,
                                   idle_for=office.idle_seconds).start()
    office.start_capture()  # previews and OCR of filed scans, in the background
    office.search_ports()  # the search workers start warming now, not on the first search
    # A request thread waiting on a socket or a search worker's pipe gets the GIL back only when the
    # thread holding it (a Whoosh commit, a preview) hands it over, every switch interval (5 ms by
    # default), and a search takes several such turns: one commit stalled every search in flight.
    sys.setswitchinterval(SWITCH_INTERVAL)
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    scheme = "https" if tls is not None else "http"
    click.echo(f"Strongroom is running at {scheme}://{shown}:{server.effective_port}")
    if served is not None:
        click.echo(f"TLS certificate {tls.cert if tls else ''} for {', '.join(served.hosts)}, "
                   f"valid until {served.not_after:%Y-%m-%d}")
    for line in banner or []:
        click.echo(line)
    if watcher is not None:
        click.echo(f"Drop folder: {office.path / 'inbox'} ({watcher.mode})")
    if schedule is not None:
        click.echo(f"Backups at {office.settings.backup_at} to {', '.join(office.settings.backup_targets)}")
    click.echo("Ctrl-C stops.")
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
        if schedule is not None:
            schedule.stop()  # a backup in progress finishes first
        if watcher is not None:
            click.echo("Stopping the watcher after the file in hand...", err=True)
            watcher.stop()
    click.echo("Stopped.")


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8750).")
@click.option("--no-watch", is_flag=True, help="Do not file from the drop folders in this process.")
@click.option("--allow-remote", is_flag=True, help="Allow listening on a non-loopback address (needs --tls).")
@click.option("--tls", is_flag=True, help="Serve HTTPS with the certificate of `strongroom tls init`.")
@click.option("--cert", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The office's own server certificate (PEM; implies --tls).")
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The private key of --cert (PEM).")
@click.pass_obj
def serve(obj: dict[str, object], host: str | None, port: int | None, no_watch: bool, allow_remote: bool,
          tls: bool, cert: Path | None, key: Path | None) -> None:
    """Unlock the home and serve the web UI on this computer."""
    settings = settings_of(obj, host=host, port=port)
    files = _tls_files(settings, tls=tls, cert=cert, key=key)
    check_exposure(settings.host, allow_remote=allow_remote, tls=files is not None)  # before the passphrase
    with Office.open(settings, actor=ACTOR, channel="web") as office:
        run_server(office, host=settings.host, port=settings.port, watch=not no_watch,
                   allow_remote=allow_remote, tls=files)


def _tls_files(settings: Settings, *, tls: bool, cert: Path | None, key: Path | None) -> TlsFiles | None:
    if (cert is None) != (key is None):
        raise click.UsageError("--cert and --key go together: give both, or neither to use `strongroom tls init`'s.")
    if cert is not None and key is not None:
        return TlsFiles(cert, key)
    if not tls:
        return None
    files = default_files(settings.home)
    if not files.cert.exists() or not files.key.exists():
        raise CertificateError(f"There is no server certificate in {files.cert.parent}: run `strongroom tls init` "
                               "once, or give --cert and --key.")
    return files


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")


def _file_demo_documents(office: Office) -> int:
    filed = 0
    for code, name, title, principal, level, text in DEMO_DOCUMENTS:
        outcome = office.file(text.encode("utf-8"), FilingRequest(  # from memory: nothing on disk
            original_name=name, record_class=code, principal=principal, title=title,
            confidentiality=Confidentiality(level) if level else None, document_date=date(2026, 3, 2),
            actor=ACTOR, channel="web"))
        filed += outcome.status == "filed"
    return filed


@click.command()
@click.option("--port", type=int, default=None, help="Port (default 8750 or the next free one).")
def demo(port: int | None) -> None:
    """Create ./demo-home on the first run (secrets printed once), then serve it with the watcher.

    It never follows the shell to the user's own home: the STRONGROOM_* variables that pick a home,
    a secret or a place to write are ignored, and one line says which.
    """
    path = Path.cwd() / DEMO_DIR
    secret_file = path / DEMO_PASSPHRASE_FILE
    settings, ignored = Settings.load_apart({"home": path, "port": port})
    if ignored:
        click.echo(f"The demo ignores {', '.join(ignored)}: it always uses its own home and passphrase.", err=True)
    banner: list[str] = []
    if not path.exists():
        passphrase = secrets.token_urlsafe(18)
        password = secrets.token_urlsafe(12)
        init_home_from(dataclasses.replace(settings, passphrase=passphrase, admin_password=password),
                       admin=DEMO_ADMIN)
        _write_private(secret_file, passphrase)
        with Office.open(dataclasses.replace(settings, passphrase=passphrase), actor=ACTOR, channel="web") as office:
            filed = _file_demo_documents(office)
        click.echo(f"\nDemo home created with {filed} demo documents.")
        click.echo(f"Passphrase (shown once; saved to {secret_file}): {passphrase}")
        banner.append(f"Login: {DEMO_ADMIN} / {password}   (shown once: write it down)")
    else:
        banner.append(f"Login: {DEMO_ADMIN} (the password was printed on the first run)")
    if not secret_file.exists():
        raise click.ClickException(f"{secret_file} is missing: use `strongroom --home {path} serve` instead.")
    settings = dataclasses.replace(settings, passphrase_file=secret_file)
    with Office.open(settings, actor=ACTOR, channel="web") as office:
        chosen = settings.port if port else _free_port(settings.host, settings.port)
        run_server(office, host=settings.host, port=chosen, watch=True, allow_remote=False, banner=banner)


COMMANDS = (serve, demo)
