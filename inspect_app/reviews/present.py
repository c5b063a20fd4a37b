"""What the leader reads of a review: the pass and its proof of presence, and what contradicts it."""
from __future__ import annotations

from inspect_app.accounts.models import User
from inspect_app.reviews.models import Review
from inspect_app.visits.services import flags


def review_view(review: Review, viewer: User) -> dict:
    passed, later = review.passed_visit, review.contradicting_visit
    item = passed.version.item(review.item_code)
    minutes = None
    if passed.submitted_at and passed.started_at:
        minutes = round((passed.submitted_at - passed.started_at).total_seconds() / 60, 1)
    return {"id": review.id, "status": review.status, "inspector": review.inspector.name_for(viewer),
            "inspector_id": review.inspector_id, "school_id": review.school_id, "school_name": review.school.name,
            "item_code": review.item_code, "item_text": item.text_zh if item else review.item_code,
            "passed_visit_id": passed.id, "passed_at": passed.server_submitted_at, "passed_flags": flags(passed),
            "passed_minutes": minutes, "passed_answers": len(passed.answers),
            # A later visit's failure, or a substantiated complaint (then no mode: the link is the complaint's).
            "contradicted_by": later.id if later else None, "contradicted_mode": later.mode if later else None,
            "contradicted_at": later.server_submitted_at if later else review.opened_at,
            "complaint_id": review.contradicting_complaint_id,
            "opened_at": review.opened_at, "note": review.note,
            "decided_by": review.decided_by.name_for(viewer) if review.decided_by else None,
            "decided_at": review.decided_at}
