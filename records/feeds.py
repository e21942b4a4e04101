"""Calendar feeds: one revocable token per user that lets a mail client read that user's deadlines.

The token is 256 random bits, shown once; the catalogue keeps only its SHA-256 (a high-entropy token
needs no slow hash), so a copy of the catalogue cannot be turned into a working feed address. A new
token replaces the old one. Creation and revocation are audited with the change; each read of the
feed is an audit entry too (it shows registry numbers, so it is a view).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from records import checkpoints
from records.access import AccessScope, Permission
from records.agenda import Deadline, deadlines
from records.errors import AccessDenied
from records.events import event
from records.model import State, User
from records.plan import Plan
from records.ports import CatalogTx, Ports

USER_KEY = "calendar.feed.user."  # + user name -> {"hash", "titles", "created"}
TOKEN_KEY = "calendar.feed.token."  # + token hash -> user name
PAST_DAYS = 30  # overdue deadlines stay in the feed this long
FUTURE_DAYS = 400


@dataclass(frozen=True, slots=True)
class Feed:
    """A user's feed as stored: never the token itself."""

    user: str
    titles: bool  # the user opted in to record titles in the feed (they are sensitive)
    created: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def feed_of(ports: Ports, name: str) -> Feed | None:
    raw = ports.catalog.get_setting(USER_KEY + name)
    if not raw:
        return None
    data = json.loads(raw)
    return Feed(user=name, titles=bool(data["titles"]), created=datetime.fromisoformat(data["created"]))


def create_feed(ports: Ports, scope: AccessScope, *, titles: bool, now: datetime, channel: str = "web") -> str:
    """A new feed token for the signed-in user (any old one stops working); returns the token, which
    is shown once and stored only as its hash."""
    if not scope.may(Permission.READ):
        raise AccessDenied(f"Your role ({scope.role}) may not read deadlines.")
    token = secrets.token_urlsafe(32)
    with ports.catalog.transaction() as tx:
        _drop(ports, tx, scope.actor)
        digest = token_hash(token)
        tx.put_setting(TOKEN_KEY + digest, scope.actor)
        tx.put_setting(USER_KEY + scope.actor, json.dumps({"hash": digest, "titles": titles,
                                                           "created": now.isoformat()}))
        checkpoints.append(tx, ports.signer, event("calendar.feed.create", actor=scope.actor, now=now,
                                                   channel=channel,
                                                   details=(("titles", "yes" if titles else "no"),)))
    return token


def revoke_feed(ports: Ports, scope: AccessScope, *, now: datetime, channel: str = "web") -> bool:
    """Stop the signed-in user's feed; False when there was none."""
    with ports.catalog.transaction() as tx:
        if not _drop(ports, tx, scope.actor):
            return False
        checkpoints.append(tx, ports.signer, event("calendar.feed.revoke", actor=scope.actor, now=now,
                                                   channel=channel))
    return True


def feed_owner(ports: Ports, token: str) -> tuple[User, Feed] | None:
    """The enabled user whose current token this is, and their feed; None for anything else."""
    if not token or len(token) > 128:
        return None
    name = ports.catalog.get_setting(TOKEN_KEY + token_hash(token))
    user = ports.catalog.get_user(name) if name else None
    feed = feed_of(ports, user.name) if user is not None else None
    if user is None or user.disabled or feed is None:
        return None
    return user, feed


def feed_deadlines(ports: Ports, plan: Plan, scope: AccessScope, *, jurisdiction: str, today: date,
                   now: datetime, channel: str) -> list[Deadline]:
    """The deadlines of the records `scope` may see, from PAST_DAYS ago to FUTURE_DAYS ahead; one audit
    entry for the read."""
    if not scope.may(Permission.READ):
        raise AccessDenied(f"Your role ({scope.role}) may not read deadlines.")
    visible = [r for r in ports.catalog.find() if r.state is not State.DISPOSED and scope.can_see(r)]
    first, last = today - timedelta(days=PAST_DAYS), today + timedelta(days=FUTURE_DAYS)
    found = [d for d in deadlines(visible, plan, jurisdiction=jurisdiction, today=today) if first <= d.day <= last]
    with ports.catalog.transaction() as tx:
        checkpoints.append(tx, ports.signer, event("calendar.read", actor=scope.actor, now=now, channel=channel,
                                                   details=(("deadlines", str(len(found))),)))
    return found


def _drop(ports: Ports, tx: CatalogTx, name: str) -> bool:
    raw = ports.catalog.get_setting(USER_KEY + name)
    if not raw:
        return False
    tx.put_setting(TOKEN_KEY + json.loads(raw)["hash"], "")
    tx.put_setting(USER_KEY + name, "")
    return True
