"""audit entries name their HMAC key; the existing chain is re-chained with it

Revision ID: c3a91d0e5b72
Revises: 7ebd8f6197a8
Create Date: 2026-11-25 22:50:00.000000

Entries already in the table were chained with plain SHA-256, which anyone who can write the table
can recompute after an edit. This migration first checks that chain as it stands (and refuses to
upgrade if it is broken: re-keying a tampered chain would launder it), then recomputes every entry
as HMAC-SHA256 with the app's current audit key (AUDIT_KEYS or instance/audit_keys), so one rule
verifies every entry. No anchor existed before this revision, so no hash noted elsewhere changes.
The payload formulas are frozen here on purpose: the model may change after this revision.
"""
import hashlib
import hmac
import json
from datetime import timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a91d0e5b72'
down_revision = '7ebd8f6197a8'
branch_labels = None
depends_on = None

GENESIS = "0" * 64
BATCH = 1000


def _fields(row) -> list:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=timezone.utc)
    at = at.astimezone(timezone.utc).isoformat(timespec="microseconds")
    return [row.id, at, row.actor_id, row.action, row.object_type, row.object_id, row.data]


def _dumps(fields: list) -> bytes:
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def _batches(bind, table):
    last_id = 0
    while True:
        rows = bind.execute(sa.select(table).where(table.c.id > last_id).order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1].id


def upgrade():
    bind = op.get_bind()
    columns = ['id', 'actor_id', 'action', 'object_type', 'object_id', 'data', 'prev_hash', 'hash']
    table = sa.table('audit_entries', sa.column('at', sa.DateTime()), *[sa.column(c) for c in columns])
    # First the chain as it stands, before anything changes (SQLite's DDL is not transactional).
    previous = GENESIS
    for rows in _batches(bind, table):
        for row in rows:
            if row.prev_hash != previous or \
                    hashlib.sha256(_dumps(_fields(row) + [row.prev_hash])).hexdigest() != row.hash:
                raise RuntimeError(
                    f"The audit chain is already broken at entry {row.id}: it is not re-keyed (that would "
                    f"launder the break). Run `flask audit verify` on the previous release and investigate.")
            previous = row.hash

    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))
    if previous != GENESIS:
        from flask import current_app

        from inspect_app.audit.keys import parse
        keys = parse(current_app.config["AUDIT_KEYS"])
        key_id, secret = keys.current, keys.secret(keys.current)
        keyed = sa.table('audit_entries', sa.column('id'), sa.column('prev_hash'), sa.column('hash'),
                         sa.column('key_id'))
        if bind.dialect.name == "postgresql":
            # The table owner lifts the append-only trigger for this one transaction (DDL is transactional).
            op.execute("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only")
        previous = GENESIS
        for rows in _batches(bind, table):
            updates = []
            for row in rows:
                digest = hmac.new(secret, _dumps(_fields(row) + [previous, key_id]), hashlib.sha256).hexdigest()
                updates.append({"row_id": row.id, "new_prev": previous, "new_hash": digest})
                previous = digest
            bind.execute(keyed.update().where(keyed.c.id == sa.bindparam("row_id"))
                         .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash"),
                                 key_id=key_id), updates)
        if bind.dialect.name == "postgresql":
            op.execute("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only")

    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.alter_column('key_id', existing_type=sa.String(length=16), nullable=False)


def downgrade():
    # The keyed hashes stay: a plain-SHA-256 release would report this chain as altered.
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('key_id')
