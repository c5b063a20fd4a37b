"""hand-over sheets

hand_overs: a visit's written hand-over (交办单), numbered per year (unique), signed for by the
school's duty officer (who and when; NULL until then). Its notices reuse notifications (kind
'hand_over', on the visit's first ticket).

Revision ID: d38023a84c8a
Revises: 16ef052a6546
Create Date: 2026-11-26 03:05:30.081845

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd38023a84c8a'
down_revision = '16ef052a6546'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hand_overs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.String(length=36), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_hand_overs_acknowledged_by_id_users')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_hand_overs_issued_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_hand_overs_school_id_schools')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_hand_overs_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hand_overs')),
    sa.UniqueConstraint('number', name=op.f('uq_hand_overs_number')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_hand_overs_visit_id'))
    )
    with op.batch_alter_table('hand_overs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hand_overs_school_id'), ['school_id'], unique=False)



def downgrade():
    with op.batch_alter_table('hand_overs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hand_overs_school_id'))

    op.drop_table('hand_overs')
