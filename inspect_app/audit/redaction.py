"""Redacting what the chain recorded in the clear about volunteers before the identity escrow existed.

Until the escrow (migration a1c0e5d27b94) a volunteer's `display_name` was their real name, and `phone`
(and `email`) sat in the clear: every entry about their account recorded them. The chain cannot simply
be rewritten: each entry's hash is an HMAC over its columns, `data` included, each entry links to the
hash before it, and every signed daily report prints an anchor (count:hash) that must keep matching. So
a redacted entry keeps its hash and its link unchanged; only its `data` is replaced, by a copy with the
personal values replaced by MARKER, and it carries a *redaction seal*: an HMAC, with the current audit
key, over the entry's id and hash, the redacted data and the moment of redaction.

`verify()` checks a redacted entry by its seal instead of its hash. Without the key nobody can redact
an entry, undo a redaction or change a redacted entry unnoticed; what the chain no longer proves is the
removed values themselves, which is the point. An entry is only ever redacted after its own hash has
been recomputed from what it held (an altered entry is refused, and nothing is redacted).

Core SQL on the table's named columns only, so the migration that introduced this can run it too.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

import sqlalchemy as sa

from inspect_app.audit.keys import Keyring
from inspect_app.audit.models import AuditEntry

MARKER = "(redacted)"
# A volunteer's personal values in an entry about their account. The username stays (it is the
# record's handle on the account, and the audit view hides it from everyone but admins anyway).
PERSONAL = ("display_name", "phone", "email")
ALREADY = {None, "(changed)", MARKER}


class RedactionError(RuntimeError):
    pass


def seal(secret: bytes, entry_id: int, entry_hash: str, data: str, at: datetime) -> str:
    payload = json.dumps(["redaction", entry_id, entry_hash, data,
                          at.astimezone(timezone.utc).isoformat(timespec="microseconds")],
                         ensure_ascii=False, separators=(",", ":"))
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def seal_problem(entry: AuditEntry, keys: Keyring) -> str | None:
    """Why a redacted entry's seal does not hold (None when it does)."""
    key_id, sep, mac = (entry.redaction or "").partition(":")
    if not sep:
        return "it is marked redacted but carries no redaction seal"
    if key_id not in keys.secrets:
        return f"its redaction names the key {key_id!r}, which AUDIT_KEYS does not list"
    if not hmac.compare_digest(seal(keys.secret(key_id), entry.id, entry.hash, entry.data, entry.redacted_at), mac):
        return "its redacted content does not match its redaction seal (altered, or redacted without the key)"
    return None


def _volunteers(connection) -> tuple[set[str], set[str]]:
    """(ids of volunteer accounts as text, every pseudonym in use)."""
    rows = connection.execute(sa.text("SELECT id, role, pseudonym FROM users")).all()
    return ({str(r.id) for r in rows if r.role == "volunteer"}, {r.pseudonym for r in rows if r.pseudonym})


def _personal(data: dict, pseudonyms: set[str]) -> list[str]:
    """The personal keys of an entry about a volunteer that still hold a value worth hiding: a display
    name equal to a pseudonym (written after the escrow) is what everyone sees anyway."""
    return [k for k in PERSONAL if k in data and data[k] not in ALREADY
            and not (k == "display_name" and data[k] in pseudonyms)]


def scrub_volunteer_history(connection, keys: Keyring, now: datetime) -> int:
    """Redact every unredacted entry about a volunteer's account that holds a plain personal value;
    the number redacted. All or none: an entry whose hash no longer recomputes stops the scrub
    (RedactionError) before anything is written, since sealing it would vouch for an alteration."""
    table = AuditEntry.__table__
    ids, pseudonyms = _volunteers(connection)
    columns = [table.c[name] for name in ("id", "at", "actor_id", "action", "object_type", "object_id", "data",
                                          "prev_hash", "hash", "key_id")]
    rows = connection.execute(sa.select(*columns).where(
        table.c.object_type == "users", table.c.redacted_at.is_(None)).order_by(table.c.id)).all()
    updates = []
    for row in rows:
        try:
            data = json.loads(row.data)
        except ValueError:
            continue
        if not isinstance(data, dict) or not (data.get("role") == "volunteer" or row.object_id in ids):
            continue
        personal = _personal(data, pseudonyms)
        if not personal:
            continue
        entry = AuditEntry(**{c.key: getattr(row, c.key) for c in columns})
        if row.key_id not in keys.secrets or entry.compute_hash(keys.secret(row.key_id)) != row.hash:
            raise RedactionError(f"audit entry {row.id} does not match its hash: run `flask audit verify`; "
                                 f"nothing was redacted")
        redacted = json.dumps({k: MARKER if k in personal else v for k, v in data.items()},
                              ensure_ascii=False, sort_keys=True)
        mac = seal(keys.secret(keys.current), row.id, row.hash, redacted, now)
        updates.append({"entry_id": row.id, "new_data": redacted, "new_at": now, "new_seal": f"{keys.current}:{mac}"})
    if updates:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            # The table owner lifts the append-only trigger for this one transaction (DDL is
            # transactional there), as the re-keying migration c3a91d0e5b72 did.
            connection.execute(sa.text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
        connection.execute(table.update().where(table.c.id == sa.bindparam("entry_id")).values(
            data=sa.bindparam("new_data"), redacted_at=sa.bindparam("new_at"), redaction=sa.bindparam("new_seal")),
            updates)
        if postgres:
            connection.execute(sa.text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"))
    return len(updates)
