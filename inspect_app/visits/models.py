"""A visit, its answers and its findings. A submitted visit never changes."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from inspect_app.accounts.models import User
from inspect_app.checklists.models import Severity, TemplateVersion, VisitMode
from inspect_app.dbtypes import LabelledEnum, UTCDateTime, enum_column, utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.schools.models import School


class VisitStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class Result(LabelledEnum):
    PASS = "pass", _l("Pass")
    FAIL = "fail", _l("Fail")
    NA = "na", _l("N/A")


class VisitLocked(DomainError):
    """The visit was submitted and can no longer change."""

    status = 409

    def __init__(self):
        super().__init__(_l("This visit was submitted and can no longer be changed."))


class Visit(db.Model):
    __tablename__ = "visits"
    __table_args__ = (sa.Index("ix_visits_school_submitted", "school_id", "server_submitted_at"),
                      # The daily report and the dashboard select by the time a visit reached us.
                      sa.Index("ix_visits_status_submitted", "status", "server_submitted_at"))

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("schools.id"), index=True)
    version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("template_versions.id"))
    mode: so.Mapped[VisitMode] = so.mapped_column(enum_column(VisitMode))
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    status: so.Mapped[VisitStatus] = so.mapped_column(enum_column(VisitStatus), default=VisitStatus.IN_PROGRESS)
    # The phone's clock, and ours: both are kept, their difference is a flag.
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    submitted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    server_started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    server_submitted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    clock_skew_s: so.Mapped[float | None]
    # Check-in location, its accuracy, and the distance to the school computed by the server.
    lat: so.Mapped[float | None]
    lon: so.Mapped[float | None]
    accuracy_m: so.Mapped[float | None]
    distance_m: so.Mapped[float | None]
    qr_scanned: so.Mapped[bool] = so.mapped_column(default=False)
    corrects_id: so.Mapped[str | None] = so.mapped_column(sa.ForeignKey("visits.id"))
    body_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))

    school: so.Mapped[School] = so.relationship()
    version: so.Mapped[TemplateVersion] = so.relationship()
    author: so.Mapped[User] = so.relationship()
    # One way only: nothing reads an answer's visit through it, and the way back cost every answer of a
    # whole-visit PUT a backref event and a save-update cascade (issue 18).
    answers: so.Mapped[list["Answer"]] = so.relationship(cascade="all, delete-orphan", order_by="Answer.id")
    findings: so.Mapped[list["Finding"]] = so.relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="Finding.position")

    @property
    def kind_label(self) -> str:
        """The checklist's name, with the kind of visit only where the name does not already say it:
        "学校每日自查", never "学校每日自查 · 每日自查"."""
        name, mode = self.version.template.name, self.mode.label
        return name if mode in name else f"{name} · {mode}"

    @property
    def submitted(self) -> bool:
        return self.status is VisitStatus.SUBMITTED

    def ensure_editable(self) -> None:
        if self.submitted:
            raise VisitLocked()

    def submit(self, submitted_at: datetime) -> None:
        """Freeze the visit; from here on a correction is a new visit that refers to this one."""
        self.ensure_editable()
        self.status = VisitStatus.SUBMITTED
        self.submitted_at = submitted_at
        self.server_submitted_at = utcnow()

    def answer_for(self, code: str) -> "Answer | None":
        for answer in self.answers:  # a plain loop: a visit asks this once per item
            if answer.code == code:
                return answer
        return None

    def finding_for(self, code: str) -> "Finding | None":
        for finding in self.findings:
            if finding.item_code == code:
                return finding
        return None

    @property
    def on_site(self) -> bool | None:
        if self.distance_m is None:
            return None
        # Within the fence, allowing for the phone's own uncertainty (capped: ±5 km proves nothing).
        return self.distance_m <= self.school.radius_m + min(self.accuracy_m or 0, 500)


class Answer(db.Model):
    __tablename__ = "answers"
    __table_args__ = (sa.UniqueConstraint("visit_id", "code", name="uq_answers_visit_code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    visit_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("visits.id", ondelete="CASCADE"))
    code: so.Mapped[str] = so.mapped_column(sa.String(32))
    result: so.Mapped[Result] = so.mapped_column(enum_column(Result, 8))
    note: so.Mapped[str] = so.mapped_column(sa.String(1000), default="")
    answered_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class Finding(db.Model):
    __tablename__ = "findings"

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    visit_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    item_code: so.Mapped[str | None] = so.mapped_column(sa.String(32))  # None: an ad-hoc finding
    position: so.Mapped[int] = so.mapped_column(default=0)
    description: so.Mapped[str] = so.mapped_column(sa.String(2000))
    severity: so.Mapped[Severity] = so.mapped_column(enum_column(Severity))
    fixed_on_site: so.Mapped[bool] = so.mapped_column(default=False)
    lat: so.Mapped[float | None]
    lon: so.Mapped[float | None]
    accuracy_m: so.Mapped[float | None]
    captured_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    visit: so.Mapped[Visit] = so.relationship(back_populates="findings")
