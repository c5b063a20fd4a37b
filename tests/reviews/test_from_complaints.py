"""一案双查 from complaints (issue 14): a complaint handed to the school as a real problem, naming the
checklist item it concerns, opens a review of each inspector who passed that item there lately."""
from __future__ import annotations

import sqlalchemy as sa

from inspect_app.reviews.models import Review
from tests.complaints.test_bureau import _complaint, _file


def _triage(client, headers, complaint_id, **extra):
    return client.post(f"/api/v1/complaints/{complaint_id}/triage", headers=headers, json={
        "action": "ticket", "problem": "校门值守人员未按规定测温登记", "severity": "major", **extra})


def test_a_substantiated_complaint_about_a_passed_item_opens_a_review(app, db, world, make_visit, api_token, login_as):
    passed = make_visit(world.inspector, world.a, fail=())  # G1 passed at school A just now
    make_visit(world.inspector, world.b, fail=())             # another school: not contradicted
    client, leader = app.test_client(), api_token("leader")
    _file(client, world.a.id)
    unknown = _complaint(app)
    refused = _triage(client, leader, unknown.id, item_code="NOPE")
    assert refused.status_code == 422
    assert _triage(client, leader, unknown.id, item_code="G1").status_code == 200
    _file(client, world.a.id, text="另一件事")
    plain = _complaint(app)
    assert _triage(client, leader, plain.id).status_code == 200  # no item named: no review
    reviews = db.session.scalars(sa.select(Review)).all()
    assert [(r.inspector_id, r.school_id, r.item_code, r.passed_visit_id, r.contradicting_complaint_id,
             r.contradicting_visit_id) for r in reviews] == \
        [(world.inspector.id, world.a.id, "G1", passed.id, unknown.id, None)]
    listed = client.get("/api/v1/reviews", headers=leader).get_json()["reviews"]
    assert [(r["contradicted_kind"], r["contradicted_by"]) for r in listed] == [("complaint", str(unknown.id))]
    page = login_as("leader").get("/reviews").get_data(as_text=True)
    assert f"/complaints/{unknown.id}" in page
