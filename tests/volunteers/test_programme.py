"""Tasks, the coordinator's roster and a volunteer's own history (issue 13)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from inspect_app.accounts.models import User
from inspect_app.dbtypes import utcnow
from inspect_app.plans.models import Task, TaskStatus
from tests.visits.test_volunteer_disguise import GIVEAWAYS


def _today():
    from zoneinfo import ZoneInfo
    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()  # the bureau's day, as create_task reads it


def _give(coordinator, volunteer_id, school_id, first, last):
    return coordinator.form_post(f"/programme/{volunteer_id}", {
        "school_id": str(school_id), "first_day": first.isoformat(), "last_day": last.isoformat()})


def test_the_coordinator_gives_a_dated_task_and_the_volunteer_sees_it_first(db, world, login_as, templates,
                                                                              make_visit):
    coordinator = login_as("admin")
    today = _today()
    assert _give(coordinator, world.volunteer.id, world.a.id, today, today + timedelta(days=3)).status_code == 302
    # School B is not theirs: refused under the field, nothing created.
    refused = _give(coordinator, world.volunteer.id, world.b.id, today, today)
    assert refused.status_code == 422
    backwards = _give(coordinator, world.volunteer.id, world.a.id, today + timedelta(days=2), today)
    assert backwards.status_code == 422 and "结束日期不能早于" in backwards.get_data(as_text=True)
    home = login_as("volunteer").get("/").get_data(as_text=True)
    assert home.index('id="my-tasks"') < home.index("tiles")  # open tasks first
    assert "甲校" in home and "测试路" in home and 'href="geo:' in home and "导航前往" in home
    assert not [word for word in GIVEAWAYS if word in home]
    make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V1",))
    assert db.session.scalars(sa.select(Task.status)).all() == [TaskStatus.DONE]
    page = coordinator.get(f"/programme/{world.volunteer.id}").get_data(as_text=True)
    assert "甲校" in page and "已完成" in page


def test_late_and_skipped_tasks_show_on_the_coordinators_pages(db, world, login_as):
    coordinator = login_as("admin")
    today = _today()
    _give(coordinator, world.volunteer.id, world.a.id, today, today)
    task = db.session.scalars(sa.select(Task)).one()
    task.window_start -= timedelta(days=5)
    task.window_end -= timedelta(days=4)  # its window closed days ago, never done
    db.session.commit()
    page = coordinator.get(f"/programme/{world.volunteer.id}").get_data(as_text=True)
    assert "逾期" in page
    roster = coordinator.get("/programme/").get_data(as_text=True)
    assert "1 项逾期" in roster


def test_the_roster_names_volunteers_by_pseudonym_with_their_no_go_schools_and_deactivates(
        db, world, login_as, make_user, make_browser, templates, make_visit):
    parent = make_user("volunteer", real_name="周秘密", pseudonym="志愿者31")
    from inspect_app.schools.models import School
    user = db.session.get(User, parent.id)
    user.child_schools = [db.session.get(School, world.b.id)]
    db.session.commit()
    make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=())
    coordinator = login_as("admin")
    roster = coordinator.get("/programme/").get_data(as_text=True)
    assert "志愿者31" in roster and "不安排前往：乙校" in roster and "周秘密" not in roster
    assert roster.count("最近一次检查：暂无") == 1  # the world's volunteer has checked once
    signed_in = make_browser()
    signed_in.sign_in(parent.username)
    assert coordinator.form_post(f"/programme/{parent.id}/deactivate").status_code == 302
    assert signed_in.get("/").status_code == 302  # the session ended at once
    again = coordinator.form_post(f"/programme/{parent.id}/deactivate")
    assert again.status_code == 409
    assert not db.session.get(User, parent.id).active


def test_a_volunteers_history_says_what_became_of_each_problem_and_no_staff_names(db, world, login_as, make_user,
                                                                                 templates, make_visit):
    from inspect_app.tickets.models import Ticket, TicketStatus
    make_user("duty_officer", school_id=world.a.id, display_name="甲校值班王老师")
    done = make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V1", "V3"))
    first = db.session.get(Ticket, min(done.tickets))
    first.status = TicketStatus.CLOSED
    db.session.commit()
    page = login_as("volunteer").get("/programme/history").get_data(as_text=True)
    assert "甲校" in page and page.count("已整改") == 1 and page.count("整改中") == 1
    assert "王老师" not in page and world.officer.username not in page
    assert not [word for word in GIVEAWAYS if word in page]
    empty = login_as(None)
    lonely = make_user("volunteer")
    empty.sign_in(lonely.username)
    assert "还没有提交记录" in empty.get("/programme/history").get_data(as_text=True)
