"""Who may start, see and change a visit: decided here and nowhere else."""
from __future__ import annotations

import sqlalchemy.orm as so
from flask import abort

from inspect_app.accounts.models import BUREAU_ROLES, Role, User
from inspect_app.checklists.models import MODES_BY_ROLE, TemplateVersion, VisitMode
from inspect_app.extensions import db
from inspect_app.photos.access import register_policy
from inspect_app.photos.models import Photo
from inspect_app.schools.access import can_view_school
from inspect_app.schools.models import School, recused_school_ids
from inspect_app.visits.models import Finding, Visit



def can_start(user: User, school: School, mode: VisitMode, *, recused: bool | None = None) -> bool:
    """Overt: leaders and inspectors; covert: inspectors, and volunteers at a school assigned to them;
    self-check: the school's own duty officer.

    A volunteer's poster scan opens nothing more than their assignments do: the programme admin
    assigns schools on purpose (never their own child's), so holding a poster, or a photo of one,
    is no licence to check a school, and the URL, the scan, the offline pack and the API agree.

    `recused`: whether this user is recused from this school, when the caller's own query already
    asked (schools.models.is_recused, with this user's id and this school's); otherwise it is looked
    up here. Trusted as given: only a caller that read it for this pair passes it."""
    if mode not in MODES_BY_ROLE.get(user.role, ()):
        return False
    if mode is VisitMode.SELF_CHECK:
        return user.school_id == school.id
    # Recused from this school (回避): no visit of any kind, by the page, the scan, the pack or the API.
    if recused is None:
        recused = school.id in recused_school_ids(user.id)
    if recused:
        return False
    return can_view_school(user, school)


def can_view_visit(user: User, visit: Visit) -> bool:
    if user.role in BUREAU_ROLES:
        return True
    if user.id == visit.author_id:
        return True
    if user.role is Role.DUTY_OFFICER:
        # The school sees what was found at it, but only once submitted: never a visit in progress.
        return visit.school_id == user.school_id and visit.submitted
    return False


def can_edit_visit(user: User, visit: Visit) -> bool:
    return user.id == visit.author_id and not visit.submitted


def get_visit_or_404(visit_id: str, user: User) -> Visit:
    # One round trip each for the visit and its collections: the checklist page touches them all.
    visit = db.session.get(Visit, visit_id[:36], options=[
        so.joinedload(Visit.school), so.joinedload(Visit.version).joinedload(TemplateVersion.template),
        so.selectinload(Visit.version, TemplateVersion.items), so.selectinload(Visit.answers),
        so.selectinload(Visit.findings)])
    if visit is None or not can_view_visit(user, visit):
        abort(404)
    return visit


def shows_source(viewer: User, visit: Visit) -> bool:
    """Schools never learn who inspected them, nor the exact time of a covert check."""
    return viewer.role is not Role.DUTY_OFFICER or viewer.id == visit.author_id


@register_policy
def finding_photo_policy(user: User, photo: Photo) -> bool:
    if photo.finding_id is None:
        return False
    finding = db.session.get(Finding, photo.finding_id)
    # Only photos the visit's own author uploaded belong to its findings.
    if finding is None or finding.visit.author_id != photo.uploader_id:
        return False
    return can_view_visit(user, finding.visit)
