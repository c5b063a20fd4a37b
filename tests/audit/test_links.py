"""Links between rows (association tables) are state too: assigning people to schools and recording a
volunteer's children's schools write audit entries, like every other change."""
import json

import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.extensions import db
from tests.audit.test_chain import verify


def link_entries(app, table: str):
    with app.app_context():
        return [(e.action, e.object_id, json.loads(e.data), e.actor_id) for e in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.object_type == table).order_by(AuditEntry.id))]


def test_assigning_and_unassigning_people_to_a_school_is_recorded(app, login_as, world, make_user):
    other = make_user("inspector")
    before = link_entries(app, "school_assignments")
    # The world assigned its inspector and volunteer to school A through the same collection.
    assert {(a, o) for a, o, _, _ in before} == {("create", f"{world.a.id}:{world.inspector.id}"),
                                                 ("create", f"{world.a.id}:{world.volunteer.id}")}
    response = login_as("admin").form_post(f"/schools/{world.a.id}/assignments",
                                           {"user_ids": [str(world.inspector.id), str(other.id)]})
    assert response.status_code == 302
    after = link_entries(app, "school_assignments")[len(before):]
    assert sorted((a, o) for a, o, _, _ in after) == [
        ("create", f"{world.a.id}:{other.id}"), ("delete", f"{world.a.id}:{world.volunteer.id}")]
    assert all(actor == world.admin.id for *_, actor in after)
    assert {"school_id": world.a.id, "user_id": other.id} in [data for *_, data, _ in after]
    assert verify(app)[0] == 0


def test_a_volunteers_childrens_schools_are_recorded(app, db, login_as, world):
    response = login_as("admin").form_post("/accounts/users/new", {
        "username": "parent1", "display_name": "王家长", "role": "volunteer", "pseudonym": "志愿者P",
        "school_id": "0", "child_school_ids": [str(world.a.id), str(world.b.id)], "password": "a-long-password"})
    assert response.status_code == 302
    parent = db.session.scalar(sa.text("SELECT id FROM users WHERE username = 'parent1'"))
    recorded = link_entries(app, "volunteer_child_schools")
    # Compared as sets: ids as text sort "286:100" before "286:99", and ids grow across tests.
    assert {(a, o) for a, o, _, _ in recorded} == {("create", f"{parent}:{world.a.id}"),
                                                   ("create", f"{parent}:{world.b.id}")}
    assert len(recorded) == 2
    assert all(actor == world.admin.id for *_, actor in recorded)
    assert verify(app)[0] == 0
