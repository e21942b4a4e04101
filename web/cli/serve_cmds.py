"""`strongroom serve` (the web UI of a home, on loopback) and `strongroom demo` (a ready demo home)."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import secrets
import signal
import socket
from datetime import date
from pathlib import Path

import click
from flask import Flask
from waitress import create_server
from waitress.server import BaseWSGIServer

from records.filing import FilingRequest
from records.model import Confidentiality
from vault.errors import VaultError
from web.app import create_app
from web.cli.common import open_office
from web.cli.keys_cmds import init_home_from
from web.office import Office
from web.security import LOOPBACK_HOSTS
from web.settings import Settings

ACTOR = "system:web"
DEMO_DIR = "demo-home"
DEMO_PASSPHRASE_FILE = ".demo-passphrase"
DEMO_ADMIN = "admin"
THREADS = 8
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


def office_server(app: Flask, settings: Settings, *, host: str, port: int) -> BaseWSGIServer:
    """The waitress server `serve` runs (not started). Request bodies up to the upload limit stay in
    memory: waitress would otherwise spool a body over 512 KiB to a temporary file, and an upload's
    plaintext must never reach the disk."""
    in_memory = settings.max_upload_mb * 1024 * 1024 + (1 << 20)
    return create_server(app, host=host.strip("[]"), port=port, threads=THREADS, ident="Strongroom",
                         inbuf_overflow=in_memory, max_request_body_size=in_memory)


def run_server(office: Office, *, host: str, port: int, watch: bool, allow_remote: bool,
               banner: list[str] | None = None) -> None:
    """Serve the open home until Ctrl-C or SIGTERM; the drop-folder watcher runs alongside."""
    if not _is_loopback(host):
        if not allow_remote:
            raise click.UsageError(f"Binding {host} would expose the records to the network: "
                                   "use 127.0.0.1, or add --allow-remote behind TLS and a firewall.")
        click.echo("WARNING: Strongroom is reachable from the network. Put it behind TLS and a firewall.", err=True)
    allowed = LOOPBACK_HOSTS if _is_loopback(host) else (*LOOPBACK_HOSTS, host.lower(), socket.gethostname().lower())
    app = create_app(office, allowed_hosts=allowed)
    watcher = None
    if watch:
        try:
            watcher = office.start_watcher()
        except VaultError as exc:
            click.echo(f"The drop-folder watcher did not start: {exc}", err=True)
    office.start_capture()  # previews and OCR of filed scans, in the background
    server = office_server(app, office.settings, host=host, port=port)
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    click.echo(f"Strongroom is running at http://{shown}:{server.effective_port}")
    for line in banner or []:
        click.echo(line)
    if watcher is not None:
        click.echo(f"Drop folder: {office.path / 'inbox'} ({watcher.mode})")
    click.echo("Ctrl-C stops.")
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
        if watcher is not None:
            click.echo("Stopping the watcher after the file in hand...", err=True)
            watcher.stop()
    click.echo("Stopped.")


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8750).")
@click.option("--no-watch", is_flag=True, help="Do not file from the drop folders in this process.")
@click.option("--allow-remote", is_flag=True, help="Allow listening on a non-loopback address.")
@click.pass_obj
def serve(obj: dict[str, object], host: str | None, port: int | None, no_watch: bool, allow_remote: bool) -> None:
    """Unlock the home and serve the web UI on this computer."""
    with open_office(obj, actor=ACTOR, channel="web", host=host, port=port) as office:
        run_server(office, host=office.settings.host, port=office.settings.port, watch=not no_watch,
                   allow_remote=allow_remote)


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
