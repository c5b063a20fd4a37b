"""desk close-out only for document evidence

checklist_items.document_evidence: the item's rectification is shown by a document (a plan, a rule, a
record), so its ticket may be closed out from the desk; set for the shipped 27 plans-and-rules check
(template code 'plans27'), off for everything else. ticket_events.desk_review marks a close-out made
that way (without a follow-up visit).

Revision ID: b7d2e4f1a9c3
Revises: c3f2a9d81e07
Create Date: 2026-11-26 05:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2e4f1a9c3'
down_revision = 'c3f2a9d81e07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checklist_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_evidence', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('desk_review', sa.Boolean(), server_default=sa.false(), nullable=False))
    # Every version of the shipped document check: its items are documents.
    op.execute(sa.text(
        "UPDATE checklist_items SET document_evidence = :yes WHERE version_id IN ("
        "SELECT v.id FROM template_versions v JOIN checklist_templates t ON t.id = v.template_id "
        "WHERE t.code = 'plans27')").bindparams(yes=True))


def downgrade():
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_column('desk_review')
    with op.batch_alter_table('checklist_items', schema=None) as batch_op:
        batch_op.drop_column('document_evidence')
