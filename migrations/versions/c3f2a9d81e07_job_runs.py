"""job runs

job_runs: the worker's run key (one row per job and period, unique), so a scheduled job's period is
done once however many workers fire it (inspect_app/worker/jobs.py). The scheduler's own table
(apscheduler_jobs) is created and owned by APScheduler's job store, not by these migrations. The
worker's notices reuse notifications (kinds 'report_unsigned' and 'triage_overdue', non-native enum
values: no schema change).

Revision ID: c3f2a9d81e07
Revises: a4e1c07b9d32
Create Date: 2026-11-26 05:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f2a9d81e07'
down_revision = 'a4e1c07b9d32'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job', sa.String(length=40), nullable=False),
        sa.Column('period', sa.String(length=40), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('outcome', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
        sa.UniqueConstraint('job', 'period', name='uq_job_runs_job_period'),
    )


def downgrade():
    op.drop_table('job_runs')
