"""Complaints weigh on a school's risk score in the sampling plans (plans.risk): registered from
here, since complaints sit above plans and plans never import them."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from inspect_app.complaints.models import Complaint, ComplaintStatus
from inspect_app.extensions import db
from inspect_app.plans.risk import register_factor

RECENT_DAYS = 30


@register_factor
def recent_complaints(now: datetime) -> dict[int, tuple[float, str, int]]:
    """Complaints of the last month, except those rejected (no ground, or not the school's)."""
    rows = db.session.execute(sa.select(Complaint.school_id, sa.func.count()).where(
        Complaint.received_at >= now - timedelta(days=RECENT_DAYS), Complaint.status != ComplaintStatus.REJECTED)
        .group_by(Complaint.school_id))
    return {school_id: (2.0 * n, "complaints", n) for school_id, n in rows}
