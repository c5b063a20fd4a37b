"""What is left of a plan: missed tasks redrawn by a planner (audited, to someone who may go, not the
one who missed it when another may), and a follow-up plan (回头看) for every school with responded
tickets, never sent to the inspector who found them."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from inspect_app.accounts.models import Role
from inspect_app.audit.models import AuditEntry
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.plans.models import Plan, Task, TaskProgress, TaskStatus
from tests.plans.test_plans import _plan

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _today():
    return utcnow().astimezone(SHANGHAI).date()


def _miss(app, plan_id):
    """The plan's tasks were due yesterday and nobody went."""
    with app.app_context():
        for task in db.session.get(Plan, plan_id).tasks:
            task.window_start = utcnow() - timedelta(days=2)
            task.window_end = utcnow() - timedelta(days=1)
        db.session.commit()


def test_missed_tasks_are_redrawn_to_another_inspector_and_the_chain_keeps_both(
        app, db, world, make_user, api_token, login_as):
    other = make_user(Role.INSPECTOR, assigned_school_ids=[world.a.id, world.b.id])
    made = _plan(app.test_client(), api_token("leader"), count=1, assignees=[world.inspector.id, other.id])
    assert made.status_code == 201, made.get_json()
    plan_id, (task,) = made.get_json()["id"], made.get_json()["tasks"]
    leader = login_as("leader")
    # Nothing missed yet: refused in words, nothing changes.
    early = leader.form_post(f"/plans/{plan_id}/redraw", {"date_to": _today().isoformat()})
    assert early.status_code == 422 and "没有错过的检查" in early.get_data(as_text=True)
    _miss(app, plan_id)
    page = leader.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert 'id="redraw"' in page
    past = leader.form_post(f"/plans/{plan_id}/redraw", {"date_to": (_today() - timedelta(days=1)).isoformat()})
    assert past.status_code == 422
    done = leader.form_post(f"/plans/{plan_id}/redraw", {"date_to": (_today() + timedelta(days=2)).isoformat()})
    assert done.status_code == 302
    tasks = db.session.scalars(sa.select(Task).where(Task.plan_id == plan_id).order_by(Task.id)).all()
    assert [t.status for t in tasks] == [TaskStatus.CANCELLED, TaskStatus.OPEN]
    missed, again = tasks
    assert again.school_id == missed.school_id == task["school_id"]
    assert again.assignee_id != missed.assignee_id  # another may go: not the one who missed it
    assert again.progress(utcnow()) is TaskProgress.PENDING
    assert _today() <= again.window_start.astimezone(SHANGHAI).date() <= _today() + timedelta(days=2)
    audited = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.object_type == "tasks",
                                                             AuditEntry.object_id.in_([str(missed.id),
                                                                                       str(again.id)]))).all()
    assert {(e.object_id, e.action) for e in audited} >= {(str(missed.id), "update"), (str(again.id), "create")}
    # Redrawn once: nothing left to redraw.
    assert leader.form_post(f"/plans/{plan_id}/redraw", {"date_to": _today().isoformat()}).status_code == 422


def test_a_follow_up_plan_covers_every_school_with_responded_tickets_never_by_their_finder(
        db, world, make_user, make_visit, login_as):
    other = make_user(Role.INSPECTOR, assigned_school_ids=[world.b.id])
    leader = login_as("leader")
    today = _today().isoformat()
    none = leader.form_post("/plans/follow-ups", {"date_from": today, "date_to": today})
    assert none.status_code == 422 and "没有学校" in none.get_data(as_text=True)
    ticket = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    make_visit(world.inspector, world.b, fail=("G3",))  # open, not responded: no follow-up yet
    officer = login_as("officer")
    assert officer.form_post(f"/tickets/{ticket}/respond", {"text": "已整改"}).status_code == 302
    drawn = leader.form_post("/plans/follow-ups", {"date_from": today, "date_to": today})
    assert drawn.status_code == 302, drawn.get_data(as_text=True)[:500]
    plan = db.session.scalar(sa.select(Plan).order_by(Plan.id.desc()))
    assert [m.value for m in plan.modes] == ["follow_up"]
    assert [(t.school_id, t.mode.value) for t in plan.tasks] == [(world.a.id, "follow_up")]
    # The finder may not verify their own finding: another inspector goes, from any school's list.
    assert plan.tasks[0].assignee_id == other.id != world.inspector.id
