"""一案双查: a later check that fails an item an inspector passed days before opens a review, which
a leader upholds or dismisses with a note; nobody else sees reviews."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from inspect_app.accounts.models import Role
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.reviews.models import Review, ReviewStatus
from inspect_app.visits.models import Visit


def _reviews(app):
    with app.app_context():
        return [(r.inspector_id, r.item_code, r.status) for r in db.session.scalars(sa.select(Review).order_by(Review.id))]


def test_a_failure_contradicting_a_recent_pass_opens_a_review_for_the_leader(
        app, world, make_user, make_visit, login_as, api_token):
    other = make_user(Role.INSPECTOR, assigned_school_ids=[world.a.id])
    make_visit(world.inspector, world.a, fail=())  # every item passed
    passed = make_visit(world.inspector, world.a, fail=("G2",))  # the same inspector failing it later: no review
    assert _reviews(app) == []
    later = make_visit(other, world.a, fail=("G1",))
    assert _reviews(app) == [(world.inspector.id, "G1", ReviewStatus.OPEN)]
    # The API lists it for leaders only.
    listed = app.test_client().get("/api/v1/reviews", headers=api_token("leader")).get_json()["reviews"]
    assert listed[0]["passed_visit_id"] == passed.id and listed[0]["contradicted_by"] == later.id
    for who in ("admin", "inspector", "volunteer", "officer"):
        assert app.test_client().get("/api/v1/reviews", headers=api_token(who)).status_code == 403
    leader = login_as("leader")
    page = leader.get("/reviews").get_data(as_text=True)
    assert "甲校" in page and "照片与现场不符" not in page
    review_id = listed[0]["id"]
    # A decision needs a note; then it is final.
    leader.form_post(f"/reviews/{review_id}/decide", {"outcome": "uphold", "note": "  "})
    assert _reviews(app)[0][2] is ReviewStatus.OPEN
    assert leader.form_post(f"/reviews/{review_id}/decide", {"outcome": "uphold", "note": "照片与现场不符"}
                            ).status_code == 302
    assert _reviews(app)[0][2] is ReviewStatus.UPHELD
    assert leader.form_post(f"/reviews/{review_id}/decide", {"outcome": "dismiss", "note": "改判"}).status_code == 409
    upheld = app.test_client().get("/api/v1/reviews?status=upheld", headers=api_token("leader")).get_json()
    assert upheld["reviews"][0]["note"] == "照片与现场不符"
    assert login_as("inspector").form_post(f"/reviews/{review_id}/decide",
                                           {"outcome": "dismiss", "note": "x"}).status_code == 403


def test_a_covert_check_contradicts_but_an_old_pass_does_not(app, db, world, make_visit, make_user):
    old = make_visit(world.inspector, world.a, fail=())
    db.session.execute(sa.update(Visit).where(Visit.id == old.id)
                       .values(server_submitted_at=utcnow() - timedelta(days=8)))
    db.session.commit()
    other = make_user(Role.INSPECTOR)
    make_visit(other, world.a, fail=("G1",))
    assert _reviews(app) == []
    make_visit(world.inspector, world.a, fail=())
    # A volunteer's covert check uses its own checklist: its codes are not the overt list's.
    make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V1",))
    assert _reviews(app) == []
    make_visit(other, world.a, fail=("G3",))
    assert _reviews(app) == [(world.inspector.id, "G3", ReviewStatus.OPEN)]
