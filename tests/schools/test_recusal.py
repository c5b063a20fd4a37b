"""Recusal (回避): an admin or leader recuses an inspector from a school, with a reason; the draw
never sends them there and no visit of theirs starts there (page, scan, pack or API) until it is
lifted; both steps are in the audit chain."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.schools.models import Recusal
from tests.plans.test_plans import _plan


def _overt(world, templates):
    now = datetime.now(timezone.utc)
    return {"school_id": world.a.id, "version_id": templates["onsite"].version_id, "mode": "overt",
            "started_at": (now - timedelta(minutes=5)).isoformat(), "answers": [], "findings": []}


def test_a_recused_inspector_is_never_drawn_there_nor_starts_a_visit_until_it_is_lifted(
        app, db, world, templates, login_as, api_token):
    a = world.a.id
    new_visit = f"/visits/new?school_id={a}&mode=overt&template_id={templates['onsite'].id}"
    leader, inspector = login_as("leader"), login_as("inspector")
    assert inspector.get(new_visit).status_code == 200  # before: their own school
    assert 'id="recusals"' in leader.get(f"/schools/{a}").get_data(as_text=True)
    assert 'id="recusals"' not in inspector.get(f"/schools/{a}").get_data(as_text=True)
    assert inspector.form_post(f"/schools/{a}/recusals", {"user_id": world.inspector.id,
                                                          "reason": "自行回避"}).status_code == 403
    no_reason = leader.form_post(f"/schools/{a}/recusals", {"user_id": world.inspector.id, "reason": " "})
    assert no_reason.status_code == 422
    assert leader.form_post(f"/schools/{a}/recusals", {"user_id": world.volunteer.id,
                                                       "reason": "x"}).status_code == 422  # inspectors only
    assert leader.form_post(f"/schools/{a}/recusals", {"user_id": world.inspector.id,
                                                       "reason": "其配偶在该校任教"}).status_code == 302
    assert "其配偶在该校任教" in leader.get(f"/schools/{a}").get_data(as_text=True)

    # No start: the school page offers none, the blank checklist and the API refuse.
    page = inspector.get(f"/schools/{a}").get_data(as_text=True)
    assert "开始检查" not in page
    assert inspector.get(new_visit).status_code == 403
    client = app.test_client()
    refused = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("inspector"),
                         json=_overt(world, templates))
    assert refused.status_code == 403
    # Only from that school: the API asks it with the school it reads (visit_payload._lookups).
    elsewhere = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("inspector"),
                           json=_overt(world, templates) | {"school_id": world.b.id})
    assert elsewhere.status_code == 201, elsewhere.get_json()
    # The draw: a plan sending only this inspector never sends them to the school.
    drawn = _plan(client, api_token("leader"), count=5, assignees=[world.inspector.id])
    assert drawn.status_code == 201, drawn.get_json()
    assert drawn.get_json()["tasks"] and all(t["school_id"] != a for t in drawn.get_json()["tasks"])

    recusal_id = db.session.scalar(sa.select(Recusal.id))
    assert leader.form_post(f"/schools/{world.b.id}/recusals/{recusal_id}/lift").status_code == 404
    assert leader.form_post(f"/schools/{a}/recusals/{recusal_id}/lift").status_code == 302
    assert inspector.get(new_visit).status_code == 200
    lifted = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("inspector"), json=_overt(world, templates))
    assert lifted.status_code == 201, lifted.get_json()
    steps = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.object_type == "recusals")
                               .order_by(AuditEntry.id)).all()
    assert steps == ["create", "delete"]


def test_a_recusal_binds_only_its_inspector_and_stops_their_draft_there(app, world, templates, factories, login_as,
                                                                       api_token):
    """The API reads the recusal with the school (visit_payload._lookups): by this user's id and this
    school's, so a colleague's recusal at the same school refuses nobody else, and one's own refuses a
    draft started there before it."""
    from tests.conftest import PASSWORD
    a = world.a.id
    colleague = factories.user("inspector", assigned_school_ids=[a])
    client = app.test_client()
    draft_id = str(uuid.uuid4())
    mine = api_token("inspector")
    assert client.put(f"/api/v1/visits/{draft_id}", headers=mine, json=_overt(world, templates)).status_code == 201

    leader = login_as("leader")
    assert leader.form_post(f"/schools/{a}/recusals", {"user_id": colleague.id, "reason": "其子女在该校就读"}
                            ).status_code == 302
    theirs = {"Authorization": "Bearer " + client.post("/api/v1/auth/token", json={
        "username": colleague.username, "password": PASSWORD}).get_json()["token"]}
    assert client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=theirs, json=_overt(world, templates)).status_code == 403
    assert client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=mine, json=_overt(world, templates)).status_code == 201

    assert leader.form_post(f"/schools/{a}/recusals", {"user_id": world.inspector.id, "reason": "其配偶在该校任教"}
                            ).status_code == 302
    changed = _overt(world, templates) | {"started_at": (datetime.now(timezone.utc) - timedelta(minutes=9)).isoformat()}
    assert client.put(f"/api/v1/visits/{draft_id}", headers=mine, json=changed).status_code == 403
