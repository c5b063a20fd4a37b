"""The worker runs what is due on its clock: APScheduler's loop step (`_process_jobs`, what its
main loop calls after each wait) driven by a clock the test moves, never by sleeping. The job store
is a database of its own (as the worker's is the app's), so a restarted worker finds its jobs."""
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers import base as scheduler_base
from apscheduler.schedulers.base import BaseScheduler

from inspect_app.extensions import db
from inspect_app.i18n import local_zone
from inspect_app.tickets.models import EventKind, Notification
from inspect_app.worker import jobs
from inspect_app.worker.models import JobRun
from inspect_app.worker.scheduler import configure, install_jobs


class SteppedScheduler(BaseScheduler):
    """BlockingScheduler's loop without the loop: the test calls step() where it would wake up."""

    def wakeup(self):
        pass

    def shutdown(self, wait=True):
        super().shutdown(wait)

    def step(self):
        return self._process_jobs()


class Clock:
    def __init__(self, at: datetime):
        self.at = at


@pytest.fixture
def clock(app, monkeypatch):
    with app.app_context():
        day = datetime.now(local_zone()).date() + timedelta(days=2)
        driven = Clock(datetime.combine(day, time(15, 58), tzinfo=local_zone()))

    class DrivenDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return driven.at.astimezone(tz)
    monkeypatch.setattr(scheduler_base, "datetime", DrivenDatetime)
    monkeypatch.setattr(jobs, "clock", lambda: driven.at)
    return driven


def _worker(app, store_url) -> SteppedScheduler:
    scheduler = SteppedScheduler()
    configure(scheduler, app, jobstore_url=store_url, executor=DebugExecutor())
    scheduler.start(paused=True)
    install_jobs(scheduler)
    scheduler.resume()
    return scheduler


def _runs(app) -> set[tuple[str, str]]:
    with app.app_context():
        return set(db.session.execute(sa.select(JobRun.job, JobRun.period)).tuples())


def _slower(app) -> set:
    """The runs of every job but the every-minute delivery of notices."""
    return {run for run in _runs(app) if run[0] != "deliver-notices"}


def test_the_worker_runs_due_jobs_once_each_and_catches_up_after_a_restart(app, db, world, clock, tmp_path):
    store = f"sqlite:///{tmp_path / 'jobstore.db'}"
    day = clock.at.date().isoformat()
    scheduler = _worker(app, store)
    scheduler.step()
    assert _slower(app) == set()  # 15:58: nothing is due but the notices, every minute
    assert _runs(app) == {("deliver-notices", f"{day}T15:58")}

    clock.at += timedelta(minutes=2, seconds=20)  # 16:00:20
    scheduler.step()
    assert _slower(app) == {("escalate", f"{day}T16:00"), ("self-report-reminders", f"{day}T16:00"),
                          ("report-signing-reminder", day)}
    told = db.session.scalars(sa.select(Notification.user_id).where(
        Notification.kind == EventKind.REPORT_UNSIGNED, Notification.day == clock.at.date())).all()
    assert told == [world.leader.id]
    scheduler.step()  # the same moment again: each job has moved on to its next time
    assert len(_slower(app)) == 3

    clock.at += timedelta(minutes=7)  # 16:07:20
    scheduler.step()
    assert {("retention", f"{day}T16:00"), ("self-report-reminders", f"{day}T16:05")} <= _slower(app)
    scheduler.shutdown(wait=False)

    # The worker is down overnight; started again at 09:30, it finds its jobs in the store and runs
    # the missed ones once each (coalesced), the morning's triage reminder among them.
    clock.at = datetime.combine(clock.at.date() + timedelta(days=1), time(9, 30), tzinfo=clock.at.tzinfo)
    before = _slower(app)
    restarted = _worker(app, store)
    restarted.step()
    assert ("deliver-notices", f"{clock.at.date().isoformat()}T09:30") in _runs(app)
    new = _slower(app) - before
    tomorrow = clock.at.date().isoformat()
    assert new == {("escalate", f"{tomorrow}T09:30"), ("self-report-reminders", f"{tomorrow}T09:30"),
                   ("retention", f"{tomorrow}T09:00"), ("complaint-triage-reminders", tomorrow)}
    restarted.shutdown(wait=False)
