"""Two workers (two machines) firing the same job for the same period at the same moment: one does
the work, the other meets the run key and skips. Real threads with their own connections; an
in-memory SQLite database is private to one connection, so on SQLite this runs on a database file."""
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from inspect_app.accounts.models import Role
from inspect_app.i18n import local_zone
from inspect_app.tickets.models import EventKind, Notification
from inspect_app.worker import jobs
from inspect_app.worker.models import JobRun
from tests.conftest import Factories, at_once, threaded_app

pytestmark = pytest.mark.real_commits
RACERS = 2


@pytest.fixture(scope="module")
def app(app, tmp_path_factory):
    yield from threaded_app(app, tmp_path_factory, "run-keys")


def _at_once(app, name, now) -> list:
    def run(_n):
        with app.app_context():
            return jobs.run(name, now)
    return at_once(RACERS, run, lambda error: f"{type(error).__name__}: {error}", timeout=60)


def _after_cutoff(app) -> datetime:
    with app.app_context():
        day = datetime.now(local_zone()).date() + timedelta(days=1)
        return datetime.combine(day, time(16, 0, 30), tzinfo=local_zone())


def test_the_report_reminder_fired_twice_at_once_tells_each_leader_once(app, db):
    factories = Factories(app)
    leaders = [factories.user(Role.LEADER) for _ in range(2)]
    now = _after_cutoff(app)
    outcomes = _at_once(app, "report-signing-reminder", now)
    assert sorted(outcomes, key=str) == [False, True], outcomes
    told = db.session.scalars(sa.select(Notification.user_id).where(
        Notification.kind == EventKind.REPORT_UNSIGNED)).all()
    assert sorted(told) == sorted(leader.id for leader in leaders)
    run = db.session.scalars(sa.select(JobRun)).one()
    assert (run.job, run.period) == ("report-signing-reminder", now.date().isoformat())
    assert run.finished_at is not None and run.outcome == "2 leaders told"


def test_a_job_fired_twice_at_once_does_its_work_once(app, monkeypatch):
    calls = []
    monkeypatch.setitem(jobs.JOBS, "probe", jobs.Job("probe", lambda now: calls.append(now) or "probed",
                                                     slot_minutes=15))
    now = _after_cutoff(app)
    assert sorted(_at_once(app, "probe", now), key=str) == [False, True]
    assert calls == [now]
    # The next period is another run.
    assert _at_once(app, "probe", now + timedelta(minutes=15)).count(True) == 1
    assert len(calls) == 2


def test_a_failed_run_gives_its_period_back(app, db, monkeypatch):
    attempts = []

    def flaky(now):
        attempts.append(now)
        if len(attempts) == 1:
            raise RuntimeError("database went away")
        return "done"
    monkeypatch.setitem(jobs.JOBS, "flaky", jobs.Job("flaky", flaky, slot_minutes=5))
    now = _after_cutoff(app)
    with pytest.raises(RuntimeError):
        jobs.run("flaky", now)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRun)) == 0
    assert jobs.run("flaky", now) is True
    assert jobs.run("flaky", now) is False
    assert len(attempts) == 2
