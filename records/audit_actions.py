"""Every kind of audit entry the code writes, in one registry: each kind has a human name in every UI
language (web/audit_names.py), and tests/web/test_audit_names.py finds a kind written without one."""

from __future__ import annotations

KINDS: frozenset[str] = frozenset({
    # records
    "record.file", "record.view", "record.view_text", "record.download", "record.edit", "record.edit.propose",
    "record.dispose", "record.transfer", "record.capture", "record.damaged",
    "hold.add", "hold.release", "hold.matter.add", "hold.matter.release",
    "disposal.propose", "disposition.run", "review.decide",
    "rejected.retry", "rejected.discard",
    "search", "index.rebuild",
    "calendar.feed.create", "calendar.feed.revoke", "calendar.read",
    "plan.migrate", "plan.change",
    "settings.seed", "settings.change",
    "audit.export",
    "user.add", "user.disable", "user.role", "user.password", "user.password.reset",
    "login", "logout",
    "meeting.new", "meeting.edit", "meeting.bodies", "meeting.pack", "meeting.item.add", "meeting.item.move", "meeting.item.remove",
    "meeting.material.add", "meeting.material.remove", "meeting.minutes", "resolution.adopt", "resolution.done",
    "casefile.open", "casefile.add", "casefile.remove", "casefile.close", "casefile.close.record", "casefile.reopen",
    "casefile.reopen.record", "decision.issue",
    # the vault
    "vault.init", "vault.unlock", "vault.recover", "vault.verify", "vault.backup", "vault.rollback.accept",
    "vault.objects.move",
    "key.passphrase.add", "key.passphrase.remove", "key.passphrase.change", "key.recovery.replace",
    "key.slots.unrecorded", "key.slots.recorded",
})

OUTCOMES: frozenset[str] = frozenset({"ok", "denied", "failed", "duplicate", "rejected", "refused"})
