"""recusals

recusals: an inspector recused (回避) from a school by an admin or leader, with the reason; the plan
draw and the visit start leave them out. Lifting a recusal deletes its row (the audit chain keeps both).

Revision ID: d8f4b2c6e0a1
Revises: c3e9a1d5f7b2
Create Date: 2026-11-26 05:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd8f4b2c6e0a1'
down_revision = 'c3e9a1d5f7b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'recusals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_recusals_created_by_id_users')),
        sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_recusals_school_id_schools'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recusals_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recusals')),
        sa.UniqueConstraint('user_id', 'school_id', name='uq_recusals_user_school'),
    )
    with op.batch_alter_table('recusals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recusals_school_id'), ['school_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recusals_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recusals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recusals_user_id'))
        batch_op.drop_index(batch_op.f('ix_recusals_school_id'))
    op.drop_table('recusals')
