"""The day's circular (每日通报): a signed report sent to the leaders and, as its own excerpt, to every
school. Two schools with problems and good practice each: neither sees the other's problems, both
see the good practice of the schools named; read receipts; a school reads and cannot answer."""
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.visits.models import Answer, Finding, Result, Visit

UTC = timezone.utc
DAY = date(2026, 3, 10)
URL = f"/reports/daily/{DAY}/circular"


def _place(app, visit, problem: str | None, good: str | None, hour: int = 2):
    """Put the visit in DAY's window with a recognisable problem and good-practice note."""
    with app.app_context():
        row = db.session.get(Visit, visit.id)
        row.server_submitted_at = row.submitted_at = datetime(2026, 3, 10, hour, 7, tzinfo=UTC)
        if problem:
            for finding in db.session.scalars(sa.select(Finding).where(Finding.visit_id == visit.id)):
                finding.description = problem
        if good:
            answer = db.session.scalars(sa.select(Answer).where(Answer.visit_id == visit.id,
                                                                Answer.result == Result.PASS)).first()
            answer.note = good
        db.session.commit()


def _name(app, user) -> str:
    from inspect_app.accounts.models import User
    with app.app_context():
        return db.session.get(User, user.id).display_name


@pytest.fixture
def day_with_two_schools(app, world, templates, make_visit):
    from inspect_app.schools.models import School
    with app.app_context():
        for school in (world.a, world.b):
            db.session.get(School, school.id).created_at = datetime(2026, 1, 1, tzinfo=UTC)
        db.session.commit()
    _place(app, make_visit(world.inspector, world.a, fail=("G2",)), "甲校消防通道堵塞", "甲校门卫登记规范")
    _place(app, make_visit(world.leader, world.b, fail=("G3",)), "乙校食堂留样缺失", "乙校晨检到位")
    # A covert check at A: its volunteer and its minute must reach no school.
    _place(app, make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V3",)),
           "甲校校门口人员聚集", None, hour=3)
    return world


def _sign_and_send(login_as, named):
    leader = login_as("leader")
    assert leader.form_post(f"/reports/daily/{DAY}/sign").status_code == 302
    response = leader.form_post(URL, {"school": [str(i) for i in named]})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return leader


def test_the_leader_chooses_whom_to_name_by_default_every_school_with_items(app, login_as, day_with_two_schools):
    world = day_with_two_schools
    leader = login_as("leader")
    before = leader.get(URL).get_data(as_text=True)
    assert "签发后" in before and 'id="circulate"' not in before  # unsigned: nothing to send yet
    assert leader.form_post(f"/reports/daily/{DAY}/sign").status_code == 302
    page = leader.get(URL).get_data(as_text=True)
    assert 'id="circulate"' in page
    for school in (world.a, world.b):
        assert f'name="school" value="{school.id}" checked' in page
    assert "circular-link" in leader.get(f"/reports/daily/{DAY}").get_data(as_text=True)


def test_each_school_sees_its_own_problems_and_the_districts_good_practice_only(app, login_as, day_with_two_schools):
    world = day_with_two_schools
    _sign_and_send(login_as, [world.a.id, world.b.id])
    a = login_as("officer").get(URL)
    b = login_as("officer_b").get(URL)
    assert a.status_code == b.status_code == 200
    a, b = a.get_data(as_text=True), b.get_data(as_text=True)
    assert "甲校消防通道堵塞" in a and "甲校校门口人员聚集" in a and "甲校门卫登记规范" in a
    assert "乙校食堂留样缺失" not in a and "乙校晨检到位" in a  # praise travels, problems do not
    assert "乙校食堂留样缺失" in b and "乙校晨检到位" in b and "甲校门卫登记规范" in b
    assert "甲校消防通道堵塞" not in b and "甲校校门口人员聚集" not in b
    for page in (a, b):
        # Never who checked, how, or at what hour.
        for secret in (*(_name(app, u) for u in (world.volunteer, world.inspector, world.leader)),
                       "暗访", "10:07", "11:07", f"action=\"{URL}"):
            assert secret not in page, secret


def test_a_school_not_named_sees_no_problems_of_its_own_or_anyone_elses(app, login_as, day_with_two_schools):
    world = day_with_two_schools
    leader = _sign_and_send(login_as, [world.a.id])
    b = login_as("officer_b").get(URL).get_data(as_text=True)
    assert "本校未在本期通报中点名" in b
    assert "乙校食堂留样缺失" not in b and "乙校晨检到位" not in b and "甲校消防通道堵塞" not in b
    assert "甲校门卫登记规范" in b  # the good practice of the school named
    whole = leader.get(URL).get_data(as_text=True)
    assert "甲校消防通道堵塞" in whole and "乙校食堂留样缺失" not in whole


def test_notices_and_read_receipts(app, db, login_as, day_with_two_schools):
    world = day_with_two_schools
    leader = _sign_and_send(login_as, [world.a.id, world.b.id])
    officer = login_as("officer")
    inbox = officer.get("/tickets/notifications").get_data(as_text=True)
    assert "每日通报" in inbox and URL in inbox and "未读" in inbox
    receipts = leader.get(URL).get_data(as_text=True)
    assert "2 所学校中 0 所已阅" in receipts
    assert receipts.count("未读") == 2 and _name(app, world.officer) not in receipts
    assert officer.get(URL).status_code == 200
    assert officer.get(URL).status_code == 200  # a second opening is not a second receipt
    from inspect_app.tickets.models import EventKind, Notification
    mine = db.session.scalar(sa.select(Notification).where(Notification.user_id == world.officer.id,
                                                           Notification.kind == EventKind.CIRCULAR))
    assert mine.school_id == world.a.id and mine.day == DAY and mine.read_at is not None
    receipts = leader.get(URL).get_data(as_text=True)
    assert "2 所学校中 1 所已阅" in receipts and _name(app, world.officer) in receipts
    assert receipts.count("未读") == 1
    from inspect_app.reports.models import CircularRead
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CircularRead)
                             .where(CircularRead.school_id == world.a.id)) == 1


def test_refusals(app, login_as, day_with_two_schools):
    world = day_with_two_schools
    leader = login_as("leader")
    assert leader.form_post(URL, {"school": [str(world.a.id)]}).status_code == 409  # not signed
    assert login_as("officer").get(URL).status_code == 404  # nothing sent yet
    assert leader.form_post(f"/reports/daily/{DAY}/sign").status_code == 302
    assert leader.form_post(URL, {"school": ["abc"]}).status_code == 422
    assert leader.form_post(URL, {"school": ["99999"]}).status_code == 422  # no items: cannot be named
    assert leader.form_post(URL, {"school": [str(world.a.id)]}).status_code == 302
    assert leader.form_post(URL, {"school": [str(world.a.id)]}).status_code == 409  # once per report
    # A school reads; it has nothing to answer, and no other role sends.
    for who in ("officer", "inspector", "admin", "volunteer"):
        assert login_as(who).form_post(URL, {"school": [str(world.a.id)]}).status_code == 403
    assert login_as("volunteer").get(URL).status_code == 403
