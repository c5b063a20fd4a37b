"""audit entries: redaction of volunteers' plain personal data recorded before the identity escrow

audit_entries.redacted_at / redaction: an entry whose data was redacted after the fact keeps its hash
and link (signed reports' anchors still match) and carries "key_id:hmac", a keyed seal over the
redacted data, that `flask audit verify` checks instead of its hash (inspect_app/audit/redaction.py).
The upgrade redacts what exists: every entry about a volunteer's account that still holds their plain
real name, phone or e-mail. On SQLite run `flask volunteers scrub-history` afterwards: it redacts again
(nothing left) and VACUUMs, which a migration cannot (it runs inside a transaction), so the freed pages
of the file stop holding the old values.

Revision ID: e7b3c9a41d06
Revises: b7d2f4e81c60
Create Date: 2026-11-26 05:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7b3c9a41d06'
down_revision = 'b7d2f4e81c60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redacted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('redaction', sa.String(length=84), nullable=True))

    bind = op.get_bind()
    if not bind.execute(sa.text("SELECT 1 FROM users WHERE role = 'volunteer' LIMIT 1")).first():
        return  # no volunteer, nothing to redact (and no need for the audit key)
    # Needs the app (flask db upgrade) for the audit key, as the escrow's migration needs its own.
    from inspect_app.audit.keys import keyring
    from inspect_app.audit.redaction import scrub_volunteer_history
    from inspect_app.dbtypes import utcnow
    scrub_volunteer_history(bind, keyring(), utcnow())


def downgrade():
    # Without these columns a redacted entry would read as altered (its data no longer matches its
    # hash) and `flask audit verify` would report the chain broken: refuse rather than lose the seals.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM audit_entries WHERE redacted_at IS NOT NULL LIMIT 1")).first():
        raise RuntimeError("audit entries were redacted: the schema before this revision cannot verify them, "
                           "so it cannot be downgraded past e7b3c9a41d06")
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('redaction')
        batch_op.drop_column('redacted_at')
