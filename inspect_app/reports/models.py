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
