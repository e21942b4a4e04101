"""Wiring: passphrases from the settings (prompt, env, file) and opening a home from the settings."""

from __future__ import annotations

import os
import secrets
import sys
import threading
from pathlib import Path

import click

from indexer.errors import IndexCorrupt, IndexerError
from indexer.extract.sandbox import SandboxedExtractor
from indexer.lookup import reconcile
from indexer.search import shared_index
from records.ports import Extractor, Ports, SearchIndex
from vault import Home, VaultError, open_home
from web.settings import Settings

SECRET_KEY_BYTES = 32


def passphrase_from(settings: Settings, prompt: bool = True, *, confirm: bool = False,
                    label: str = "Passphrase") -> str:
    """STRONGROOM_PASSPHRASE, else STRONGROOM_PASSPHRASE_FILE (restic's convention), else a prompt."""
    if settings.passphrase:
        return settings.passphrase
    if settings.passphrase_file is not None:
        return read_secret_file(settings.passphrase_file, "passphrase")
    if not prompt:
        raise VaultError("No passphrase was given: set STRONGROOM_PASSPHRASE or STRONGROOM_PASSPHRASE_FILE.")
    return ask_secret(label, "STRONGROOM_PASSPHRASE or STRONGROOM_PASSPHRASE_FILE", confirm=confirm)


def ask_secret(label: str, variables: str, *, confirm: bool = False) -> str:
    """Prompt for a secret on the terminal; with no terminal (cron, CI, a pipe), say what to set instead."""
    if not sys.stdin.isatty():
        raise VaultError(f"{label}: none was given and there is no terminal to ask on; set {variables}.")
    return str(click.prompt(label, hide_input=True, confirmation_prompt=confirm))


def read_secret_file(path: Path, what: str) -> str:
    """The first line of a secret file, without its line ending."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise VaultError(f"The {what} file {path} cannot be read ({exc.strerror}): check the path.") from None
    line = text.splitlines()[0] if text else ""
    if not line:
        raise VaultError(f"The {what} file {path} is empty: put the {what} on its first line.")
    return line


def open_from_settings(settings: Settings, *, actor: str = "system:cli", channel: str = "cli",
                       prompt: bool = True) -> Home:
    """Unlock the settings' home with its passphrase; the unlock is an audit entry by `actor`."""
    passphrase = passphrase_from(settings, prompt)
    home = open_home(settings.home, passphrase, actor=actor, channel=channel)
    shared_extractor(settings)  # fixes the sandbox limits from these settings; workers start on first use
    return home


def settings_from_cli(obj: dict[str, object] | None, **flags: object) -> Settings:
    """Settings for a CLI command: the group's --home (in ctx.obj) plus the command's own flags."""
    overrides: dict[str, object] = dict(flags)
    if obj and obj.get("home") and overrides.get("home") is None:
        overrides["home"] = obj["home"]
    return Settings.load(overrides)


def write_secret_key(settings: Settings) -> Path:
    """Create the Flask secret key file (mode 0600) unless it exists; returns its path."""
    path = settings.secret_key_path
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(SECRET_KEY_BYTES) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return path


def read_secret_key(settings: Settings) -> bytes:
    """The Flask secret key; refuses to run without one (never a built-in default)."""
    try:
        text = settings.secret_key_path.read_text().strip()
    except FileNotFoundError:
        raise VaultError(f"The web secret key {settings.secret_key_path} is missing: "
                         "run `strongroom init` or restore it from a backup.") from None
    return bytes.fromhex(text)


def search_index_of(home: Home) -> SearchIndex | None:
    """The home's sealed search index (<home>/index, created empty on first use, one per process).
    None when it is damaged: filing goes on (the index is derived) and `strongroom reindex` repairs it."""
    try:
        return shared_index(home.path / "index", home.index_key)
    except IndexCorrupt:
        return None


_extractor_lock = threading.Lock()
_extractor: SandboxedExtractor | None = None


def shared_extractor(settings: Settings | None = None) -> SandboxedExtractor:
    """The process's one sandboxed extraction pool (reused workers, ended at exit by its finalizer).
    The first call's settings fix the per-document timeout and the workers' memory limit."""
    global _extractor
    with _extractor_lock:
        if _extractor is None:
            chosen = settings or Settings()
            _extractor = SandboxedExtractor(workers=2, timeout_s=chosen.extract_timeout_seconds,
                                            memory_mb=chosen.extract_memory_mb)
        return _extractor


def ports_of(home: Home, extractor: Extractor | None = None) -> Ports:
    """The one place the shells (CLI, watcher, import, web) get their adapters from; without an
    `extractor` they share the sandboxed one."""
    extractor = extractor or shared_extractor()
    ports = Ports(blobs=home.blobs, catalog=home.catalog, signer=home.signer, extractor=extractor,
                  index=search_index_of(home), audit_hmac=home.audit_hmac)
    if ports.index is not None and home.index_check_pending():
        # A session died mid-write: its records may be unindexed, or disposed but still listed.
        try:
            reconcile(ports)
        except (IndexerError, VaultError, OSError):
            return ports  # still pending: the next command tries again; `reindex` also repairs
        home.index_checked()
    return ports
