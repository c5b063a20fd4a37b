"""Opening reviews when a submitted visit contradicts a recent pass (一案双查)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from inspect_app.accounts.models import Role, User
from inspect_app.checklists.models import ChecklistTemplate, TemplateVersion, VisitMode
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.reviews.models import Review, ReviewStatus
from inspect_app.visits.models import Answer, Result, Visit, VisitStatus
from inspect_app.complaints.models import Complaint
from inspect_app.complaints.services import COMPLAINT_TEMPLATE, complaint_substantiated
from inspect_app.visits.services import visit_submitted


@visit_submitted.connect
def open_reviews(sender, visit: Visit, **_extra) -> list[Review]:
    """Each item this visit failed that an inspector passed at the school within REVIEW_WINDOW_DAYS
    (another person's check: covert, follow-up or another inspector's) opens a review of their latest pass.
    The same checklist's item (template and code), since codes are only unique within a template."""
    if visit.mode is VisitMode.SELF_CHECK:
        return []
    failed = [a.code for a in visit.answers if a.result is Result.FAIL]
    if not failed:
        return []
    at = visit.server_submitted_at or utcnow()
    since = at - timedelta(days=current_app.config["REVIEW_WINDOW_DAYS"])
    template_id = visit.version.template_id
    with db.session.no_autoflush:
        passes = db.session.execute(
            sa.select(Visit.id, Visit.author_id, Answer.code)
            .join(Answer, Answer.visit_id == Visit.id).join(TemplateVersion, TemplateVersion.id == Visit.version_id)
            .join(User, User.id == Visit.author_id)
            .where(Visit.school_id == visit.school_id, Visit.status == VisitStatus.SUBMITTED, Visit.id != visit.id,
                   Visit.server_submitted_at >= since, Visit.server_submitted_at <= at,
                   Visit.author_id != visit.author_id, User.role == Role.INSPECTOR,
                   TemplateVersion.template_id == template_id, Answer.code.in_(failed),
                   Answer.result == Result.PASS).order_by(Visit.server_submitted_at.desc())).all()
    reviews, seen = [], set()
    for passed_visit_id, inspector_id, code in passes:
        # One review per inspector and item: their latest pass is the one the failure contradicts.
        if (inspector_id, code) in seen:
            continue
        seen.add((inspector_id, code))
        review = Review(inspector_id=inspector_id, school_id=visit.school_id, item_code=code,
                        passed_visit_id=passed_visit_id, contradicting_visit=visit)
        db.session.add(review)
        reviews.append(review)
    return reviews


def open_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Review)
                             .where(Review.status == ReviewStatus.OPEN)) or 0


def upheld_by_inspector() -> dict[int, int]:
    """Upheld reviews per inspector, for the dashboard's peer table."""
    return dict(db.session.execute(sa.select(Review.inspector_id, sa.func.count())
                                   .where(Review.status == ReviewStatus.UPHELD).group_by(Review.inspector_id)).all())


@complaint_substantiated.connect
def open_reviews_from_complaint(sender, complaint: Complaint, item_code: str, **_extra) -> list[Review]:
    """A complaint handed to the school as a real problem about an item: each inspector who passed that
    item at the school within REVIEW_WINDOW_DAYS before the complaint came in gets a review of their
    latest pass (一案双查: "a complaint finds a failure on an item an inspector passed")."""
    since = complaint.received_at - timedelta(days=current_app.config["REVIEW_WINDOW_DAYS"])
    with db.session.no_autoflush:
        passes = db.session.execute(
            sa.select(Visit.id, Visit.author_id)
            .join(Answer, Answer.visit_id == Visit.id).join(TemplateVersion, TemplateVersion.id == Visit.version_id)
            .join(ChecklistTemplate, ChecklistTemplate.id == TemplateVersion.template_id)
            .join(User, User.id == Visit.author_id)
            .where(Visit.school_id == complaint.school_id, Visit.status == VisitStatus.SUBMITTED,
                   Visit.server_submitted_at >= since, Visit.server_submitted_at <= complaint.received_at,
                   User.role == Role.INSPECTOR, ChecklistTemplate.code == COMPLAINT_TEMPLATE,
                   Answer.code == item_code, Answer.result == Result.PASS)
            .order_by(Visit.server_submitted_at.desc())).all()
    reviews, seen = [], set()
    for passed_visit_id, inspector_id in passes:
        if inspector_id in seen:
            continue
        seen.add(inspector_id)
        review = Review(inspector_id=inspector_id, school_id=complaint.school_id, item_code=item_code,
                        passed_visit_id=passed_visit_id, contradicting_complaint_id=complaint.id)
        db.session.add(review)
        reviews.append(review)
    return reviews
