"""What the worker runs, when, and the run key that makes each period's run happen once.

Every job's work was already idempotent (a notice has a unique key, a ticket's ladder step is taken
once, an erased contact stays erased). The run key adds that a period's work is *done* once: the
first worker, on any machine, to insert (job, period) into job_runs does it; another worker firing
the same job for the same period meets the unique key and skips. A run that fails gives its claim
back, so the next tick retries; a worker killed mid-run leaves its claim and that period is skipped
(the next period catches up: every job looks at the state, not at what happened since last time).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.i18n import local_zone

log = logging.getLogger(__name__)
# Run keys are kept this long (a month of "did it run?"), then the retention job drops them.
KEEP_RUNS = timedelta(days=31)


def clock() -> datetime:
    """Now, for the jobs (tests drive it together with the scheduler's)."""
    return utcnow()


# ---- the work -------------------------------------------------------------------------------------

def escalate(now: datetime) -> str:
    from inspect_app.tickets.handovers import escalate_unacknowledged
    from inspect_app.tickets.services import escalate_overdue
    steps, sheets = escalate_overdue(now), escalate_unacknowledged(now)
    db.session.commit()
    return f"{steps} escalation steps, {sheets} hand-over sheets"


def remind_self_reports(now: datetime) -> str:
    from inspect_app.duties.services import remind
    from inspect_app.idempotency import first_writer_wins
    return f"{first_writer_wins(lambda: remind(now))} reminders"


def _notify_leaders_once(kind, day: date) -> int:
    """A notice about the bureau's day to each active leader, once per leader and day."""
    from inspect_app.accounts.models import Role, User
    from inspect_app.tickets.models import Notification
    told = set(db.session.scalars(sa.select(Notification.user_id).where(
        Notification.kind == kind, Notification.day == day)))
    leaders = [uid for uid in db.session.scalars(sa.select(User.id).where(User.role == Role.LEADER, User.active))
               if uid not in told]
    db.session.add_all(Notification(user_id=uid, kind=kind, day=day, created_at=utcnow()) for uid in leaders)
    db.session.commit()
    return len(leaders)


def remind_triage(now: datetime) -> str:
    """Complaints past their triage deadline: the leaders, who see the queue and assign it, are told
    once a day (each inspector's queue already shows them; telling thousands of inspectors would be noise)."""
    from inspect_app.complaints.services import untriaged_overdue_count
    from inspect_app.tickets.models import EventKind
    overdue = untriaged_overdue_count(now)
    if not overdue:
        return "no complaint overdue for triage"
    day = now.astimezone(local_zone()).date()
    return f"{overdue} overdue, {_notify_leaders_once(EventKind.TRIAGE_OVERDUE, day)} leaders told"


def remind_report_signing(now: datetime) -> str:
    """At 16:00 the day's report closes and waits for a leader's signature: if nobody has signed it
    yet, every leader is told (once). It cannot be signed before the cut-off (reports.services.sign)."""
    from inspect_app.reports.models import DailyReport
    from inspect_app.reports.services import window
    from inspect_app.tickets.models import EventKind
    day = now.astimezone(local_zone()).date()
    if now < window(day)[1]:
        return "before the cut-off"
    if db.session.scalar(sa.select(DailyReport.id).where(DailyReport.day == day)) is not None:
        return "signed"
    return f"{_notify_leaders_once(EventKind.REPORT_UNSIGNED, day)} leaders told"


def retention(now: datetime) -> str:
    """The deletions the law and the limits call for: complainants' contacts after retention (PIPL),
    the public's rate-limit rows past their windows; and this worker's own old run keys."""
    from inspect_app.complaints.services import purge_contacts
    from inspect_app.worker.models import JobRun
    erased = purge_contacts(now)
    runs = db.session.execute(sa.delete(JobRun).where(JobRun.started_at < now - KEEP_RUNS)).rowcount
    db.session.commit()
    return f"{erased} contacts erased, {runs} old run keys dropped"


# ---- the schedule ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    name: str
    work: Callable[[datetime], str]
    # APScheduler cron fields, in the bureau's time zone.
    cron: dict = field(default_factory=dict)
    # The run key's period: slots of this many minutes of local time, or the local day (None).
    slot_minutes: int | None = None

    def period(self, now: datetime) -> str:
        local = now.astimezone(local_zone())
        if self.slot_minutes is None:
            return local.date().isoformat()
        minutes = local.hour * 60 + local.minute
        start = minutes - minutes % self.slot_minutes
        return f"{local.date().isoformat()}T{start // 60:02d}:{start % 60:02d}"


JOBS = {job.name: job for job in (
    # The ladder's steps are a day apart; a quarter of an hour late is on time.
    Job("escalate", escalate, {"minute": "*/15"}, slot_minutes=15),
    # The daily report's reminders come 30 minutes before the deadline and at it.
    Job("self-report-reminders", remind_self_reports, {"minute": "*/5"}, slot_minutes=5),
    # Morning, when the bureau starts its day.
    Job("complaint-triage-reminders", remind_triage, {"hour": "9", "minute": "0"}),
    Job("report-signing-reminder", remind_report_signing, {"hour": "16", "minute": "0"}),
    Job("retention", retention, {"minute": "7"}, slot_minutes=60),
)}


# ---- running one ----------------------------------------------------------------------------------

def run(name: str, now: datetime | None = None) -> bool:
    """Do `name`'s work for the period `now` falls in, unless some worker already did (False)."""
    from inspect_app.worker.models import JobRun
    job = JOBS[name]
    now = now or clock()
    claim = JobRun(job=name, period=job.period(now), started_at=utcnow())
    db.session.add(claim)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        log.info("job %s for %s already run by another worker", name, job.period(now))
        return False
    claim_id = claim.id
    try:
        outcome = job.work(now)
    except Exception:
        db.session.rollback()
        db.session.execute(sa.delete(JobRun).where(JobRun.id == claim_id))
        db.session.commit()
        log.exception("job %s failed; its period will be tried again", name)
        raise
    db.session.execute(sa.update(JobRun).where(JobRun.id == claim_id).values(
        finished_at=utcnow(), outcome=outcome[:200]))
    db.session.commit()
    log.info("job %s for %s: %s", name, job.period(now), outcome)
    return True


_app: Flask | None = None


def bind(app: Flask) -> None:
    """The app the scheduled entry point runs in (the job store keeps only a function's name)."""
    global _app
    _app = app


def scheduled(name: str) -> None:
    """What APScheduler calls (stored by reference as "inspect_app.worker.jobs:scheduled")."""
    with _app.app_context():
        run(name)
