"""task cancelled_at

tasks.cancelled_at: when a planner cancelled a task (a missed task redrawn), so the daily report counts
a plan's progress as it stood at its 16:00 cut-off. NULL for tasks cancelled before it existed.

Revision ID: c3e9a1d5f7b2
Revises: b7d2e4f1a9c3
Create Date: 2026-11-26 05:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3e9a1d5f7b2'
down_revision = 'b7d2e4f1a9c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('cancelled_at')
