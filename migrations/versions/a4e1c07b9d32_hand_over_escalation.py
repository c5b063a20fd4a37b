"""hand-over escalation

hand_overs.escalated_at: when a sheet still not signed for after a working day was escalated
(`flask tickets escalate`), so an hourly cron escalates it once; NULL until then. Its notices reuse
notifications (kind 'hand_over_overdue', a non-native enum value: no schema change).

Revision ID: a4e1c07b9d32
Revises: d05cd3b0f428
Create Date: 2026-11-26 03:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4e1c07b9d32'
down_revision = 'd05cd3b0f428'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('hand_overs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('hand_overs', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')
