"""One row per job and period: the run key that makes a job's period happen once, however many
workers (on however many machines) fire it."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from inspect_app.dbtypes import UTCDateTime, utcnow
from inspect_app.extensions import db


class JobRun(db.Model):
    __tablename__ = "job_runs"
    # The claim: the first worker to insert (job, period) does the period's work; the others' inserts
    # fail on this key and they skip. Portable (SQLite and PostgreSQL), and it leaves a record.
    __table_args__ = (sa.UniqueConstraint("job", "period", name="uq_job_runs_job_period"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    job: so.Mapped[str] = so.mapped_column(sa.String(40))
    period: so.Mapped[str] = so.mapped_column(sa.String(40))
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # What the run did, in a line (e.g. "3 reminders"), for whoever wonders whether it ran.
    outcome: so.Mapped[str | None] = so.mapped_column(sa.String(200))
