"""notice outbox

notice_deliveries: each notice that leaves the app (an e-mail to one person, a post to a DingTalk or
WeCom group), written with its in-app notice and sent after commit by `deliver_due` with retries
(inspect_app/notify). users.email and users.phone already exist; no other change.

Revision ID: b7d2f4e81c60
Revises: a4e1c07b9d32
Create Date: 2026-11-26 05:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2f4e81c60'
down_revision = 'a4e1c07b9d32'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notice_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.Enum('email', 'dingtalk', 'wecom', name='channel', native_enum=False,
                                     length=20), nullable=False),
        sa.Column('notification_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('address', sa.String(length=255), nullable=True),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'sent', 'failed', name='deliverystatus', native_enum=False,
                                    length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_try_at', sa.DateTime(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'],
                                name=op.f('fk_notice_deliveries_notification_id_notifications'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notice_deliveries_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_deliveries')),
    )
    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_notice_deliveries_due', ['status', 'next_try_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_deliveries_notification_id'), ['notification_id'], unique=False)


def downgrade():
    with op.batch_alter_table('notice_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_deliveries_notification_id'))
        batch_op.drop_index('ix_notice_deliveries_due')
    op.drop_table('notice_deliveries')
