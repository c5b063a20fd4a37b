"""Who may file a school's daily report and who sees which: asked here and nowhere else."""
from __future__ import annotations

import sqlalchemy as sa

from inspect_app.accounts.models import BUREAU_ROLES, Role, User
from inspect_app.duties.models import DutyError, SelfReport


def filing_refused(user: User) -> DutyError | None:
    """Only a school's duty officer files its report (for their own school, the one they belong to)."""
    if user.role is not Role.DUTY_OFFICER or user.school_id is None:
        from flask_babel import gettext as _
        return DutyError(_("Only the school's duty officer files its daily report."), 403)
    return None


def sees_every_school(user: User) -> bool:
    """The bureau's day view: which schools filed, which late, which not."""
    return user.role in BUREAU_ROLES


def visible_reports(user: User) -> sa.Select:
    """Reports this user may read: the bureau all, a school its own, nobody else any."""
    query = sa.select(SelfReport)
    if user.role in BUREAU_ROLES:
        return query
    if user.role is Role.DUTY_OFFICER:
        return query.where(SelfReport.school_id == user.school_id)
    return query.where(sa.false())
