"""The worker's clock: APScheduler 3 with its job store in the application's database.

Why APScheduler (3.x, the maintained stable line) with the SQLAlchemy job store rather than rq and
rq-scheduler on Redis: the embedded default must run on a laptop with no Redis (`make run`), and the
database is already there; the job store keeps each job's next run time, so a worker that was down
at 16:00 runs the missed job when it comes back (coalesced into one run, no grace limit) instead of
waiting a day. Our jobs are short, database-bound and few; rq's queues and separate worker pool would
add a second moving part without anything to spread. Two workers (two machines) may share the job
store and both fire a job: the run key in job_runs (jobs.run) lets one of them do the period's work.
"""
from __future__ import annotations

from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from inspect_app.i18n import local_zone
from inspect_app.worker import jobs

ENTRY = "inspect_app.worker.jobs:scheduled"
JOB_TABLE = "apscheduler_jobs"


def configure(scheduler: BaseScheduler, app: Flask, jobstore_url: str | None = None, executor=None) -> None:
    """Job store, time zone and defaults; `jobstore_url` and `executor` are for tests."""
    jobs.bind(app)
    options = {
        "jobstores": {"default": SQLAlchemyJobStore(url=jobstore_url or app.config["SQLALCHEMY_DATABASE_URI"],
                                                    tablename=JOB_TABLE,
                                                    engine_options={"pool_pre_ping": True})},
        # One run at a time per job; runs missed while no worker was up collapse into one, however late.
        "job_defaults": {"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        "timezone": local_zone(app),
    }
    if executor is not None:
        options["executors"] = {"default": executor}
    scheduler.configure(**options)


def install_jobs(scheduler: BaseScheduler) -> None:
    """Bring the stored jobs in line with jobs.JOBS, keeping the next run time of a job whose schedule
    did not change (re-adding it would forget a run missed while the worker was down)."""
    for job in jobs.JOBS.values():
        trigger = CronTrigger(timezone=scheduler.timezone, **job.cron)
        stored = scheduler.get_job(job.name)
        if stored is None:
            try:
                scheduler.add_job(ENTRY, trigger, args=[job.name], id=job.name, name=job.name)
            except ConflictingIdError:
                pass  # another worker starting at the same moment stored it first: the same job
        elif str(stored.trigger) != str(trigger) or stored.func_ref != ENTRY or list(stored.args) != [job.name]:
            scheduler.add_job(ENTRY, trigger, args=[job.name], id=job.name, name=job.name, replace_existing=True)
    for stored in scheduler.get_jobs():
        if stored.id not in jobs.JOBS:
            stored.remove()
