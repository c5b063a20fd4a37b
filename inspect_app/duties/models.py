"""A school's daily report (日报告/零报告), kept as versions: a correction is a new row, the old kept."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from sqlalchemy.ext.hybrid import hybrid_property

from inspect_app.accounts.models import User
from inspect_app.dbtypes import UTCDateTime, utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.schools.models import School

# The numbers a school reports, in the order the form and the documents list them.
COUNTS = ("absent", "absent_illness", "fever", "isolated", "staff_absent")
COUNT_LABELS = {"absent": _l("Students absent"), "absent_illness": _l("Of them, for illness"),
                "fever": _l("With fever"), "isolated": _l("Isolated"), "staff_absent": _l("Staff absent")}
# More than any one school has people: a larger number is a typo (an extra zero), not a report.
COUNT_MAX = 50_000


class DutyError(DomainError):
    """A daily report the rules refuse; 422 unless said otherwise, under the field it concerns."""

    status = 422


class SelfReport(db.Model):
    """One version of one school's report for one of its days. Versions are only ever added: the
    bureau sees the latest, and every earlier one stays as it was filed."""

    __tablename__ = "self_reports"
    __table_args__ = (
        # Two filings racing for the same next version: one wins, the other replays (idempotency.py).
        sa.UniqueConstraint("school_id", "day", "version", name="uq_self_reports_version"),
        sa.UniqueConstraint("school_id", "client_id", name="uq_self_reports_client"),
        sa.Index("ix_self_reports_day_school", "day", "school_id"),
        sa.CheckConstraint("absent >= 0 AND absent_illness >= 0 AND fever >= 0 AND isolated >= 0 "
                           "AND staff_absent >= 0", name="counts_not_negative"),
        sa.CheckConstraint("absent_illness <= absent", name="illness_within_absent"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("schools.id"))
    day: so.Mapped[date] = so.mapped_column(sa.Date)  # the school's day, where the bureau is
    version: so.Mapped[int] = so.mapped_column(default=1)
    zero: so.Mapped[bool] = so.mapped_column(default=False)  # 零报告: nothing to report
    absent: so.Mapped[int] = so.mapped_column(default=0)
    absent_illness: so.Mapped[int] = so.mapped_column(default=0)
    fever: so.Mapped[int] = so.mapped_column(default=0)
    isolated: so.Mapped[int] = so.mapped_column(default=0)
    staff_absent: so.Mapped[int] = so.mapped_column(default=0)
    note: so.Mapped[str] = so.mapped_column(sa.String(1000), default="")
    filed_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    filed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)  # when it reached us
    # The deadline in force when it was filed: changing SELF_REPORT_DEADLINE later rewrites no history.
    deadline: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    # The phone's (or the form's) id for this filing, and a hash of what it said: a retry stores once.
    client_id: so.Mapped[str | None] = so.mapped_column(sa.String(36))
    body_hash: so.Mapped[str] = so.mapped_column(sa.String(64))

    school: so.Mapped[School] = so.relationship()
    filed_by: so.Mapped[User] = so.relationship()

    @hybrid_property
    def late(self) -> bool:
        """Filed after the day's deadline: recorded, never refused."""
        return self.filed_at > self.deadline

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}
