"""A complaint, its public replies, its photos, and the counters that rate-limit the public."""
from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from inspect_app.accounts.models import User
from inspect_app.dbtypes import LabelledEnum, UTCDateTime, enum_column, utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.schools.models import School
from inspect_app.tickets.models import Ticket

# The complaint's words go to the school as a ticket's problem when the bureau hands it over.
TEXT_MAX_CHARS = 2000
CONTACT_MAX_CHARS = 100
REPLY_MAX_CHARS = 1000


class ComplaintSource(LabelledEnum):
    ONLINE = "online", _l("Online")
    PHONE = "phone", _l("Hotline")
    LETTER = "letter", _l("Letter")


class ComplaintStatus(LabelledEnum):
    # The labels are what the complainant's page says (UX.md: 已受理 → 已交学校整改 / 已安排核查 → 已办结).
    RECEIVED = "received", _l("Received")
    TRIAGED = "triaged", _l("Handed to the school to rectify")
    VISIT_PLANNED = "visit_planned", _l("A check is arranged")
    RESOLVED = "resolved", _l("Resolved")
    REJECTED = "rejected", _l("Not accepted")

    CLOSED: ClassVar[frozenset["ComplaintStatus"]]  # nothing more happens; the contact's days are counted
    IN_PROGRESS: ClassVar[frozenset["ComplaintStatus"]]


ComplaintStatus.CLOSED = frozenset({ComplaintStatus.RESOLVED, ComplaintStatus.REJECTED})
ComplaintStatus.IN_PROGRESS = frozenset({ComplaintStatus.TRIAGED, ComplaintStatus.VISIT_PLANNED})


class ComplaintError(DomainError):
    """A move the complaint's state does not allow (409), or a refused field (422 with its name)."""

    status = 409


class Complaint(db.Model):
    __tablename__ = "complaints"
    __table_args__ = (sa.Index("ix_complaints_status_received", "status", "received_at"),
                      sa.Index("ix_complaints_school_received", "school_id", "received_at"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("schools.id"))
    text: so.Mapped[str] = so.mapped_column(sa.String(TEXT_MAX_CHARS))
    # PIPL: seen by the bureau's triage staff only, and erased CONTACT_RETENTION_DAYS after closing
    # (`flask complaints purge-contacts`); redacted in the audit chain so erasing it erases it.
    contact: so.Mapped[str | None] = so.mapped_column(sa.String(CONTACT_MAX_CHARS))
    contact_erased_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    anonymous: so.Mapped[bool] = so.mapped_column(default=True)
    source: so.Mapped[ComplaintSource] = so.mapped_column(enum_column(ComplaintSource), default=ComplaintSource.ONLINE)
    status: so.Mapped[ComplaintStatus] = so.mapped_column(enum_column(ComplaintStatus),
                                                          default=ComplaintStatus.RECEIVED)
    # Only the SHA-256 of the tracking code: the table alone does not open anyone's complaint page.
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # The page's idempotency key (hashed) and what was sent, so a retried submission stores once.
    submission_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    body_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    triaged_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    logged_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))  # hotline/letter
    triaged_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    ticket_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("tickets.id"), unique=True)
    version: so.Mapped[int] = so.mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    school: so.Mapped[School] = so.relationship()
    ticket: so.Mapped[Ticket | None] = so.relationship()
    triaged_by: so.Mapped[User | None] = so.relationship(foreign_keys=[triaged_by_id])
    logged_by: so.Mapped[User | None] = so.relationship(foreign_keys=[logged_by_id])
    replies: so.Mapped[list["ComplaintReply"]] = so.relationship(
        back_populates="complaint", order_by="ComplaintReply.id", cascade="all, delete-orphan")
    photos: so.Mapped[list["ComplaintPhoto"]] = so.relationship(cascade="all, delete-orphan")

    def check_untriaged(self) -> None:
        if self.status is not ComplaintStatus.RECEIVED:
            raise ComplaintError(str(_l("This complaint was already dealt with: %(status)s.",
                                        status=self.status.label)))

    def reply(self, author: User | None, text: str) -> "ComplaintReply":
        reply = ComplaintReply(author=author, text=text)
        self.replies.append(reply)
        return reply

    def _triage(self, actor: User, status: ComplaintStatus, reply: str) -> None:
        self.check_untriaged()
        self.status, self.triaged_by, self.triaged_at = status, actor, utcnow()
        if reply:
            self.reply(actor, reply)

    def reject(self, actor: User, reason: str) -> None:
        """Not accepted, with the reason the complainant reads."""
        if not reason:
            raise ComplaintError(str(_l("Give the reason the complainant will read.")), 422, "reply")
        self._triage(actor, ComplaintStatus.REJECTED, reason)
        self.closed_at = self.triaged_at

    def hand_to_school(self, actor: User, ticket: Ticket, reply: str) -> None:
        self._triage(actor, ComplaintStatus.TRIAGED, reply)
        self.ticket = ticket

    def plan_visit(self, actor: User, reply: str) -> None:
        self._triage(actor, ComplaintStatus.VISIT_PLANNED, reply)

    def resolve(self, reply: str) -> None:
        """The ticket was closed out, or the planned check was made: the system says so."""
        if self.status not in ComplaintStatus.IN_PROGRESS:
            raise ComplaintError(str(_l("Only a complaint in progress can be resolved.")))
        self.status, self.closed_at = ComplaintStatus.RESOLVED, utcnow()
        self.reply(None, reply)

    def erase_contact(self, at: datetime) -> None:
        self.contact, self.contact_erased_at = None, at


class ComplaintReply(db.Model):
    """A reply the complainant reads on the tracking page; its author is for the bureau only."""

    __tablename__ = "complaint_replies"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    complaint_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    text: so.Mapped[str] = so.mapped_column(sa.String(REPLY_MAX_CHARS))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    author_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))  # None: the system

    complaint: so.Mapped[Complaint] = so.relationship(back_populates="replies")
    author: so.Mapped[User | None] = so.relationship()


class ComplaintPhoto(db.Model):
    __tablename__ = "complaint_photos"

    complaint_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("complaints.id", ondelete="CASCADE"),
                                                    primary_key=True)
    photo_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("photos.id"), primary_key=True, index=True)


class RateEvent(db.Model):
    """One counted request of the public (a submission, a wrong tracking code), by a keyed hash of
    the client's address: counted in the database so the limits hold across workers and hosts."""

    __tablename__ = "rate_events"
    __table_args__ = (sa.Index("ix_rate_events_bucket_key_at", "bucket", "key", "at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    bucket: so.Mapped[str] = so.mapped_column(sa.String(20))
    key: so.Mapped[str] = so.mapped_column(sa.String(64))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
