"""A task: one check at one school by one person, somewhere within a window of days."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
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
    plan_id: so.Mapped[int | None] = so.mapped_column(index=True)
    visit_id: so.Mapped[str | None] = so.mapped_column(sa.ForeignKey("visits.id"), unique=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    done_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    assignee: so.Mapped[User] = so.relationship(foreign_keys=[assignee_id])
    school: so.Mapped[School] = so.relationship()
    visit: so.Mapped[Visit | None] = so.relationship()

    def complete(self, visit: Visit, at: datetime) -> None:
        """The assignee's submitted visit at the task's school carries it out."""
        if self.status is not TaskStatus.OPEN:
            raise TaskError(str(_l("This task is no longer open.")))
        if visit.author_id != self.assignee_id or visit.school_id != self.school_id:
            raise TaskError(str(_l("Only the assignee's visit at the task's school carries it out.")), 403)
        self.status, self.visit, self.done_at = TaskStatus.DONE, visit, at
