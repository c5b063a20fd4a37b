"""Visits flagged without a review (issue 14): rushed (dozens of items in a minute or two), checked in
away from the school, or carrying a photo already used on another visit — on the visit for the
leader, and counted per inspector in the dashboard's peer table."""
from __future__ import annotations

import uuid
from datetime import timedelta

from inspect_app.accounts.models import User
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.photos.services import PhotoFields, receive_photo
from inspect_app.visits import services
from inspect_app.visits.models import Visit
from tests.conftest import jpeg_bytes


def _timed(visit_id, seconds, distance_m=10.0):
    visit = db.session.get(Visit, visit_id)
    visit.started_at = utcnow() - timedelta(hours=1)
    visit.submitted_at = visit.started_at + timedelta(seconds=seconds)
    visit.distance_m = distance_m
    return visit


def test_rushed_off_site_and_recycled_visits_are_flagged_on_the_visit_and_in_the_peer_table(
        app, db, world, make_visit, make_user, login_as):
    other = make_user("inspector", assigned_school_ids=[world.a.id])
    rushed = make_visit(world.inspector, world.a, fail=())     # 28 items in 40 s
    careful = make_visit(world.inspector, world.a, fail=())    # the same in 40 minutes
    away = make_visit(world.inspector, world.a, fail=())       # 5 km from the school
    first = make_visit(other, world.a, fail=("G1",), photo=False)
    recycled = make_visit(world.inspector, world.a, fail=("G1",), photo=False)
    with app.test_request_context("/"):
        data = jpeg_bytes(color=(1, 2, 3))
        for done, author in ((first, other), (recycled, world.inspector)):
            receive_photo(str(uuid.uuid4()), db.session.get(User, author.id), data,
                          PhotoFields(captured_at=utcnow(), finding_id=done.findings["G1"]))
        _timed(rushed.id, 40)
        for done in (careful, first, recycled):
            _timed(done.id, 40 * 60)
        _timed(away.id, 40 * 60, distance_m=5000)
        db.session.commit()
        flags = {name: services.flags(db.session.get(Visit, done.id))
                 for name, done in (("rushed", rushed), ("careful", careful), ("away", away),
                                    ("recycled", recycled))}
        assert flags["rushed"].rushed and flags["rushed"].answered == 28 and flags["rushed"].attention
        assert not flags["careful"].rushed and not flags["careful"].attention
        assert flags["away"].attention and not flags["away"].rushed
        assert flags["recycled"].reused_photos and flags["recycled"].attention
        # The first use of a picture is the original's, but its author's visit is flagged too: which
        # of two identical photos came first is for the leader to judge, on the visits.
        assert services.flagged_by_author(utcnow() - timedelta(days=30)) == {world.inspector.id: 3, other.id: 1}
    leader = login_as("leader")
    shown = leader.get(f"/visits/{rushed.id}").get_data(as_text=True)
    assert "28 项仅用 40 秒" in shown
    assert "仅用" not in leader.get(f"/visits/{careful.id}").get_data(as_text=True)
    table = leader.get("/reports/").get_data(as_text=True).split("存疑检查")[1].split("</table>")[0]
    viewer = db.session.get(User, world.leader.id)
    names = {db.session.get(User, u.id).name_for(viewer): n for u, n in ((world.inspector, 3), (other, 1))}
    rows = {row.split("</td>")[0]: row.split("<td>")[-1].split("</td>")[0] for row in table.split("<tr><td>")[1:]}
    assert {name: rows[name] for name in names} == {name: str(n) for name, n in names.items()}
