"""Writing the chain from every flush, and verifying it.

A `before_flush` hook turns each new, changed or deleted row of an audited model into an entry in
the same transaction, so no domain can forget to log and nothing is logged that did not happen.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import has_request_context

from inspect_app.audit.models import GENESIS, AuditEntry
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db

# Secrets and derived bytes never go into the record: only that they changed.
REDACTED = {"password_hash", "key_hash", "qr_token", "body_hash", "request_hash", "token"}
# Bookkeeping that changes on every read or is itself a record.
SKIPPED_TABLES = {"audit_entries", "notifications"}
CHAIN_LOCK = 0x5AFEC0DE  # PostgreSQL advisory lock id: one appender at a time


def _value(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def _changes(obj, state, action: str) -> dict:
    mapper = so.object_mapper(obj)
    data = {}
    for column in mapper.column_attrs:
        key = column.key
        if action == "update":
            history = state.attrs[key].history
            if not history.has_changes():
                continue
        value = getattr(obj, key, None)
        data[key] = "(changed)" if key in REDACTED or column.columns[0].name in REDACTED else _value(value)
    return data


def _actor_id() -> int | None:
    if not has_request_context():
        return None
    from flask_login import current_user
    try:
        return current_user.id if current_user.is_authenticated else None
    except Exception:  # noqa: BLE001 - the loader itself may be flushing
        return None


def _chain_head(connection) -> tuple[int, str]:
    """(last id, last hash), holding the appender lock on PostgreSQL until the transaction ends."""
    if connection.dialect.name == "postgresql":
        # Serialise appenders; the unique prev_hash is the backstop (and SQLite's only guard).
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    row = connection.execute(sa.select(AuditEntry.id, AuditEntry.hash)
                             .order_by(AuditEntry.id.desc()).limit(1)).first()
    return (row.id, row.hash) if row else (0, GENESIS)


@dataclass
class Pending:
    action: str
    obj: object
    data: dict


def before_flush(session, flush_context, instances) -> None:
    pending: list[Pending] = []
    for action, objects in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in list(objects):
            table = getattr(obj, "__tablename__", None)
            if table is None or table in SKIPPED_TABLES:
                continue
            state = sa.inspect(obj)
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            data = _changes(obj, state, action)
            if action == "update" and not data:
                continue
            pending.append(Pending(action, obj, data))
    if pending:
        session.info.setdefault("audit_pending", []).extend(pending)


def after_flush(session, flush_context) -> None:
    """Ids exist now; chain the entries for this flush and insert them in the same transaction."""
    pending = session.info.pop("audit_pending", [])
    if not pending:
        return
    connection = session.connection()
    last_id, previous = _chain_head(connection)
    actor = _actor_id()
    rows = []
    next_id = last_id + 1
    for item in pending:
        identity = sa.inspect(item.obj).identity
        entry = AuditEntry(id=next_id, at=utcnow(), actor_id=actor, action=item.action,
                           object_type=item.obj.__tablename__,
                           object_id=":".join(str(part) for part in identity) if identity else "?",
                           data=json.dumps(item.data, ensure_ascii=False, sort_keys=True, default=str),
                           prev_hash=previous)
        entry.hash = entry.compute_hash()
        previous = entry.hash
        next_id += 1
        rows.append({c.name: getattr(entry, c.key) for c in AuditEntry.__table__.columns})
    # A core insert on the flush's own connection: writing through the session would flush again.
    connection.execute(sa.insert(AuditEntry), rows)


def install() -> None:
    """Hook the chain onto every session (once per process)."""
    if not sa.event.contains(so.Session, "before_flush", before_flush):
        sa.event.listen(so.Session, "before_flush", before_flush)
        sa.event.listen(so.Session, "after_flush", after_flush)


@dataclass
class Verdict:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify() -> Verdict:
    """Walk the chain in id order: every hash recomputes and every link points at the one before."""
    previous = GENESIS
    checked = 0
    last_id = 0
    # Streamed in batches (a province's chain does not fit in memory); closed on every way out.
    result = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000))
    try:
        for entry in result.scalars():
            if entry.prev_hash != previous:
                gap = ("an entry before it is missing" if entry.id != last_id + 1
                       else "entries were reordered or replaced")
                return Verdict(False, checked, entry.id, f"its link does not point at the entry before it ({gap})")
            if entry.compute_hash() != entry.hash:
                return Verdict(False, checked, entry.id, "its content does not match its hash (altered)")
            previous = entry.hash
            last_id = entry.id
            checked += 1
    finally:
        result.close()
    return Verdict(True, checked)
