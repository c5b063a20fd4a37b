"""daily circulars and read receipts

circulars: a signed daily report sent once (每日通报), the schools it names through an association
table (changed through the relationship, so audited), and the first opening per reader as a receipt.
Notices of a circular reuse notifications (kind 'circular', the school and the report's day).

Revision ID: 16ef052a6546
Revises: 8987214e9e58
Create Date: 2026-11-26 03:01:36.171263

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16ef052a6546'
down_revision = '8987214e9e58'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('circulars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['daily_reports.id'], name=op.f('fk_circulars_report_id_daily_reports')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_circulars_sent_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_circulars')),
    sa.UniqueConstraint('report_id', name=op.f('uq_circulars_report_id'))
    )
    op.create_table('circular_named_schools',
    sa.Column('circular_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['circular_id'], ['circulars.id'], name=op.f('fk_circular_named_schools_circular_id_circulars'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_circular_named_schools_school_id_schools'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('circular_id', 'school_id', name=op.f('pk_circular_named_schools'))
    )
    op.create_table('circular_reads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('circular_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('read_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['circular_id'], ['circulars.id'], name=op.f('fk_circular_reads_circular_id_circulars'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_circular_reads_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_circular_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_circular_reads')),
    sa.UniqueConstraint('circular_id', 'user_id', name='uq_circular_reads_user')
    )
    with op.batch_alter_table('circular_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_circular_reads_school_id'), ['school_id'], unique=False)



def downgrade():
    with op.batch_alter_table('circular_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_circular_reads_school_id'))

    op.drop_table('circular_reads')
    op.drop_table('circular_named_schools')
    op.drop_table('circulars')
