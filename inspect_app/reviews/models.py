"""A review: the inspector's pass, the later failure that contradicts it, and the leader's decision."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from inspect_app.accounts.models import Role, User
from inspect_app.dbtypes import LabelledEnum, UTCDateTime, enum_column, utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.schools.models import School
from inspect_app.visits.models import Visit


class ReviewStatus(LabelledEnum):
    OPEN = "open", _l("Awaiting decision")
    UPHELD = "upheld", _l("Upheld")
    DISMISSED = "dismissed", _l("Dismissed")


class ReviewError(DomainError):
    status = 409


class Review(db.Model):
    __tablename__ = "reviews"
    __table_args__ = (sa.UniqueConstraint("passed_visit_id", "item_code", "contradicting_visit_id",
                                          name="uq_reviews_pass_contradiction"),
                      sa.Index("ix_reviews_status_opened", "status", "opened_at"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    inspector_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    school_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("schools.id"))
    item_code: so.Mapped[str] = so.mapped_column(sa.String(32))
    passed_visit_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("visits.id"))
    # What contradicts the pass: a later visit's failure, or a substantiated complaint about the item.
    contradicting_visit_id: so.Mapped[str | None] = so.mapped_column(sa.ForeignKey("visits.id"))
    contradicting_complaint_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("complaints.id"))
    status: so.Mapped[ReviewStatus] = so.mapped_column(enum_column(ReviewStatus), default=ReviewStatus.OPEN)
    opened_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    note: so.Mapped[str] = so.mapped_column(sa.String(2000), default="")

    inspector: so.Mapped[User] = so.relationship(foreign_keys=[inspector_id])
    decided_by: so.Mapped[User | None] = so.relationship(foreign_keys=[decided_by_id])
    school: so.Mapped[School] = so.relationship()
    passed_visit: so.Mapped[Visit] = so.relationship(foreign_keys=[passed_visit_id])
    contradicting_visit: so.Mapped[Visit | None] = so.relationship(foreign_keys=[contradicting_visit_id])

    def decision_refused(self, leader: User) -> ReviewError | None:
        """The one rule for deciding: a leader, once, with a note (the audit chain keeps the rest)."""
        if leader.role is not Role.LEADER:
            return ReviewError(str(_l("Only a leader decides a review.")), 403)
        if self.status is not ReviewStatus.OPEN:
            return ReviewError(str(_l("This review was already decided.")))
        return None

    def decide(self, leader: User, uphold: bool, note: str) -> None:
        if refusal := self.decision_refused(leader):
            raise refusal
        note = (note or "").strip()
        if not note:
            raise ReviewError(str(_l("Say why: the note is kept with the decision.")), 422, "note")
        self.status = ReviewStatus.UPHELD if uphold else ReviewStatus.DISMISSED
        self.decided_by, self.decided_at, self.note = leader, utcnow(), note[:2000]
