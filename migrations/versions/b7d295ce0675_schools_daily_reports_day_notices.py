"""schools' daily reports; day notices

self_reports keeps every version of a school's daily report (日报告/零报告): a correction is a new
row. notifications gain the school and day a reminder is about, unique per person, kind and day so
that the cron job never sends one twice (ticket notices leave both NULL and never clash).

Revision ID: b7d295ce0675
Revises: c3a9d51e7f20
Create Date: 2026-11-26 02:20:33.175476

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d295ce0675'
down_revision = 'c3a9d51e7f20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('self_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('zero', sa.Boolean(), nullable=False),
    sa.Column('absent', sa.Integer(), nullable=False),
    sa.Column('absent_illness', sa.Integer(), nullable=False),
    sa.Column('fever', sa.Integer(), nullable=False),
    sa.Column('isolated', sa.Integer(), nullable=False),
    sa.Column('staff_absent', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('filed_by_id', sa.Integer(), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=True),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('absent >= 0 AND absent_illness >= 0 AND fever >= 0 AND isolated >= 0 AND staff_absent >= 0', name=op.f('ck_self_reports_counts_not_negative')),
    sa.CheckConstraint('absent_illness <= absent', name=op.f('ck_self_reports_illness_within_absent')),
    sa.ForeignKeyConstraint(['filed_by_id'], ['users.id'], name=op.f('fk_self_reports_filed_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_self_reports_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_reports')),
    sa.UniqueConstraint('school_id', 'client_id', name='uq_self_reports_client'),
    sa.UniqueConstraint('school_id', 'day', 'version', name='uq_self_reports_version')
    )
    with op.batch_alter_table('self_reports', schema=None) as batch_op:
        batch_op.create_index('ix_self_reports_day_school', ['day', 'school_id'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('school_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('day', sa.Date(), nullable=True))
        batch_op.create_unique_constraint('uq_notifications_day_notice', ['user_id', 'kind', 'school_id', 'day'])
        batch_op.create_foreign_key(batch_op.f('fk_notifications_school_id_schools'), 'schools', ['school_id'], ['id'], ondelete='CASCADE')



def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_school_id_schools'), type_='foreignkey')
        batch_op.drop_constraint('uq_notifications_day_notice', type_='unique')
        batch_op.drop_column('day')
        batch_op.drop_column('school_id')

    with op.batch_alter_table('self_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_self_reports_day_school')

    op.drop_table('self_reports')
