"""Who sees plans and tasks: sealed. A task is seen by its assignee and by the planners (leaders and
admins), nobody else; a plan's task shows its school to the assignee only from the morning of its
day (TASK_REVEAL_TIME), so a list of upcoming targets cannot leak early. No school-facing page,
notice or answer reads this package."""
from __future__ import annotations

from datetime import datetime, time

from flask import abort, current_app

from inspect_app.accounts.models import MANAGER_ROLES, User
from inspect_app.extensions import db
from inspect_app.i18n import local_zone
from inspect_app.plans.models import Plan, Task

PLANNER_ROLES = MANAGER_ROLES


def can_plan(user: User) -> bool:
    return user.is_authenticated and user.role in PLANNER_ROLES


def can_view_task(user: User, task: Task) -> bool:
    return can_plan(user) or task.assignee_id == user.id


def reveal_at(task: Task) -> datetime:
    """When the assignee may learn the school: TASK_REVEAL_TIME on the first day of the window."""
    hour, minute = (int(part) for part in current_app.config["TASK_REVEAL_TIME"].split(":"))
    day = task.window_start.astimezone(local_zone()).date()
    return datetime.combine(day, time(hour, minute), tzinfo=local_zone())


def shows_school(viewer: User, task: Task, now: datetime) -> bool:
    """Planners always; the assignee of a plan's task from its reveal time (a complaint's task at
    once: the complaint already named the school to the bureau)."""
    if can_plan(viewer):
        return True
    if task.assignee_id != viewer.id:
        return False
    return task.plan_id is None or now >= reveal_at(task)


def get_plan_or_404(plan_id: int, user: User) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None or not can_plan(user):
        abort(404)
    return plan
