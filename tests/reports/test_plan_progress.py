"""A plan's progress in the daily report (issue 14): done, late, missed and pending as they stood at
the 16:00 cut-off, like every other figure; counts only, and for the planners only."""
from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from inspect_app.accounts.models import User
from inspect_app.checklists.models import VisitMode
from inspect_app.plans.models import Plan, Task, TaskStatus, Weighting
from inspect_app.reports import services
from inspect_app.schools.models import School
from tests.reports.test_as_of import DAY, END

H = timedelta(hours=1)
# (window end, status now, done at, cancelled at, created at) relative to the cut-off, and what it was then.
TASKS = [
    (-H, TaskStatus.DONE, -2 * H, None, None, "done"),
    (-5 * H, TaskStatus.DONE, -H, None, None, "late"),
    (-H, TaskStatus.OPEN, None, None, None, "missed"),
    (-2 * H, TaskStatus.DONE, H, None, None, "missed"),           # done only after the cut-off
    (-H, TaskStatus.CANCELLED, None, H, None, "missed"),          # redrawn only after the cut-off
    (-H, TaskStatus.CANCELLED, None, -0.5 * H, None, None),       # redrawn before it: gone
    (5 * H, TaskStatus.OPEN, None, None, None, "pending"),
    (5 * H, TaskStatus.OPEN, None, None, H, None),                # drawn after the cut-off
]


def test_plan_progress_is_as_of_the_cutoff_and_for_planners_only(app, db, world, login_as, api_token):
    leader = db.session.get(User, world.leader.id)
    plan = Plan(date_from=DAY, date_to=DAY, count=len(TASKS), weighting=Weighting.RISK, modes_text="overt",
                seed="00ff", created_by_id=leader.id)
    db.session.add(plan)
    for window_end, status, done, cancelled, created, _then in TASKS:
        db.session.add(Task(plan=plan, assignee_id=world.inspector.id, school=db.session.get(School, world.a.id),
                            mode=VisitMode.OVERT, window_start=END - 30 * H, window_end=END + window_end,
                            status=status, done_at=END + done if done is not None else None,
                            cancelled_at=END + cancelled if cancelled is not None else None,
                            created_at=END + (created if created is not None else -40 * H)))
    db.session.commit()
    expected = {"done": 0, "late": 0, "missed": 0, "pending": 0}
    for *_rest, then in TASKS:
        if then:
            expected[then] += 1
    assert expected == {"done": 1, "late": 1, "missed": 3, "pending": 1}
    assert services.assemble(DAY)["plans"] == expected
    url = f"/reports/daily/{DAY.isoformat()}"
    page = login_as("leader").get(url).get_data(as_text=True)
    assert 'id="plans"' in page and "未完成 3" in page.split('id="plans"')[1].split("</section>")[0]
    assert 'id="plans"' not in login_as("inspector").get(url).get_data(as_text=True)
    client = app.test_client()
    assert client.get(f"/api/v1{url}", headers=api_token("leader")).get_json()["plans"] == expected
    assert "plans" not in client.get(f"/api/v1{url}", headers=api_token("inspector")).get_json()
    # The spreadsheet carries the same counts for a planner, and no plan sheet for anyone else.
    book = load_workbook(io.BytesIO(login_as("leader").get(f"{url}.xlsx").data))
    assert "督查计划" in book.sheetnames
    rows = [[c.value for c in row] for row in book["督查计划"].iter_rows()]
    assert dict(zip(rows[0], rows[1])) == {"未到期": 1, "已完成": 1, "逾期完成": 1, "未完成": 3}
    assert "督查计划" not in load_workbook(io.BytesIO(login_as("inspector").get(f"{url}.xlsx").data)).sheetnames
