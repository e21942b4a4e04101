"""Secrets a shell needs to unlock a home: the passphrase (settings, file or prompt) and the web's secret key."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click

from vault import VaultError
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
