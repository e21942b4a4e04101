"""Sign-in defences: known-device cookies, counted throttled attempts, and safe targets after sign-in."""

from __future__ import annotations

import secrets
import string
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer

from web.security import Clock, Throttle

DEVICE_COOKIE = "strongroom_device"
DEVICE_DAYS = 90
DEVICE_USERS = 8  # users remembered per browser (a shared office PC)
THROTTLED_PERIOD = 60.0  # throttled attempts of one source are counted per minute
MAX_COUNTED_SOURCES = 10000
_PATH_CHARS = frozenset(string.ascii_letters + string.digits + "/-._~!$&'()*+,;=:@%?")


class KnownDevices:
    """A signed cookie naming the users who have signed in on this browser before, each with a random
    device id. OWASP's "device cookie": a correct password from a known device passes the account's
    lockout, which only unknown devices and sources share, so guessing a name cannot lock its owner out.
    Failures from a known device count against that device alone."""

    def __init__(self, secret_key: bytes) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="strongroom/known-device/v1")

    def read(self, cookie: str | None) -> dict[str, str]:
        """user name (lower case) -> device id, from a cookie this app signed less than 90 days ago."""
        if not cookie:
            return {}
        try:
            data = self._serializer.loads(cookie, max_age=DEVICE_DAYS * 86400)
        except (BadSignature, ValueError, TypeError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}

    def device_id(self, cookie: str | None, username: str) -> str | None:
        return self.read(cookie).get(username.lower())

    def remember(self, cookie: str | None, username: str) -> str:
        """The cookie value after `username` signed in on this browser (the newest users kept)."""
        known = self.read(cookie)
        device = known.pop(username.lower(), None) or secrets.token_urlsafe(16)
        known[username.lower()] = device
        return self._serializer.dumps(dict(list(known.items())[-DEVICE_USERS:]))


@dataclass(slots=True)
class _Minute:
    opened: float  # monotonic
    since: datetime  # wall clock of the first throttled attempt
    count: int


@dataclass(frozen=True, slots=True)
class ClosedMinute:
    source: str
    since: datetime
    count: int


class ThrottledAttempts:
    """Counts throttled sign-ins per source and minute, so a flood costs the audit trail at most two
    entries per source and minute: the first attempt is written at once (the fact survives a crash),
    the minute's total when it closes."""

    def __init__(self, clock: Clock = time.monotonic, period: float = THROTTLED_PERIOD) -> None:
        self.clock = clock
        self.period = period
        self._open: dict[str, _Minute] = {}  # in the order the minutes opened
        self._done: list[tuple[str, _Minute]] = []
        self._lock = threading.Lock()

    def note(self, source: str, wall: datetime) -> bool:
        """Count one throttled attempt; True when it opens a minute (the caller writes an entry now)."""
        now = self.clock()
        with self._lock:
            minute = self._open.get(source)
            if minute is not None and now - minute.opened < self.period:
                minute.count += 1
                return False
            if minute is not None:
                self._done.append((source, self._open.pop(source)))
            if len(self._open) >= MAX_COUNTED_SOURCES:
                return True  # no room to count: every attempt is written rather than lost
            self._open[source] = _Minute(now, wall, 1)
            return True

    def closed(self, *, everything: bool = False) -> list[ClosedMinute]:
        """Minutes that have ended (all, with `everything`) and counted more than their first attempt;
        each is handed out once."""
        now = self.clock()
        with self._lock:
            done, self._done = self._done, []
            for source, minute in self._open.items():  # oldest first: stop at the first still open
                if not everything and now - minute.opened < self.period:
                    break
                done.append((source, minute))
            for source, minute in done:
                if self._open.get(source) is minute:
                    del self._open[source]
        return [ClosedMinute(s, m.since, m.count) for s, m in done if m.count > 1]


@dataclass(slots=True)
class LoginDefence:
    """The web's sign-in state: back-off by source, by account (unknown devices) and by known device;
    the current-password check on the password page; counted throttled attempts; device cookies."""

    sources: Throttle
    accounts: Throttle
    devices: KnownDevices
    throttled: ThrottledAttempts


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None. Checked as the browser will read it: no
    control characters, whitespace, backslashes or non-ASCII (browsers drop tabs and newlines and
    turn backslashes into slashes), no scheme, no host, one leading slash and no '//' anywhere, also
    after percent-decoding."""
    if not target or len(target) > 2000 or not set(target) <= _PATH_CHARS:
        return None
    for form in (target, unquote(target)):
        if any(ord(ch) < 0x21 or ord(ch) > 0x7E or ch == "\\" for ch in form):
            return None
        parts = urlsplit(form)
        raw_path = form.split("?", 1)[0].split("#", 1)[0]  # urlsplit drops an empty authority ("///x")
        if parts.scheme or parts.netloc or not parts.path.startswith("/") or "//" in raw_path:
            return None
        if any(seg in (".", "..") for seg in parts.path.split("/")):
            return None
    return target
