"""Writing the chain from every flush, and verifying it.

A `before_flush` hook turns each new or changed row of an audited model (and `before_delete` each row
a flush deletes, orphans of their owner included), and each link
added to or removed from a many-to-many collection (an association table has no model of its own),
into an entry in the same transaction, so no domain can forget to log and nothing is logged that did
not happen. Each entry's hash is an HMAC with a key kept outside the database (`audit.keys`).
Writes that bypass the ORM (a Core or raw UPDATE/INSERT) are out of its reach, unless their domain
describes them itself (`record_rows`, for a visit's answers).

Entries are described at each flush (`after_flush`: the row as it was written) but chained only when
the transaction commits (`before_commit`): appending takes the one-appender-at-a-time lock and holds it
until the commit, so it is taken last, for a lock, a read of the head and one INSERT, not from the
first flush through all the work of the request (a whole visit PUT held it for its full length, and
concurrent submissions queued behind it; issue 18). A rollback drops what it undid, a savepoint's too.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import has_request_context

from inspect_app.audit.keys import Keyring, keyring
from inspect_app.audit.models import GENESIS, AuditEntry, entry_hash
from inspect_app.audit.redaction import seal_problem
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db

# Secrets and derived bytes never go into the record: only that they changed.
# "contact": a complainant's phone or e-mail, erased after retention (PIPL), so never kept in the chain;
# "code_hash"/"submission_hash": would let whoever reads the chain test guesses at tracking codes.
# identity_sealed: a volunteer's encrypted identity; the chain must not keep a copy that outlives a rekey.
REDACTED = {"password_hash", "key_hash", "qr_token", "body_hash", "request_hash", "token", "contact", "code_hash",
            "submission_hash", "identity_sealed"}
# Bookkeeping that changes on every read or is itself a record.
# rate_events: rate-limit counts (a keyed hash of an address, sign-in keys' hashes), pruned hourly.
# notice_deliveries: the outbox of notifications, rewritten at each attempt to send one.
# job_runs: the worker's run keys; what a job changes (a ticket's step, an erased contact) is recorded
# on its own rows.
SKIPPED_TABLES = {"audit_entries", "notifications", "notice_deliveries", "rate_events", "job_runs"}
CHAIN_LOCK = 0x5AFEC0DE  # PostgreSQL advisory lock id: one appender at a time


# An entry's data as json.dumps(data, ensure_ascii=False, sort_keys=True, default=str) writes it, with one
# encoder made once rather than one per entry (a visit writes about forty).
_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str).encode
# What _value keeps as it is, asked first: most of a row's values (ids, codes, text, flags, numbers).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _value(value):
    if type(value) in _PLAIN:
        return value
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


@functools.cache
def _columns(mapper: so.Mapper) -> list[tuple[str, bool]]:
    """A mapper's column attributes and whether each is redacted, worked out once per class: every
    row written asks (a visit writes about forty)."""
    return [(c.key, c.key in REDACTED or c.columns[0].name in REDACTED) for c in mapper.column_attrs]


def _changes(obj, state, action: str) -> dict:
    data = {}
    # The values as the row holds them, read from the state's dict (a visit writes ~40 rows of ~10
    # columns: the instrumented attribute was a tenth of the chain's cost); one not there is loaded.
    values = state.dict
    for key, redacted in _columns(state.mapper):
        if action == "update":
            history = state.attrs[key].history
            if not history.has_changes():
                continue
        value = values[key] if key in values else getattr(obj, key, None)
        data[key] = "(changed)" if redacted else _value(value)
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
        # Serialise appenders; the unique prev_hash is the backstop (and SQLite's only guard). The lock
        # and the head in one round trip: the function reads the head after the lock is granted, with
        # a snapshot of its own (migration f4b8d2e6a1c3).
        row = connection.execute(_LOCKED_HEAD, {"key": CHAIN_LOCK}).first()
    else:
        row = connection.execute(_head_query()).first()
    return (row.id, row.hash) if row else (0, GENESIS)


_LOCKED_HEAD = sa.text("SELECT head_id AS id, head_hash AS hash FROM audit_chain_head(:key)")


@functools.cache
def _head_query() -> sa.Select:
    """Built once: every write asks, and building and keying a select cost about as much of the app's
    time as running it (issue 18)."""
    return sa.select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)


@dataclass
class Pending:
    action: str
    obj: object
    data: dict

    def describe(self) -> tuple[str, str, dict]:
        """(object type, object id, data), once the flush has given the row its key. A new row is read
        again here: before the INSERT its key and its defaults (created_at, active, …) were still None,
        and the identity map learns the key only after this hook, so the key comes from the row itself."""
        state = sa.inspect(self.obj)
        identity = state.identity or state.mapper.primary_key_from_instance(self.obj)
        data = _changes(self.obj, state, "create") if self.action == "create" else self.data
        known = identity and all(part is not None for part in identity)
        return (self.obj.__tablename__, ":".join(str(part) for part in identity) if known else "?", data)


@dataclass
class PendingLink:
    """A row added to or removed from an association table through a relationship collection."""
    action: str
    obj: object
    relationship: so.RelationshipProperty
    other: object

    def describe(self) -> tuple[str, str, dict]:
        table = self.relationship.secondary
        row = {}
        for side, pairs in ((self.obj, self.relationship.synchronize_pairs),
                            (self.other, self.relationship.secondary_synchronize_pairs)):
            mapper = so.object_mapper(side)
            for column, link_column in pairs:
                row[link_column.name] = getattr(side, mapper.get_property_by_column(column).key)
        return table.name, ":".join(str(row.get(c.name, "?")) for c in table.primary_key.columns), row


@functools.cache
def _links(mapper: so.Mapper) -> list[so.RelationshipProperty]:
    """A mapper's many-to-many collections that are recorded, worked out once per class (every row
    written asks, and most classes have none)."""
    return [r for r in mapper.relationships if r.secondary is not None and not r.viewonly
            and r.secondary.name not in SKIPPED_TABLES]


def _link_changes(obj, state) -> list[PendingLink]:
    links = []
    for relationship in _links(state.mapper):
        # Passive: an unloaded collection did not change and is not loaded just to find that out.
        history = state.attrs[relationship.key].history
        links += [PendingLink("create", obj, relationship, other) for other in history.added]
        links += [PendingLink("delete", obj, relationship, other) for other in history.deleted]
    return links


def before_flush(session, flush_context, instances) -> None:
    # Deleted rows are before_delete's: it sees every row the flush deletes, orphans included. (A row
    # deleted with its owner has its links go with the owner's own "delete" entry.)
    pending: list[Pending | PendingLink] = []
    for action, objects in (("create", session.new), ("update", session.dirty)):
        for obj in list(objects):
            table = getattr(obj, "__tablename__", None)
            if table is None or table in SKIPPED_TABLES:
                continue
            state = sa.inspect(obj)
            pending += _link_changes(obj, state)
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            # A new row is described after the flush (describe), when its key and defaults exist.
            data = _changes(obj, state, action) if action != "create" else {}
            if action == "update" and not data:
                continue
            pending.append(Pending(action, obj, data))
    if pending:
        session.info.setdefault("audit_pending", []).extend(pending)


def before_delete(mapper, connection, target) -> None:
    """A row the flush deletes, whoever asked: an explicit delete, a cascade, or an orphan removed from
    its owner's collection (a finding whose item now passes, a draft's answer no longer sent), which
    never appears in session.deleted and so went unrecorded while before_flush read deletes there."""
    table = getattr(target, "__tablename__", None)
    session = so.object_session(target)
    if table is None or table in SKIPPED_TABLES or session is None:
        return
    session.info.setdefault("audit_pending", []).append(
        Pending("delete", target, _changes(target, sa.inspect(target), "delete")))


def after_flush(session, flush_context) -> None:
    """Ids exist now: describe this flush's entries; they are chained when the transaction commits."""
    pending = session.info.pop("audit_pending", [])
    if not pending:
        return
    actor = _actor_id()
    described = session.info.setdefault("audit_described", [])
    seen = set()
    for item in pending:
        object_type, object_id, data = item.describe()
        if (item.action, object_type, object_id) in seen:
            continue  # one link seen from both of its sides
        seen.add((item.action, object_type, object_id))
        described.append(dict(actor_id=actor, action=item.action, object_type=object_type, object_id=object_id,
                              data=_json(data)))


def record_rows(session: so.Session, action: str, table: sa.Table, rows: list[tuple[object, dict]]) -> None:
    """Entries for rows a domain wrote without the unit of work (a visit's answers, issue 18), as
    after_flush describes an object's: `rows` holds (key, columns): every column of a row created or
    deleted, only the changed ones of a row updated. Chained with the rest when the transaction commits."""
    if not rows or table.name in SKIPPED_TABLES:
        return
    actor = _actor_id()
    described = session.info.setdefault("audit_described", [])
    for key, columns in rows:
        data = {name: "(changed)" if name in REDACTED else _value(value) for name, value in columns.items()}
        described.append(dict(actor_id=actor, action=action, object_type=table.name, object_id=str(key),
                              data=_json(data)))


def before_commit(session) -> None:
    """Flush what is left, then chain every entry described in this transaction, under the lock."""
    session.flush()
    described = session.info.pop("audit_described", [])
    session.info.pop("audit_marks", None)
    if not described:
        return
    keys = keyring()
    key_id = keys.current
    secret = keys.secret(key_id)
    connection = session.connection()
    last_id, previous = _chain_head(connection)
    at = utcnow()
    rows = []
    for next_id, values in enumerate(described, start=last_id + 1):
        digest = entry_hash(secret, next_id, at, values["actor_id"], values["action"], values["object_type"],
                            values["object_id"], values["data"], previous, key_id)
        rows.append(dict(values, id=next_id, at=at, prev_hash=previous, hash=digest, key_id=key_id,
                         redacted_at=None, redaction=None))
        previous = digest
    _append(connection, rows)


_COPY = "COPY audit_entries ({}) FROM STDIN"


def _append(connection, rows: list[dict]) -> None:
    """Write the chained entries on the session's own connection (through the session it would flush
    again). On PostgreSQL by COPY: a visit's ~40 entries cost a third of an executemany's CPU in the app
    and in the server, inside the appender's lock (issue 18); elsewhere by a Core executemany."""
    if connection.dialect.name != "postgresql":
        connection.execute(sa.insert(AuditEntry), rows)
        return
    import psycopg  # on PostgreSQL only (its driver): an SQLite deployment never loads it
    columns = list(rows[0])
    statement = _COPY.format(", ".join(columns))
    # COPY bypasses the column types: `at` (one time for the whole batch) is bound as UTCDateTime binds it.
    at = AuditEntry.__table__.c.at.type.process_bind_param(rows[0]["at"], connection.dialect)
    where = columns.index("at")
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                values = [*row.values()]  # every row has the same keys, in the same order
                values[where] = at
                copy.write_row(values)
    except psycopg.IntegrityError as error:
        # As an INSERT would have said it: a writer that lost a race sees SQLAlchemy's IntegrityError.
        raise sa.exc.IntegrityError(statement, None, error) from error
    finally:
        cursor.close()


def after_transaction_create(session, transaction) -> None:
    """A savepoint remembers how many entries were described before it, to drop its own if rolled back."""
    if transaction.nested:
        session.info.setdefault("audit_marks", {})[transaction] = len(session.info.get("audit_described", []))


def after_soft_rollback(session, previous_transaction) -> None:
    if previous_transaction.nested:
        mark = session.info.get("audit_marks", {}).pop(previous_transaction, None)
        if mark is not None:
            del session.info.get("audit_described", [])[mark:]
    elif previous_transaction.parent is None:  # the whole transaction: nothing it described happened
        session.info.pop("audit_described", None)
        session.info.pop("audit_pending", None)
        session.info.pop("audit_marks", None)


def install() -> None:
    """Hook the chain onto every session (once per process)."""
    if not sa.event.contains(so.Session, "before_flush", before_flush):
        sa.event.listen(so.Session, "before_flush", before_flush)
        sa.event.listen(so.Session, "after_flush", after_flush)
        sa.event.listen(so.Session, "before_commit", before_commit)
        sa.event.listen(so.Session, "after_transaction_create", after_transaction_create)
        sa.event.listen(so.Session, "after_soft_rollback", after_soft_rollback)
        sa.event.listen(db.Model, "before_delete", before_delete, propagate=True)


@dataclass
class Verdict:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""
    head: tuple[int, str] = (0, GENESIS)


def parse_anchor(text: str) -> tuple[int, str]:
    """``count:hash`` as printed on a signed daily report (ValueError otherwise)."""
    count, sep, digest = text.strip().partition(":")
    if not sep or not count.isdigit() or int(count) < 1 or len(digest) != 64 \
            or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"{text[:80]!r} is not an anchor: expected <entry count>:<64 hex digits>")
    return int(count), digest


def format_anchor(head: tuple[int, str]) -> str:
    return f"{head[0]}:{head[1]}"


def head() -> tuple[int, str]:
    """(entry count, hash of the newest entry): the anchor to keep outside the table."""
    count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    last = db.session.scalar(sa.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    return count or 0, last or GENESIS


def verify(anchors: list[tuple[int, str]] | tuple = (), keys: Keyring | None = None) -> Verdict:
    """Walk the chain in id order: every link points at the entry before it, every hash recomputes with
    the key the entry names, keys never go back to an older one, and the chain still passes through
    every anchor (the n-th entry has the anchor's hash), so neither a rewrite with recomputed hashes
    nor cutting off the newest entries goes unnoticed."""
    keys = keys or keyring()
    wanted = dict(anchors)
    previous = GENESIS
    checked = 0
    last_id = 0
    newest_age = len(keys.ids)
    # Streamed in batches (a province's chain does not fit in memory); closed on every way out.
    result = db.session.execute(sa.select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000))
    try:
        for entry in result.scalars():
            if entry.prev_hash != previous:
                gap = ("an entry before it is missing" if entry.id != last_id + 1
                       else "entries were reordered or replaced")
                return Verdict(False, checked, entry.id, f"its link does not point at the entry before it ({gap})")
            if entry.key_id not in keys.secrets:
                return Verdict(False, checked, entry.id,
                               f"it names the key {entry.key_id!r}, which AUDIT_KEYS does not list")
            # A retired (or leaked) key cannot sign entries after its successor took over.
            if keys.age(entry.key_id) > newest_age:
                return Verdict(False, checked, entry.id,
                               f"it goes back to the older key {entry.key_id!r} after a newer one was in use")
            newest_age = keys.age(entry.key_id)
            if entry.redacted_at is not None or entry.redaction is not None:
                # Redacted after the fact (audit/redaction.py): its hash covered data no longer kept;
                # the redaction's own keyed seal vouches for what it holds now.
                problem = seal_problem(entry, keys) if entry.redacted_at is not None else \
                    "it carries a redaction seal but is not marked redacted"
                if problem:
                    return Verdict(False, checked, entry.id, problem)
            elif entry.compute_hash(keys.secret(entry.key_id)) != entry.hash:
                return Verdict(False, checked, entry.id,
                               "its content does not match its hash (altered, or made with another key)")
            previous = entry.hash
            last_id = entry.id
            checked += 1
            if checked in wanted and wanted[checked] != entry.hash:
                return Verdict(False, checked - 1, entry.id,
                               f"the chain no longer passes through the anchor "
                               f"{format_anchor((checked, wanted[checked]))} (entries were replaced)")
    finally:
        result.close()
    beyond = [count for count in wanted if count > checked]
    if beyond:
        return Verdict(False, checked, None,
                       f"the chain has {checked} entries but an anchor vouches for {max(beyond)} "
                       f"(the newest entries were removed)")
    return Verdict(True, checked, head=(checked, previous))
