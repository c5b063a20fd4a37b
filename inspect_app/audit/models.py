"""One audit entry: who did what to which object, chained to the entry before it by a keyed hash."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

import sqlalchemy as sa
import sqlalchemy.orm as so

from inspect_app.dbtypes import UTCDateTime, utcnow
from inspect_app.extensions import db

GENESIS = "0" * 64


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: so.Mapped[int] = so.mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    actor_id: so.Mapped[int | None] = so.mapped_column()  # not a foreign key: the record outlives accounts
    action: so.Mapped[str] = so.mapped_column(sa.String(16))
    object_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    object_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    data: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")
    # Unique: two writers that read the same "last entry" cannot both append after it (no fork).
    prev_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # Which AUDIT_KEYS key made the hash.
    key_id: so.Mapped[str] = so.mapped_column(sa.String(16))
    # Personal data recorded before it was protected (a volunteer's real name) is redacted in place:
    # `data` replaced, `hash` and the link kept, and "key_id:hmac" over the redaction instead
    # (audit/redaction.py). NULL for every entry as written.
    redacted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    redaction: so.Mapped[str | None] = so.mapped_column(sa.String(84))

    def compute_hash(self, secret: bytes) -> str:
        """HMAC-SHA256 with the entry's key over every column as written (entry_hash)."""
        return entry_hash(secret, self.id, self.at, self.actor_id, self.action, self.object_type, self.object_id,
                          self.data, self.prev_hash, self.key_id)


def entry_hash(secret: bytes, id: int, at: datetime, actor_id: int | None, action: str, object_type: str,
               object_id: str, data: str, prev_hash: str, key_id: str) -> str:
    """HMAC-SHA256 with the entry's key over every column as written (not the hash itself, nor the
    redaction columns added after), in a fixed order and encoding. A plain hash anyone could
    recompute after an edit; this one needs the key. A redacted entry no longer recomputes it: its
    redaction seal stands in (audit/redaction.py). A function of the values, so the appender hashes
    plain rows without building an ORM object for each."""
    stamp = at.astimezone(timezone.utc).isoformat(timespec="microseconds")
    # The key id is signed too: relabelling an entry with another key breaks it.
    payload = _compact([id, stamp, actor_id, action, object_type, object_id, data, prev_hash, key_id])
    return hmac.digest(secret, payload.encode(), hashlib.sha256).hex()


# json.dumps(…, ensure_ascii=False, separators=(",", ":")) with one encoder made once: the appender
# hashes a visit's ~40 entries while it holds the chain's lock, and dumps built an encoder for each.
_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
