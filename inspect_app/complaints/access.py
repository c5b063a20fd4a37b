"""Who sees complaints. The public sees one complaint, by its code, through present.public_view only.
The bureau reads the queue; only those who triage (inspectors, leaders) see the complainant's contact.
A school never reads this package: what the bureau hands it is a ticket in the bureau's words."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from inspect_app.accounts.models import Role, User
from inspect_app.complaints.models import Complaint, ComplaintPhoto
from inspect_app.complaints.services import QUEUE_ROLES, TRIAGE_ROLES
from inspect_app.extensions import db
from inspect_app.photos.access import register_policy
from inspect_app.photos.models import Photo


def can_read_queue(user: User) -> bool:
    return user.role in QUEUE_ROLES


def can_triage(user: User) -> bool:
    return user.role in TRIAGE_ROLES


def shows_contact(user: User) -> bool:
    """PIPL: the contact is for the staff who triage and answer, not for every bureau account."""
    return user.role in TRIAGE_ROLES


def get_complaint_or_404(complaint_id: int, user: User) -> Complaint:
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None or not can_read_queue(user):
        abort(404)
    return complaint


@register_policy
def complaint_photo_policy(user: User, photo: Photo) -> bool:
    """A complainant's photo is the bureau's to see (it may show who took it); never the school's."""
    if user.role is Role.DUTY_OFFICER or not can_read_queue(user):
        return False
    return db.session.scalar(sa.select(sa.func.count()).select_from(ComplaintPhoto)
                             .where(ComplaintPhoto.photo_id == photo.id)) > 0
