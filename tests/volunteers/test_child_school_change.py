"""A child changes school (issue 13): the volunteer, or the coordinator for them, names the schools
their children attend now; the edit is audited (old → new, by whom) and the conflict rule holds from
the next request on: never assigned there, never drawn there, never able to start, upload or pack a
check there."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from inspect_app.accounts.models import User
from inspect_app.audit.models import AuditEntry
from inspect_app.extensions import db
from inspect_app.plans.models import Task, TaskStatus
from inspect_app.schools.models import School
from tests.audit.test_chain import verify
from tests.conftest import form_fields
from tests.visits.test_volunteer_disguise import GIVEAWAYS
from tests.volunteers.test_programme import _give, _today


def _entries(app, since: int, table: str):
    with app.app_context():
        return [(e.action, e.object_id, json.loads(e.data), e.actor_id) for e in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.object_type == table, AuditEntry.id > since)
            .order_by(AuditEntry.id))]


def _last_entry(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0


def _covert_body(world, templates, school_id, submitted=True):
    started = datetime.now(timezone.utc) - timedelta(minutes=20)
    return {"school_id": school_id, "version_id": templates["covert"].version_id, "mode": "covert",
            "started_at": started.isoformat(),
            "submitted_at": (started + timedelta(minutes=10)).isoformat() if submitted else None,
            "answers": [{"code": c, "result": "pass"} for c in templates["covert"].codes], "findings": []}


def test_a_volunteer_records_a_childs_new_school_and_is_refused_there_at_once(app, db, world, login_as, templates,
                                                                            api_token):
    coordinator, volunteer = login_as("admin"), login_as("volunteer")
    today = _today()
    assert _give(coordinator, world.volunteer.id, world.a.id, today, today + timedelta(days=2)).status_code == 302
    headers = api_token("volunteer")
    client = app.test_client()
    # Before: a draft at school A is theirs to save, and the pack for A is there.
    draft_id = str(uuid.uuid4())
    draft = client.put(f"/api/v1/visits/{draft_id}", headers=headers,
                       json=_covert_body(world, templates, world.a.id, submitted=False))
    assert draft.status_code == 201, draft.get_json()
    assert volunteer.get(f"/visits/pack/{world.a.id}").status_code == 200

    page = volunteer.get("/programme/children")
    assert page.status_code == 200 and not [w for w in GIVEAWAYS if w in page.get_data(as_text=True)]
    since = _last_entry(app)
    saved = volunteer.form_post("/programme/children", {"child_school_ids": [str(world.a.id)]})
    assert saved.status_code == 302

    user = db.session.get(User, world.volunteer.id)
    assert [s.id for s in user.child_schools] == [world.a.id]
    # Never assigned there (by id: users compare by their session key); the inspector stays.
    assert [u.id for u in db.session.get(School, world.a.id).assigned_users] == [world.inspector.id]
    assert db.session.scalars(sa.select(Task.status)).all() == [TaskStatus.CANCELLED]
    # Audited, by the volunteer: the new link, the assignment dropped, the task cancelled.
    assert [(a, o, actor) for a, o, _, actor in _entries(app, since, "volunteer_child_schools")] == [
        ("create", f"{world.volunteer.id}:{world.a.id}", world.volunteer.id)]
    assert [(a, o, actor) for a, o, _, actor in _entries(app, since, "school_assignments")] == [
        ("delete", f"{world.a.id}:{world.volunteer.id}", world.volunteer.id)]
    assert [(a, d.get("status"), actor) for a, _, d, actor in _entries(app, since, "tasks")] == [
        ("update", "cancelled", world.volunteer.id)]
    assert [(a, o, actor) for a, o, _, actor in _entries(app, since, "visits")] == [
        ("delete", draft_id, world.volunteer.id)]

    # Never able to check there: the page's start, the API's PUT (new, and the draft begun before),
    # the checklists the phone would fetch, and the offline pack.
    start = volunteer.form_post("/visits/start", {
        "school_id": world.a.id, "mode": "covert", "template_id": templates["covert"].id,
        "qr_token": world.a.qr_token})
    assert start.status_code == 403
    fresh = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=headers,
                       json=_covert_body(world, templates, world.a.id))
    assert fresh.status_code == 403, fresh.get_json()
    # The draft begun before the edit is gone (the pages' own draft forms would not ask again), and the
    # phone's later upload of it is refused like a new one.
    assert volunteer.form_post(f"/visits/{draft_id}/submit", {}).status_code == 404
    finish = client.put(f"/api/v1/visits/{draft_id}", headers=headers, json=_covert_body(world, templates, world.a.id))
    assert finish.status_code == 403, finish.get_json()
    assert client.get(f"/api/v1/checklists?school_id={world.a.id}&mode=covert", headers=headers).status_code == 404
    assert volunteer.get(f"/visits/pack/{world.a.id}").status_code == 404
    assert "甲校" not in volunteer.get("/schools/").get_data(as_text=True)
    # Never sent there: the coordinator's task form refuses it.
    assert _give(coordinator, world.volunteer.id, world.a.id, today, today).status_code == 422
    assert verify(app)[0] == 0


def test_the_coordinator_records_a_move_old_to_new_and_the_draw_never_sends_them_there(app, db, world, login_as,
                                                                                      api_token):
    db.session.get(User, world.volunteer.id).child_schools = [db.session.get(School, world.b.id)]
    db.session.commit()
    coordinator = login_as("admin")
    form = form_fields(coordinator.get(f"/programme/{world.volunteer.id}").get_data(as_text=True),
                       action=f"/programme/{world.volunteer.id}/children")
    assert form["child_school_ids"] == str(world.b.id)  # the form starts from what is recorded
    since = _last_entry(app)
    moved = coordinator.form_post(f"/programme/{world.volunteer.id}/children", {"child_school_ids": [str(world.a.id)]})
    assert moved.status_code == 302
    # Old → new, by whom: B's link removed and A's added, both by the coordinator, in one transaction.
    assert sorted((a, o, actor) for a, o, _, actor in _entries(app, since, "volunteer_child_schools")) == [
        ("create", f"{world.volunteer.id}:{world.a.id}", world.admin.id),
        ("delete", f"{world.volunteer.id}:{world.b.id}", world.admin.id)]
    assert [(a, actor) for a, _, _, actor in _entries(app, since, "school_assignments")] == [("delete", world.admin.id)]
    audit = coordinator.get("/audit/?type=volunteer_child_schools").get_data(as_text=True)
    # The audit page says it in words: the old school's link deleted, the new one created, by the admin.
    v, a, b = world.volunteer.id, world.a.id, world.b.id
    assert f"子女就读学校 #{v}:{b}" in audit and f"子女就读学校 #{v}:{a}" in audit and "删除" in audit
    # A is off their list and cannot be put back; B, no longer a child's school, can (the coordinator's choice).
    assert coordinator.form_post(f"/schools/{world.a.id}/assignments", {
        "user_ids": [str(world.inspector.id), str(world.volunteer.id)]}).status_code == 409
    assert coordinator.form_post(f"/schools/{world.b.id}/assignments",
                                 {"user_ids": [str(world.volunteer.id)]}).status_code == 302
    # The draw: a covert plan naming only this volunteer sends them to B, never to A.
    today = _today().isoformat()
    plan = app.test_client().post("/api/v1/plans", headers=api_token("leader"), json={
        "date_from": today, "date_to": today, "count": 2, "mode": "covert", "assignees": [world.volunteer.id],
        "weighting": "uniform"})
    assert plan.status_code == 201, plan.get_json()
    assert {t["school_id"] for t in plan.get_json()["tasks"]} == {world.b.id}
    # Nobody else edits a volunteer's children's schools.
    for who in ("leader", "inspector", "officer"):
        browser = login_as(who)
        assert browser.form_post(f"/programme/{world.volunteer.id}/children", {"child_school_ids": []}).status_code == 403
        assert browser.form_post("/programme/children", {"child_school_ids": []}).status_code == 403
