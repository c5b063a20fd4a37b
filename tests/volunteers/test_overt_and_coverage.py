"""Overt (明查) tasks for volunteers with a template of their own, and the coordinator's month of
coverage (issue 13, "Tasks" and "The coordinator's view")."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from inspect_app.accounts.models import User
from inspect_app.checklists.models import ChecklistTemplate, VisitMode
from inspect_app.extensions import db
from inspect_app.plans.models import Task, TaskError
from inspect_app.schools.models import School
from tests.visits.test_volunteer_disguise import GIVEAWAYS
from tests.volunteers.test_programme import _today


def _codes(app, person, mode):
    from inspect_app.checklists.services import templates_for
    with app.test_request_context("/"):
        return [t.code for t in templates_for(db.session.get(User, person.id), mode)]


def test_volunteers_get_the_parents_template_for_overt_visits_and_nobody_else_does(app, db, world, templates):
    assert _codes(app, world.volunteer, VisitMode.OVERT) == ["parent_overt"]
    assert _codes(app, world.volunteer, VisitMode.COVERT) == ["covert"]
    for person in (world.inspector, world.leader):
        for mode in (VisitMode.OVERT, VisitMode.REMOTE, VisitMode.FOLLOW_UP):
            codes = _codes(app, person, mode)
            assert codes and "parent_overt" not in codes
    # The template is installed with the others, in Chinese, from the seed documents' gate/canteen/hygiene.
    parent = db.session.scalar(sa.select(ChecklistTemplate).where(ChecklistTemplate.code == "parent_overt"))
    sections = {item.section_zh for item in parent.current_version.items}
    assert sections == {"校门", "食堂", "卫生"} and parent.modes == {VisitMode.OVERT}


def test_start_accepts_the_parents_template_overtly_and_refuses_the_inspectors_one(app, world, templates):
    from inspect_app.checklists.models import TemplateVersion
    from inspect_app.visits.services import VisitError, start_target
    with app.test_request_context("/"):
        volunteer, inspector = db.session.get(User, world.volunteer.id), db.session.get(User, world.inspector.id)
        school = db.session.get(School, world.a.id)
        parent = db.session.get(TemplateVersion, templates["parent_overt"].version_id)
        onsite = db.session.get(TemplateVersion, templates["onsite"].version_id)
        assert start_target(volunteer, school, "overt", parent)[1] is VisitMode.OVERT
        with pytest.raises(VisitError):
            start_target(volunteer, school, "overt", onsite)
        with pytest.raises(VisitError):
            start_target(inspector, school, "overt", parent)
        with pytest.raises(VisitError):  # still only at their assigned school
            start_target(volunteer, db.session.get(School, world.b.id), "overt", parent)


def test_create_task_takes_a_mode_the_role_may_run_and_defaults_as_before(app, world):
    from inspect_app.plans.services import create_task
    today = _today()
    with app.test_request_context("/"):
        volunteer, inspector = db.session.get(User, world.volunteer.id), db.session.get(User, world.inspector.id)
        admin = db.session.get(User, world.admin.id)
        school = db.session.get(School, world.a.id)
        assert create_task(volunteer, school, today, today, admin).mode is VisitMode.COVERT
        assert create_task(inspector, school, today, today, admin).mode is VisitMode.OVERT
        assert create_task(volunteer, school, today, today, admin, mode=VisitMode.OVERT).mode is VisitMode.OVERT
        for who, mode in ((volunteer, VisitMode.FOLLOW_UP), (volunteer, VisitMode.SELF_CHECK),
                          (inspector, VisitMode.REMOTE), (inspector, VisitMode.SELF_CHECK)):
            with pytest.raises(TaskError) as refused:
                create_task(who, school, today, today, admin, mode=mode)
            assert refused.value.field == "mode" and refused.value.status == 422
        db.session.rollback()


def test_the_coordinator_sends_a_volunteer_openly_and_their_screens_stay_neutral(db, world, login_as, templates):
    coordinator = login_as("admin")
    today = _today()
    page = coordinator.get(f"/programme/{world.volunteer.id}").get_data(as_text=True)
    assert 'name="mode"' in page and "明查" in page and "暗访" in page
    fields = {"school_id": str(world.a.id), "first_day": today.isoformat(),
              "last_day": (today + timedelta(days=2)).isoformat()}
    for hostile in ("remote", "follow_up", "self_check", "OVERT", "x" * 500):
        answer = coordinator.form_post(f"/programme/{world.volunteer.id}", {**fields, "mode": hostile})
        assert answer.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 0
    assert coordinator.form_post(f"/programme/{world.volunteer.id}", {**fields, "mode": "overt"}).status_code == 302
    assert db.session.scalars(sa.select(Task.mode)).all() == [VisitMode.OVERT]
    assert "明查" in coordinator.get(f"/programme/{world.volunteer.id}").get_data(as_text=True)
    volunteer = login_as("volunteer")
    home = volunteer.get("/").get_data(as_text=True)
    assert "以家长身份" in home and not [w for w in GIVEAWAYS if w in home]
    school = volunteer.get(f"/schools/{world.a.id}").get_data(as_text=True)
    assert "以家长身份开始" in school and not [w for w in GIVEAWAYS if w in school]


def test_the_parents_checklist_gives_nothing_away_on_the_phone(app, world, login_as, make_visit):
    draft = make_visit(world.volunteer, world.a, template="parent_overt", mode="overt", submit=False, fail=("PC1",))
    page = login_as("volunteer").get(f"/visits/{draft.id}").get_data(as_text=True)
    assert "食堂" in page and not [w for w in GIVEAWAYS if w in page]


def test_plans_send_volunteers_openly_only_when_named_for_an_overt_plan(app, world):
    from inspect_app.dbtypes import utcnow
    from inspect_app.plans.planning import _candidates
    with app.test_request_context("/"):
        volunteer, now = db.session.get(User, world.volunteer.id), utcnow()

        def modes(wanted, auto):
            return [c.mode for c in _candidates([volunteer], wanted, auto, now, now)]
        for auto in (True, False):
            assert modes([VisitMode.OVERT, VisitMode.COVERT], auto) == [VisitMode.COVERT]
            assert modes([VisitMode.FOLLOW_UP], auto) == []
        assert modes([VisitMode.OVERT], auto=True) == []  # an automatic overt plan is the inspectors'
        assert modes([VisitMode.OVERT], auto=False) == [VisitMode.OVERT]


def test_the_month_of_coverage_counts_volunteers_checks_per_school(db, world, login_as, make_visit):
    make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=())
    make_visit(world.volunteer, world.a, template="parent_overt", mode="overt", fail=())
    make_visit(world.inspector, world.b, fail=())  # an inspector's check is not the programme's
    make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=(), submit=False)  # a draft
    coordinator = login_as("admin")
    page = coordinator.get("/programme/coverage").get_data(as_text=True)
    checked = page[page.index('id="checked"'):]
    unchecked = page[page.index('id="unchecked"'):page.index('id="checked"')]
    assert f'id="school-{world.a.id}"' in checked and "2 次" in checked
    assert "乙校" in unchecked and "甲校" not in unchecked
    from inspect_app.volunteers.services import month_coverage
    earlier = (_today().replace(day=1) - timedelta(days=1)).replace(day=1)
    coverage = month_coverage(earlier)
    assert coverage.checked == [] and coverage.checks == 0 and len(coverage.unchecked) == 2
    this_month = month_coverage(_today().replace(day=1))
    assert [(s.id, n) for s, n in this_month.checked] == [(world.a.id, 2)] and this_month.checks == 2
    earlier_page = coordinator.get(f"/programme/coverage?month={earlier:%Y-%m}").get_data(as_text=True)
    assert "甲校" in earlier_page[earlier_page.index('id="unchecked"'):earlier_page.index('id="checked"')]
    for hostile in ("2026-13", "2026-1", "abcd-ef", "1999-12", "2026-11-01", "%00"):
        assert coordinator.get("/programme/coverage", query_string={"month": hostile}).status_code in (400, 404)
    future = coordinator.get("/programme/coverage?month=2099-01")  # clamped to this month
    assert future.status_code == 200 and "2 次" in future.get_data(as_text=True)
    for role in ("inspector", "leader", "volunteer", "officer"):
        assert login_as(role).get("/programme/coverage").status_code == 403


def test_a_hand_over_sheet_of_a_parents_open_check_names_a_parent_supervisor_not_a_pseudonym(
        db, world, login_as, make_visit):
    visit = make_visit(world.volunteer, world.a, template="parent_overt", mode="overt", fail=("PC1",))
    response = login_as("inspector").form_post(f"/tickets/hand-overs/visit/{visit.id}")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    pseudonym = db.session.get(User, world.volunteer.id).pseudonym
    sheet = login_as("officer").get(response.headers["Location"]).get_data(as_text=True)
    assert "家长监督员" in sheet and pseudonym not in sheet
