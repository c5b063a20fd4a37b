"""audit chain head in one round trip

On PostgreSQL, audit_chain_head(lock_key) takes the one-appender advisory lock and then reads the
chain's head, in one statement: every audited write asked for the lock and then for the head, two
round trips where one does. The head is read by a statement of its own inside the function, so with
a snapshot taken after the lock was granted (a VOLATILE function's statements each take a fresh one):
it sees the entries of an appender that committed while this one waited. SQLite has no such lock and
keeps reading the head directly.

Revision ID: f4b8d2e6a1c3
Revises: e2a7c9d1b3f5
Create Date: 2026-11-26 21:45:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f4b8d2e6a1c3'
down_revision = 'e2a7c9d1b3f5'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_chain_head(lock_key bigint)
            RETURNS TABLE (head_id bigint, head_hash varchar) AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock(lock_key);
                RETURN QUERY SELECT e.id, e.hash FROM audit_entries AS e ORDER BY e.id DESC LIMIT 1;
            END
            $$ LANGUAGE plpgsql VOLATILE
        """)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_chain_head(bigint)")
