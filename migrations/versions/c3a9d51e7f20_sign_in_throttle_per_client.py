"""sign-in throttling per (account, client): recognised devices and an admin's clearing

Revision ID: c3a9d51e7f20
Revises: c3a91d0e5b72
Create Date: 2026-11-25 22:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a9d51e7f20'
down_revision = 'c3a91d0e5b72'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signin_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_signin_attempts_username_device_at', ['username', 'device', 'at'],
                              unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signin_cleared_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('signin_cleared_at')
    with op.batch_alter_table('signin_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_signin_attempts_username_device_at')
        batch_op.drop_column('device')
