"""Sealed, risk-weighted plans (督查计划): scores with reasons, a reproducible draw that respects
conflicts and load, tasks seen only by their assignee (from the morning of their day) and planners."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from inspect_app.accounts.models import Role
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.plans.models import Plan, Task, TaskProgress, TaskStatus
from inspect_app.tickets.models import Ticket


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _today():
    return utcnow().astimezone(SHANGHAI).date()


def _plan(client, headers, **body):
    today = _today().isoformat()
    sent = {"date_from": today, "date_to": today, "count": 2, "mode": "overt", "assignees": "auto",
            "weighting": "risk", **body}
    return client.post("/api/v1/plans", json=sent, headers=headers)


def test_a_risk_plan_draws_the_riskiest_school_with_its_reasons_and_can_be_drawn_again(
        app, db, world, make_school, make_user, make_visit, api_token, templates):
    quiet = [make_school(name=f"平安校{n}") for n in range(6)]
    inspector2 = make_user(Role.INSPECTOR, assigned_school_ids=[s.id for s in quiet] + [world.b.id])
    make_visit(world.inspector, world.a, fail=("G1", "G2", "G3"))
    for school in quiet + [world.b]:
        make_visit(inspector2, school, fail=())
    db.session.execute(sa.update(Ticket).where(Ticket.school_id == world.a.id)
                       .values(deadline=utcnow() - timedelta(days=2)))
    db.session.commit()
    client = app.test_client()
    answer = _plan(client, api_token("leader"), count=1, assignees=[world.inspector.id, inspector2.id])
    assert answer.status_code == 201, answer.get_json()
    plan = answer.get_json()
    scores = {s["school_id"]: s for s in plan["scores"]}
    a = scores[world.a.id]
    assert a["score"] == max(s["score"] for s in plan["scores"])
    assert "3 张逾期整改单" in a["reasons"] and any("不合格" in r for r in a["reasons"]), a["reasons"]
    assert not a["due"] and "从未检查" not in a["reasons"]
    (task,) = plan["tasks"]
    assert task["school_id"] is not None and task["mode"] == "overt" and task["progress"] == "pending"
    from inspect_app.plans.planning import redraw
    stored = db.session.get(Plan, plan["id"])
    again = redraw(stored)
    assert [(d.school_id, d.user_id, d.day) for d in again.tasks] == \
        [(t.school_id, t.assignee_id, t.window_start.astimezone(SHANGHAI).date()) for t in stored.tasks]
    assert len(stored.seed) == 16


def test_the_draw_is_weighted_by_risk_and_reproducible_from_its_seed(app):
    from inspect_app.plans.risk import Candidate, draw
    from inspect_app.checklists.models import VisitMode
    day = _today()
    scores = [{"school_id": n, "score": 40.0 if n == 1 else 0.0, "due": False, "reasons": []} for n in range(1, 11)]
    people = [Candidate(7, VisitMode.OVERT, frozenset(range(1, 11)))]
    first = [draw(f"{seed:016x}", scores, 1, True, [day], people).tasks[0].school_id for seed in range(300)]
    uniform = [draw(f"{seed:016x}", scores, 1, False, [day], people).tasks[0].school_id for seed in range(300)]
    assert first.count(1) > 200 and uniform.count(1) < 80  # 41/50 against 1/10
    assert first == [draw(f"{seed:016x}", scores, 1, True, [day], people).tasks[0].school_id for seed in range(300)]
    # A school past the coverage guarantee comes first, whatever its weight.
    due = [dict(s, due=s["school_id"] == 9) for s in scores]
    assert all(draw(f"{seed:016x}", due, 1, True, [day], people).tasks[0].school_id == 9 for seed in range(50))


def test_load_is_spread_and_nobody_goes_where_they_may_not(app, db, world, make_school, make_user, api_token):
    schools = [make_school() for _ in range(6)]
    ids = [s.id for s in schools]
    busy = make_user(Role.VOLUNTEER, assigned_school_ids=ids)
    other = make_user(Role.VOLUNTEER, assigned_school_ids=ids)
    from inspect_app.accounts.models import User
    from inspect_app.schools.models import School
    user = db.session.get(User, other.id)
    user.child_schools.append(db.session.get(School, ids[0]))
    db.session.commit()
    answer = _plan(app.test_client(), api_token("leader"), count=6, mode="covert",
                   assignees=[busy.id, other.id], weighting="uniform")
    assert answer.status_code == 201, answer.get_json()
    tasks = answer.get_json()["tasks"]
    by_person = {}
    for task in tasks:
        by_person.setdefault(task["assignee_id"], []).append(task["school_id"])
        assert task["mode"] == "covert"
    assert ids[0] not in by_person.get(other.id, [])
    assert sorted(map(len, by_person.values())) == [3, 3]


def test_refusals_name_their_field(app, world, api_token, make_user):
    client, leader = app.test_client(), api_token("leader")
    yesterday = (_today() - timedelta(days=1)).isoformat()
    assert _plan(client, leader, date_from=yesterday).status_code == 422
    assert _plan(client, leader, count=0).status_code == 422
    assert _plan(client, leader, mode="self_check").status_code == 422
    assert _plan(client, leader, assignees=[world.officer.id]).status_code == 422
    assert _plan(client, leader, assignees=[999999]).status_code == 422
    assert _plan(client, leader, weighting="loud").status_code == 422
    assert _plan(client, leader, surprise=1).status_code == 422
    # A volunteer cannot make a follow-up visit: named for one, the plan is refused.
    assert _plan(client, leader, mode="follow_up", assignees=[world.volunteer.id]).status_code == 422
    for who in ("inspector", "volunteer", "officer"):
        assert _plan(client, api_token(who)).status_code == 403
    assert _plan(client, api_token("admin")).status_code == 201


def test_a_task_shows_its_school_to_the_assignee_only_from_the_morning_of_its_day(
        app, world, login_as, api_token):
    tomorrow = (_today() + timedelta(days=1)).isoformat()
    answer = _plan(app.test_client(), api_token("leader"), date_from=tomorrow, date_to=tomorrow, count=1,
                   mode="covert", assignees=[world.volunteer.id])
    assert answer.status_code == 201, answer.get_json()
    (task,) = answer.get_json()["tasks"]
    assert task["school_id"] == world.a.id  # the planner sees it
    mine = app.test_client().get("/api/v1/tasks", headers=api_token("volunteer")).get_json()["tasks"]
    assert [t["school_id"] for t in mine] == [None] and mine[0]["reveal_at"].endswith("06:00:00+08:00")
    home = login_as("volunteer").get("/").get_data(as_text=True)
    assert "甲校" not in home.split('id="my-tasks"')[1].split("</section>")[0]
    with app.test_request_context():
        from inspect_app.accounts.models import User
        from inspect_app.plans.access import reveal_at
        from inspect_app.plans.present import task_view
        stored = db.session.get(Task, task["id"])
        volunteer = db.session.get(User, world.volunteer.id)
        moment = reveal_at(stored)
        assert task_view(stored, volunteer, moment - timedelta(seconds=1))["school_id"] is None
        assert task_view(stored, volunteer, moment)["school_id"] == world.a.id
        inspector = db.session.get(User, world.inspector.id)
        from inspect_app.plans.access import can_view_task
        assert not can_view_task(inspector, stored)


def test_progress_done_late_missed(app, db, world, make_visit, api_token, templates):
    answer = _plan(app.test_client(), api_token("leader"), count=1, assignees=[world.inspector.id])
    plan_id = answer.get_json()["id"]
    (task,) = answer.get_json()["tasks"]
    make_visit(world.inspector, world.a if task["school_id"] == world.a.id else world.b, fail=())
    stored = db.session.get(Task, task["id"])
    assert stored.status is TaskStatus.DONE and stored.visit_id
    now = utcnow()
    assert stored.progress(now) is TaskProgress.DONE
    stored.done_at = stored.window_end + timedelta(hours=1)
    assert stored.progress(now) is TaskProgress.LATE
    stored.status = TaskStatus.OPEN
    assert stored.progress(stored.window_end + timedelta(seconds=1)) is TaskProgress.MISSED
    db.session.rollback()
    got = app.test_client().get(f"/api/v1/plans/{plan_id}", headers=api_token("leader")).get_json()
    assert got["progress"]["done"] == 1


def test_the_planner_pages(app, world, login_as):
    leader = login_as("leader")
    page = leader.get("/plans/new")
    assert page.status_code == 200 and "从未检查" in page.get_data(as_text=True)
    today = _today().isoformat()
    made = leader.form_post("/plans", {"date_from": today, "date_to": today, "count": "1", "modes": "overt",
                                       "weighting": "risk", "assignees": str(world.inspector.id)})
    assert made.status_code == 302, made.get_data(as_text=True)[:3000]
    shown = leader.get(made.headers["Location"]).get_data(as_text=True)
    assert "甲校" in shown and "从未检查" in shown and "必查" in shown  # the scores with their reasons
    refused = leader.form_post("/plans", {"date_from": today, "date_to": today, "count": "1", "weighting": "risk"})
    assert refused.status_code == 422 and "选择" in refused.get_data(as_text=True)
    assert "/plans/" in leader.get("/plans").get_data(as_text=True)
    for who in ("inspector", "volunteer", "officer"):
        assert login_as(who).get("/plans/new").status_code == 403


def test_the_dashboard_shows_plan_progress_to_planners_only(app, world, login_as, api_token):
    assert _plan(app.test_client(), api_token("leader"), count=1, assignees=[world.inspector.id]).status_code == 201
    board = login_as("leader").get("/reports/").get_data(as_text=True)
    assert 'id="plans"' in board and "未到期 1" in board
    assert 'id="plans"' not in login_as("inspector").get("/reports/").get_data(as_text=True)
