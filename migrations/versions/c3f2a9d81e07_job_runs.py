"""job runs and the scheduler's job store

job_runs: the worker's run key (one row per job and period, unique), so a scheduled job's period is
done once however many workers fire it (inspect_app/worker/jobs.py).
apscheduler_jobs: APScheduler 3's SQLAlchemy job store, in its own layout (apscheduler/jobstores/
sqlalchemy.py). Created here rather than by the job store on a worker's first start, so two workers
starting at once on a fresh database do not race to create it; the store then finds it. It is not a
model of the app (env.py keeps autogenerate from proposing to drop it).
The worker's notices reuse notifications (kinds 'report_unsigned' and 'triage_overdue', non-native
enum values: no schema change).

Revision ID: c3f2a9d81e07
Revises: a4e1c07b9d32
Create Date: 2026-11-26 05:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f2a9d81e07'
down_revision = 'b7d2f4e81c60'
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
    op.create_table(
        'apscheduler_jobs',
        sa.Column('id', sa.Unicode(length=191), primary_key=True),
        sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
        sa.Column('job_state', sa.LargeBinary(), nullable=False),
    )
    op.create_index('ix_apscheduler_jobs_next_run_time', 'apscheduler_jobs', ['next_run_time'])


def downgrade():
    op.drop_index('ix_apscheduler_jobs_next_run_time', table_name='apscheduler_jobs')
    op.drop_table('apscheduler_jobs')
    op.drop_table('job_runs')
