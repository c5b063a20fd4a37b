"""API view for accountability reviews (一案双查): leaders only."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from spectree import Response

from inspect_app.accounts.models import Role
from inspect_app.api import bp, schemas
from inspect_app.api import schemas_reviews as s
from inspect_app.api.openapi import api, looked_up_first
from inspect_app.errors import refuse
from inspect_app.i18n import local_iso
from inspect_app.reviews.models import ReviewStatus
from inspect_app.reviews.routes import listed


def _leaders_only(**_values) -> None:
    if current_user.role is not Role.LEADER:
        refuse(403, _("Only leaders read accountability reviews."))


@bp.get("/reviews")
@login_required
@looked_up_first(_leaders_only)
@api.validate(query=s.ReviewQuery, resp=Response(HTTP_200=s.ReviewList, HTTP_403=(schemas.Error, "Leaders only")))
def list_reviews():
    """Accountability reviews, open first; ?status= filters (open, upheld, dismissed)."""
    status = request.context.query.status
    reviews = listed(ReviewStatus(status) if status else None, limit=1000)
    return jsonify(reviews=[{
        "id": r.id, "inspector_id": r.inspector_id, "school_id": r.school_id, "item_code": r.item_code,
        "passed_visit_id": r.passed_visit_id, "contradicted_by": r.contradicting_visit_id or str(r.contradicting_complaint_id),
        "contradicted_kind": "visit" if r.contradicting_visit_id else "complaint", "status": r.status.value,
        "opened_at": local_iso(r.opened_at), "note": r.note, "decided_at": local_iso(r.decided_at)} for r in reviews])
