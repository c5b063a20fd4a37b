"""Who may see which school: decided here and nowhere else."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _

from inspect_app.accounts.models import BUREAU_ROLES, Role, User
from inspect_app.extensions import db
from inspect_app.schools.models import RetiredQrToken, School, school_assignments, volunteer_child_schools



def visible_schools(user: User) -> sa.Select:
    """A query for the schools this user may list and open."""
    query = sa.select(School)
    if user.role in BUREAU_ROLES:
        return query
    if user.role is Role.VOLUNTEER:
        children = sa.select(volunteer_child_schools.c.school_id).where(volunteer_child_schools.c.user_id == user.id)
        return (query.join(school_assignments).where(school_assignments.c.user_id == user.id)
                .where(School.id.not_in(children)))
    if user.role is Role.DUTY_OFFICER:
        return query.where(School.id == user.school_id)
    return query.where(sa.false())


def can_view_school(user: User, school: School) -> bool:
    if user.role in BUREAU_ROLES:
        return True
    if user.role is Role.DUTY_OFFICER:
        return user.school_id == school.id
    if user.role is Role.VOLUNTEER:
        children = db.session.scalar(sa.select(sa.func.count()).select_from(volunteer_child_schools).where(
            volunteer_child_schools.c.user_id == user.id, volunteer_child_schools.c.school_id == school.id))
        return not children and any(u.id == user.id for u in school.assigned_users)
    return False


def scan_refusal(user: User) -> str:
    """What a signed-in user is told when a poster's school is not theirs to open."""
    if user.role is Role.VOLUNTEER:
        return _("This school is not on your list. The volunteer programme administrator assigns the schools "
                 "you check; ask them if you should check this one.")
    return _("This code belongs to another school. You can only open your own school.")


def get_school_or_404(school_id: int, user: User) -> School:
    """The school, or 404 when this user may not see it (its existence must not leak)."""
    school = db.session.get(School, school_id)
    if school is None or not can_view_school(user, school):
        abort(404)
    return school


def resolve_qr_token(token: str) -> tuple[School | None, bool]:
    """(school, retired): the school behind a scanned token and whether the token was replaced."""
    if not token or len(token) > 64:
        return None, False
    school = db.session.scalar(sa.select(School).where(School.qr_token == token))
    if school is not None:
        return school, False
    retired = db.session.get(RetiredQrToken, token)
    if retired is not None:
        return retired.school, True
    return None, False
