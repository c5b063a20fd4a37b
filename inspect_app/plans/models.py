"""A task: one check at one school by one person, somewhere within a window of days; a plan
(督查计划): a sealed, reproducible draw of tasks over a period."""
from __future__ import annotations

import json
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.ext.hybrid import hybrid_method
from flask_babel import lazy_gettext as _l

from inspect_app.accounts.models import User
from inspect_app.checklists.models import VisitMode
from inspect_app.dbtypes import LabelledEnum, UTCDateTime, enum_column, utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.schools.models import School
from inspect_app.visits.models import Visit


class TaskStatus(LabelledEnum):
    OPEN = "open", _l("To do")
    DONE = "done", _l("Done")
    CANCELLED = "cancelled", _l("Cancelled")


class TaskError(DomainError):
    status = 409


class Weighting(LabelledEnum):
    UNIFORM = "uniform", _l("Every school alike")
    RISK = "risk", _l("By risk")


class TaskProgress(LabelledEnum):
    """How a plan's task stands: what the dashboard counts (a task's status plus its window)."""
    PENDING = "pending", _l("Not yet due")
    DONE = "done", _l("Done")
    LATE = "late", _l("Done late")
    MISSED = "missed", _l("Missed")
    CANCELLED = "cancelled", _l("Cancelled")


class Plan(db.Model):
    """A sealed plan. What was drawn can be drawn again: the seed and every school's score as they
    were are stored, and `risk.draw(seed, scores, ...)` is a pure function of them."""

    __tablename__ = "plans"
    __table_args__ = (sa.CheckConstraint("date_to >= date_from", name="period_order"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    date_from: so.Mapped[date] = so.mapped_column(sa.Date)
    date_to: so.Mapped[date] = so.mapped_column(sa.Date)
    count: so.Mapped[int] = so.mapped_column()
    weighting: so.Mapped[Weighting] = so.mapped_column(enum_column(Weighting))
    # Comma-separated VisitMode values the plan may use (each assignee gets the first their role has).
    modes_text: so.Mapped[str] = so.mapped_column(sa.String(100))
    # "auto": the responsible inspectors and assigned volunteers of each school; else the chosen ids.
    auto_assignees: so.Mapped[bool] = so.mapped_column(default=True)
    assignee_ids_json: so.Mapped[str] = so.mapped_column(sa.Text, default="[]")
    seed: so.Mapped[str] = so.mapped_column(sa.String(32))
    # Every school's score and its reasons at drawing time: [{"school_id", "score", "reasons": [...]}].
    scores_json: so.Mapped[str] = so.mapped_column(sa.Text, default="[]")
    # Who could go where, in which mode, with what load, at drawing time (risk.Candidate as dicts).
    candidates_json: so.Mapped[str] = so.mapped_column(sa.Text, default="[]")
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    created_by: so.Mapped[User] = so.relationship()
    tasks: so.Mapped[list["Task"]] = so.relationship(back_populates="plan", order_by="Task.window_start, Task.id")

    @property
    def modes(self) -> list[VisitMode]:
        return [VisitMode(m) for m in self.modes_text.split(",") if m]

    @property
    def assignee_ids(self) -> list[int]:
        return json.loads(self.assignee_ids_json)

    @property
    def scores(self) -> list[dict]:
        return json.loads(self.scores_json)

    @property
    def candidates(self) -> list[dict]:
        return json.loads(self.candidates_json)


class Task(db.Model):
    __tablename__ = "tasks"
    __table_args__ = (sa.Index("ix_tasks_assignee_status", "assignee_id", "status"),
                      sa.CheckConstraint("window_end >= window_start", name="window_order"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    assignee_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    school_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("schools.id"), index=True)
    mode: so.Mapped[VisitMode] = so.mapped_column(enum_column(VisitMode))
    # The first and the last moment the check may happen: the days the assignee is told, never the school.
    window_start: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    window_end: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    status: so.Mapped[TaskStatus] = so.mapped_column(enum_column(TaskStatus), default=TaskStatus.OPEN)
    # Where it came from: a complaint now, a sampling plan later (the plans issue adds its table).
    # By name only: complaints sit above plans and plans never import them.
    source_complaint_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("complaints.id", ondelete="SET NULL"), index=True)
    plan_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("plans.id"), index=True)
    visit_id: so.Mapped[str | None] = so.mapped_column(sa.ForeignKey("visits.id"), unique=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    done_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # When a planner cancelled it (a missed task redrawn): the daily report counts it as of its cut-off.
    cancelled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    assignee: so.Mapped[User] = so.relationship(foreign_keys=[assignee_id])
    school: so.Mapped[School] = so.relationship()
    visit: so.Mapped[Visit | None] = so.relationship()
    plan: so.Mapped[Plan | None] = so.relationship(back_populates="tasks")

    @hybrid_method
    def behind_at(self, now: datetime) -> bool:
        """Done after its window closed, or still open past it (skipped so far): the one lateness rule,
        in Python and in SQL (the coordinator's roster counts it)."""
        if self.status is TaskStatus.DONE:
            return self.done_at is not None and self.done_at > self.window_end
        return self.status is TaskStatus.OPEN and now > self.window_end

    @behind_at.expression
    def behind_at(cls, now: datetime):
        return sa.or_(sa.and_(cls.status == TaskStatus.DONE, cls.done_at > cls.window_end),
                      sa.and_(cls.status == TaskStatus.OPEN, cls.window_end < now))

    def progress(self, now: datetime) -> TaskProgress:
        if self.status is TaskStatus.CANCELLED:
            return TaskProgress.CANCELLED
        if self.status is TaskStatus.DONE:
            return TaskProgress.LATE if self.behind_at(now) else TaskProgress.DONE
        return TaskProgress.MISSED if self.behind_at(now) else TaskProgress.PENDING

    def complete(self, visit: Visit, at: datetime) -> None:
        """The assignee's submitted visit at the task's school carries it out."""
        if self.status is not TaskStatus.OPEN:
            raise TaskError(str(_l("This task is no longer open.")))
        if visit.author_id != self.assignee_id or visit.school_id != self.school_id:
            raise TaskError(str(_l("Only the assignee's visit at the task's school carries it out.")), 403)
        self.status, self.visit, self.done_at = TaskStatus.DONE, visit, at
