"""Settings: one frozen value built once from defaults, <home>/strongroom.toml, STRONGROOM_* and flags.

Nothing else in Strongroom reads the environment: everything it needs is a field here.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault.errors import VaultError

SETTINGS_FILE = "strongroom.toml"
_MONTH_DAY = re.compile(r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
ENV_PREFIX = "STRONGROOM_"
JURISDICTIONS = ("SI", "EE", "SI+EE")
LANGUAGES = ("sl", "et", "en")
# Secrets may come from the environment or flags, never from strongroom.toml (it is not secret).
_SECRET_FIELDS = frozenset({"passphrase", "passphrase_file", "admin_password", "user_password",
                            "s3_access_key_id", "s3_secret_access_key"})
# A home kept apart from the user's (the demo) takes none of these from the environment: they pick a
# home, a secret, or a place outside the home that Strongroom reads or writes.
_PLACE_AND_SECRET_FIELDS = frozenset({"home", "plan_path", "secret_key_file"}) | _SECRET_FIELDS
_ENV_NAMES = {"plan_path": "PLAN"}  # fields whose variable is not simply the upper-case name
# restic's (and every S3 tool's) variables, read when the STRONGROOM_* one is unset.
_ENV_FALLBACKS = {"s3_access_key_id": "AWS_ACCESS_KEY_ID", "s3_secret_access_key": "AWS_SECRET_ACCESS_KEY",
                  "s3_region": "AWS_DEFAULT_REGION"}
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MAX_QUIET_MINUTES = 240  # a busy night still gets its backup within four hours of backup_at


class SettingsError(VaultError):
    """strongroom.toml or a STRONGROOM_* variable holds a value Strongroom cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path = field(default_factory=lambda: Path.home() / "strongroom")
    host: str = "127.0.0.1"
    port: int = 8750
    language: str = "en"  # default UI language: sl | et | en
    jurisdiction: str = "SI"  # SI | EE | SI+EE (the longer retention period wins)
    require_second_approver: bool = True  # destruction needs a second person's approval (sealed)
    stability_seconds: float = 2.0  # a dropped file must stay unchanged this long before filing
    network_stability_seconds: float = 30.0  # the same on network shares (no close-write events)
    rescan_seconds: float = 300.0  # full inbox scan interval, the truth behind watcher events
    plan_path: Path | None = None  # None: <home>/plan.toml
    secret_key_file: Path | None = None  # None: <home>/flask-secret.key
    idle_lock_minutes: int = 15  # web sessions end after this much inactivity
    login_attempts_per_minute: int = 5
    backup_keep_days: int = 30  # every backup is refreshed or wiped within this many days (sealed)
    financial_year_end: str = "12-31"  # MM-DD the financial year ends on (sealed on the first open)
    extract_timeout_seconds: float = 60.0  # per document, in the sandboxed worker
    extract_memory_mb: int = 512  # address-space limit of the extraction worker
    max_upload_mb: int = 200  # largest document accepted by upload or drop folder
    ocr_page_seconds: int = 60  # processor time tesseract may spend on one scanned page
    capture_jobs: int = 1  # documents OCRed at the same time (each runs one tesseract thread)
    passphrase: str | None = field(default=None, repr=False)  # STRONGROOM_PASSPHRASE
    passphrase_file: Path | None = None  # STRONGROOM_PASSPHRASE_FILE
    admin_password: str | None = field(default=None, repr=False)  # STRONGROOM_ADMIN_PASSWORD
    user_password: str | None = field(default=None, repr=False)  # STRONGROOM_USER_PASSWORD
    backup_targets: tuple[str, ...] = ()  # where `serve` backs up on schedule (folders, s3:..., sftp:...)
    backup_at: str | None = None  # "HH:MM" local time of the nightly backup run by `serve`; None: none
    s3_region: str = "us-east-1"  # AWS_DEFAULT_REGION
    s3_access_key_id: str | None = field(default=None, repr=False)  # AWS_ACCESS_KEY_ID
    s3_secret_access_key: str | None = field(default=None, repr=False)  # AWS_SECRET_ACCESS_KEY
    sftp_known_hosts: Path | None = None  # None: ~/.ssh/known_hosts; unknown host keys are refused
    sftp_key_file: Path | None = None  # private key for SFTP logins (else the SSH agent)
    sftp_use_agent: bool = True  # also offer the SSH agent's keys
    backup_quiet_minutes: int = 20  # the nightly backup waits for this long without filing or requests
    objects: str = ""  # where sealed objects live: "" for <home>/objects/, or s3:http://HOST:PORT/BUCKET/PREFIX
    object_cache: Path | None = None  # None: <home>/object-cache (sealed bytes of a bucket's objects)
    object_cache_mb: int = 2048  # the local read cache of a bucket's objects stays below this size

    @property
    def plan_file(self) -> Path:
        return self.plan_path or self.home / "plan.toml"

    @property
    def secret_key_path(self) -> Path:
        return self.secret_key_file or self.home / "flask-secret.key"

    @property
    def settings_file(self) -> Path:
        return self.home / SETTINGS_FILE

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None,
             environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults < <home>/strongroom.toml < STRONGROOM_* < `overrides` (CLI flags; None = unset)."""
        env = os.environ if environ is None else environ
        flags = {k: v for k, v in (overrides or {}).items() if v is not None}
        unknown = set(flags) - set(_FIELDS)
        if unknown:
            raise TypeError(f"unknown settings {sorted(unknown)}")
        from_env = {name: raw for name in _FIELDS if (raw := _from_env(env, name)) not in (None, "")}
        home_raw = flags.get("home") or from_env.get("home") or cls().home
        home = Path(str(home_raw)).expanduser()
        values: dict[str, Any] = {}
        values.update(_from_toml(home / SETTINGS_FILE))
        values.update({name: _coerce(name, raw, _env_name(name)) for name, raw in from_env.items()})
        values.update({name: _coerce(name, raw, f"--{name.replace('_', '-')}") for name, raw in flags.items()})
        values["home"] = home
        settings = cls(**values)
        settings.check()
        return settings

    @classmethod
    def load_apart(cls, overrides: Mapping[str, Any] | None = None,
                   environ: Mapping[str, str] | None = None) -> tuple[Settings, list[str]]:
        """`load`, ignoring the STRONGROOM_* variables that pick a home, a secret or a place to write
        (for the demo, which must never touch the user's home); returns the settings and those ignored."""
        env = os.environ if environ is None else environ
        names = [*map(_env_name, _PLACE_AND_SECRET_FIELDS),
                 *(_ENV_FALLBACKS[f] for f in _PLACE_AND_SECRET_FIELDS if f in _ENV_FALLBACKS)]
        ignored = sorted(name for name in names if env.get(name) not in (None, ""))
        kept = {name: value for name, value in env.items() if name not in ignored}
        return cls.load(overrides, environ=kept), ignored

    def file_values(self) -> dict[str, Any]:
        """What <home>/strongroom.toml itself sets (no defaults, variables or flags), e.g. for `verify`."""
        return _from_toml(self.settings_file)

    def check(self) -> None:
        if self.jurisdiction not in JURISDICTIONS:
            raise SettingsError(f"The jurisdiction {self.jurisdiction!r} is unknown: use SI, EE or SI+EE.")
        if self.language not in LANGUAGES:
            raise SettingsError(f"The language {self.language!r} is unknown: use sl, et or en.")
        if not _MONTH_DAY.fullmatch(self.financial_year_end):
            raise SettingsError(f"The financial year end {self.financial_year_end!r} is not a month-day such as "
                                "\"12-31\" or \"03-31\".")
        if not 0 < self.port < 65536:
            raise SettingsError(f"The port {self.port} is out of range: use 1 to 65535.")
        if self.backup_at is not None and not _CLOCK.match(self.backup_at):
            raise SettingsError(f"backup_at {self.backup_at!r} is not a time of day: write it as HH:MM, "
                                "e.g. \"02:30\".")
        if not 0 <= self.backup_quiet_minutes <= MAX_QUIET_MINUTES:
            raise SettingsError(f"backup_quiet_minutes {self.backup_quiet_minutes} is out of range: use 0 to "
                                f"{MAX_QUIET_MINUTES} (the nightly backup runs at the latest that long after backup_at).")
        if self.objects not in ("", "local") and not self.objects.startswith("s3:"):
            raise SettingsError(f"objects {self.objects!r} is not a place for sealed objects: leave it empty for the "
                                "home's objects/ folder, or write s3:http://HOST:PORT/BUCKET/PREFIX.")
        if self.object_cache_mb < 0:
            raise SettingsError(f"object_cache_mb {self.object_cache_mb} is negative: use 0 (no cache) or more.")
        if self.backup_at is not None and not self.backup_targets:
            raise SettingsError("backup_at is set but backup_targets is empty: name at least one target.")

    def toml_text(self) -> str:
        """The non-secret settings as a strongroom.toml (written by `strongroom init`)."""
        lines = ["# Strongroom settings for this home. No secrets here: passphrases come from a",
                 "# prompt, STRONGROOM_PASSPHRASE or STRONGROOM_PASSPHRASE_FILE.", ""]
        for name in _FIELDS:
            if name in _SECRET_FIELDS or name == "home":
                continue
            value = getattr(self, name)
            if value is None:
                continue
            lines.append(f"{name} = {_toml_value(value)}")
        return "\n".join(lines) + "\n"


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def write_setting(path: Path, name: str, value: str) -> None:
    """Set one non-secret setting in a strongroom.toml (a string value), keeping every other line; the
    file is replaced whole (temp file, fsync, rename), so a crash leaves the old file or the new one."""
    if name not in _FIELDS or name in _SECRET_FIELDS or name == "home":
        raise SettingsError(f"{name!r} cannot be written to {path.name}.")
    try:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    except FileNotFoundError:
        lines = []
    line = f"{name} = {_toml_value(value)}\n"
    kept = "".join(old for old in lines if old.split("=")[0].strip() != name)
    if kept and not kept.endswith("\n"):
        kept += "\n"
    temp = path.with_name(f".tmp-{path.name}")
    with open(temp, "w", encoding="utf-8") as sink:
        sink.write(kept + line)
        sink.flush()
        os.fsync(sink.fileno())
    os.replace(temp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _env_name(name: str) -> str:
    return ENV_PREFIX + _ENV_NAMES.get(name, name.upper())


def _from_env(env: Mapping[str, str], name: str) -> str | None:
    """STRONGROOM_<NAME>, else the restic-style variable some fields also take (AWS_*)."""
    raw = env.get(_env_name(name))
    if raw in (None, "") and name in _ENV_FALLBACKS:
        raw = env.get(_ENV_FALLBACKS[name])
    return raw


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise SettingsError(f"{path} is not valid TOML ({exc}): fix or delete it.") from exc
    out: dict[str, Any] = {}
    for name, raw in doc.items():
        if name not in _FIELDS or name == "home":
            raise SettingsError(f"{path} sets an unknown setting {name!r}: remove it (see docs).")
        if name in _SECRET_FIELDS:
            raise SettingsError(f"{path} must not hold {name!r}: secrets go in the environment or a prompt.")
        out[name] = _coerce(name, raw, f"{path}: {name}")
    return out


def _coerce(name: str, raw: Any, source: str) -> Any:
    kind = str(_FIELDS[name].type)
    try:
        if "tuple" in kind:  # a TOML array, or one comma-separated variable
            items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
            return tuple(str(item).strip() for item in items if str(item).strip())
        if "Path" in kind:
            return Path(str(raw)).expanduser()
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                raise ValueError(text)
            return text in ("1", "true", "yes", "on")
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return str(raw)
    except ValueError:
        raise SettingsError(f"{source} has the value {raw!r}, which is not a valid {kind}.") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
