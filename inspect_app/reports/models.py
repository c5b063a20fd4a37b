"""A signed daily report: frozen content and its hash, kept as the version of record."""
from __future__ import annotations

import hashlib
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from inspect_app.accounts.models import User
from inspect_app.dbtypes import UTCDateTime, utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.schools.models import School


class ReportError(DomainError):
    """A report step the day's state does not allow (signing twice, before its time)."""

    status = 409


class DailyReport(db.Model):
    __tablename__ = "daily_reports"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    day: so.Mapped[date] = so.mapped_column(sa.Date, unique=True)
    content: so.Mapped[str] = so.mapped_column(sa.Text)  # canonical JSON of what was signed
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    signed_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    signed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    signed_by: so.Mapped[User] = so.relationship()

    @staticmethod
    def digest(content: str) -> str:
        return hashlib.sha256(content.encode()).hexdigest()

    def intact(self) -> bool:
        return self.digest(self.content) == self.content_hash


# The schools a circular names: their own problems and good practice go to them, and their good
# practice to every school. Changed through `Circular.named` only, so the audit chain sees each link.
circular_named_schools = sa.Table(
    "circular_named_schools", db.Model.metadata,
    sa.Column("circular_id", sa.ForeignKey("circulars.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("school_id", sa.ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True),
)


class Circular(db.Model):
    """A signed daily report circulated (每日通报): once per report, to the leaders in full and to
    every school as an excerpt of its own items (built from the frozen content when read)."""
    __tablename__ = "circulars"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    report_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("daily_reports.id"), unique=True)
    sent_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    sent_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    report: so.Mapped[DailyReport] = so.relationship()
    sent_by: so.Mapped[User] = so.relationship()
    named: so.Mapped[list[School]] = so.relationship(secondary=circular_named_schools, order_by="School.name")
    reads: so.Mapped[list["CircularRead"]] = so.relationship(back_populates="circular", order_by="CircularRead.read_at")


class CircularRead(db.Model):
    """A read receipt: the first time a person opened the circular (a school's officer, a leader)."""
    __tablename__ = "circular_reads"
    __table_args__ = (sa.UniqueConstraint("circular_id", "user_id", name="uq_circular_reads_user"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    circular_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("circulars.id", ondelete="CASCADE"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # The reader's school when a school read it (None for the bureau's people): receipts per school.
    school_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    read_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    circular: so.Mapped[Circular] = so.relationship(back_populates="reads")
    user: so.Mapped[User] = so.relationship()
