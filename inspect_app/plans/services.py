"""Creating tasks, and marking one done when its assignee submits a visit at its school."""
from __future__ import annotations

import functools
from datetime import date, datetime, time

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _

from inspect_app.accounts.models import ASSIGNEE_ROLES, User
from inspect_app.checklists.models import MODES_BY_ROLE, VisitMode
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db, known
from inspect_app.i18n import local_zone
from inspect_app.plans.models import Task, TaskError, TaskStatus
from inspect_app.schools.access import can_view_school
from inspect_app.schools.models import School, recused_school_ids
from inspect_app.visits.models import Visit
from inspect_app.visits.services import visit_submitted

signals = Namespace()
# Sent when a visit carries out a task; whoever asked for the task (a complaint) reacts.
task_done = signals.signal("task-done")

# An unannounced check is planned days ahead, not months: a long window would stale the complaint.
MAX_WINDOW_DAYS = 31


def assignees() -> list[User]:
    """Who can be sent: active inspectors and volunteers."""
    return list(db.session.scalars(sa.select(User).where(User.role.in_(ASSIGNEE_ROLES), User.active)
                                   .order_by(User.role, User.username)))


def _day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    tz = local_zone()
    return (datetime.combine(first, time.min, tzinfo=tz), datetime.combine(last, time(23, 59, 59), tzinfo=tz))


def create_task(assignee: User | None, school: School, first: date | None, last: date | None,
                created_by: User, source_complaint_id: int | None = None, mode: VisitMode | None = None) -> Task:
    """A check by `assignee` at `school` between two days (local), in `mode` if given (one their role
    may run), else their role's first; refused with the field it concerns."""
    if assignee is None or assignee.role not in ASSIGNEE_ROLES or not assignee.active:
        raise TaskError(_("Choose an inspector or a volunteer to send."), 422, "assignee_id")
    if not can_view_school(assignee, school) or school.id in recused_school_ids(assignee.id):
        raise TaskError(_("This person cannot check this school (not assigned to it, recused from it, or their "
                          "child studies there)."),
                        422, "assignee_id")
    if first is None or last is None:
        raise TaskError(_("Give the first and the last day of the window."), 422, "window_start")
    today = utcnow().astimezone(local_zone()).date()
    if last < first or last < today:
        raise TaskError(_("The window must end today or later, and not before it starts."), 422, "window_end")
    if (last - first).days >= MAX_WINDOW_DAYS:
        raise TaskError(_("A window is at most %(n)s days.", n=MAX_WINDOW_DAYS), 422, "window_end")
    start, end = _day_bounds(first, last)
    # By default volunteers check covertly, inspectors unannounced but openly: each role's first mode.
    if mode is None:
        mode = MODES_BY_ROLE[assignee.role][0]
    elif mode not in MODES_BY_ROLE[assignee.role] or mode.remote or mode is VisitMode.SELF_CHECK:
        # A task is a visit at the school by someone the bureau sends: never a phone call or a self-check.
        raise TaskError(_("This person cannot make this kind of check."), 422, "mode")
    task = Task(assignee=assignee, school=school, mode=mode, window_start=start, window_end=end,
                source_complaint_id=source_complaint_id, created_by_id=created_by.id)
    db.session.add(task)
    return task


def open_tasks(user: User) -> list[Task]:
    return list(db.session.scalars(sa.select(Task).where(Task.assignee_id == user.id, Task.status == TaskStatus.OPEN)
                                   .order_by(Task.window_end, Task.id)))


def own_tasks_query(user: User) -> sa.Select:
    return sa.select(Task).where(Task.assignee_id == user.id).order_by(Task.status, Task.window_end, Task.id)


def own_tasks(user: User, limit: int = 500) -> list[Task]:
    return list(db.session.scalars(own_tasks_query(user).limit(limit)))


@visit_submitted.connect
def complete_tasks(sender, visit: Visit, **_extra) -> None:
    """The assignee's first submitted visit at the school once the window opened does the task
    (a late one too: the check happened, and the record says when)."""
    if visit.mode is VisitMode.SELF_CHECK:
        return
    if known("open_tasks").get((visit.author_id, visit.school_id)) is False:
        return  # the request already knows there is none (remember_open_tasks)
    at = visit.server_submitted_at or utcnow()
    with db.session.no_autoflush:
        tasks = db.session.scalars(_open_tasks_query(), {"author_id": visit.author_id, "school_id": visit.school_id,
                                                         "at": at}).all()
    for task in tasks[:1]:
        task.complete(visit, at)
        task_done.send(current_app._get_current_object(), task=task)


def has_open_task(user_id, school_id) -> sa.Exists:
    """Whether a person has an open task at a school, as a clause: for a query that reads the school
    anyway (the whole-visit PUT), so a submission without a task to do asks nothing more (issue 18)."""
    return sa.exists().where(Task.assignee_id == user_id, Task.school_id == school_id, Task.status == TaskStatus.OPEN)


def remember_open_tasks(user_id: int, school_id: int, any_open: bool) -> None:
    """What has_open_task said, for this transaction: with none open, complete_tasks looks no further."""
    known("open_tasks")[user_id, school_id] = any_open


@functools.cache
def _open_tasks_query() -> sa.Select:
    """Built once: every submission asks, and building and keying a select cost about as much of the
    app's time as running it (issue 18)."""
    return (sa.select(Task).where(Task.assignee_id == sa.bindparam("author_id"),
                                  Task.school_id == sa.bindparam("school_id"), Task.status == TaskStatus.OPEN,
                                  Task.window_start <= sa.bindparam("at"))
            .order_by(Task.window_end))
