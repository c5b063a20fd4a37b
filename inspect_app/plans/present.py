"""What each viewer sees of a task and a plan (plans.access decides)."""
from __future__ import annotations

from datetime import datetime

from inspect_app.accounts.models import User
from inspect_app.plans.access import reveal_at, shows_school
from inspect_app.plans.models import Plan, Task
from inspect_app.plans.risk import reason_text


def task_view(task: Task, viewer: User, now: datetime) -> dict:
    """A task; before its reveal time the assignee sees its days and mode, not its school."""
    revealed = shows_school(viewer, task, now)
    return {"id": task.id, "school_id": task.school_id if revealed else None,
            "school_name": task.school.name if revealed else None, "reveal_at": None if revealed else reveal_at(task),
            # Where to go (address and a map link on the assignee's home), only once the school is shown.
            "address": task.school.address if revealed else None,
            "position": (task.school.lat, task.school.lon) if revealed and task.school.lat is not None
            and task.school.lon is not None else None,
            "mode": task.mode, "window_start": task.window_start, "window_end": task.window_end,
            "status": task.status, "progress": task.progress(now), "plan_id": task.plan_id,
            "assignee": task.assignee.name_for(viewer), "assignee_id": task.assignee_id, "visit_id": task.visit_id}


def score_view(entry: dict, names: dict[int, str]) -> dict:
    return {"school_id": entry["school_id"], "school_name": names.get(entry["school_id"], ""),
            "score": entry["score"], "due": entry["due"],
            "reasons": [reason_text(r["kind"], r["n"]) for r in entry["reasons"]]}


def plan_view(plan: Plan, viewer: User, now: datetime, names: dict[int, str]) -> dict:
    from inspect_app.plans.planning import progress
    return {"id": plan.id, "date_from": plan.date_from, "date_to": plan.date_to, "count": plan.count,
            "modes": plan.modes, "weighting": plan.weighting, "auto": plan.auto_assignees,
            "assignee_ids": plan.assignee_ids, "seed": plan.seed, "created_at": plan.created_at,
            "created_by": plan.created_by.name_for(viewer),
            "tasks": [task_view(t, viewer, now) for t in plan.tasks], "progress": progress(plan, now),
            "scores": [score_view(entry, names) for entry in plan.scores]}
