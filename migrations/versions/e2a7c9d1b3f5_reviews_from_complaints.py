"""reviews from complaints

reviews.contradicting_complaint_id: a substantiated complaint about an item an inspector passed lately
opens a review too (一案双查), so what contradicts the pass is a later visit or a complaint:
contradicting_visit_id becomes nullable.

Revision ID: e2a7c9d1b3f5
Revises: d8f4b2c6e0a1
Create Date: 2026-11-26 06:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a7c9d1b3f5'
down_revision = 'd8f4b2c6e0a1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contradicting_complaint_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_reviews_contradicting_complaint_id_complaints'), 'complaints',
                                    ['contradicting_complaint_id'], ['id'])
        batch_op.alter_column('contradicting_visit_id', existing_type=sa.String(length=36), nullable=True)


def downgrade():
    # Reviews opened by complaints have no visit to fall back on: they go with the column.
    op.execute("DELETE FROM reviews WHERE contradicting_visit_id IS NULL")
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.alter_column('contradicting_visit_id', existing_type=sa.String(length=36), nullable=False)
        batch_op.drop_constraint(batch_op.f('fk_reviews_contradicting_complaint_id_complaints'), type_='foreignkey')
        batch_op.drop_column('contradicting_complaint_id')
