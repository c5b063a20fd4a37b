"""A plan is sealed (issue 14): a school's pages, fragments and API answers are the same, byte for
byte but for tokens and the crawl's own clock, before and after a plan naming it is made."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from inspect_app.plans.models import Task
from tests.test_covert_source import LONG_TOKEN, _text, _urls, covert_world  # noqa: F401  (a fixture)

SHANGHAI = timezone(timedelta(hours=8))
CLOCK = re.compile(r"\d{1,2}:\d{2}(:\d{2})?")  # "now" in a page footer or a relative time


def _crawl(app, officer, bearer, urls) -> dict[str, tuple[int, str]]:
    tokenised = app.test_client()
    seen = {}
    for url in urls:
        for who, response in (("page", officer.get(url)), ("fragment", officer.get(url, headers={"HX-Request": "1"})),
                              ("token", tokenised.get(url, headers=bearer))):
            headers = "\n".join(f"{k}: {v}" for k, v in sorted(response.headers.items())
                                if k not in ("Date", "Set-Cookie", "Server-Timing"))
            body = CLOCK.sub("HH:MM", LONG_TOKEN.sub("TOKEN", _text(response) + "\n" + headers))
            seen[f"{who} {url}"] = (response.status_code, body)
    return seen


def test_a_plan_naming_the_school_changes_nothing_its_duty_officer_can_reach(
        app, db, world, login_as, api_token, make_user, covert_world):  # noqa: F811
    officer, bearer = login_as("officer"), api_token("officer")
    # The school reports on a ticket, so a follow-up plan (回头看) naming it can be drawn below, by an
    # inspector other than the one who found it.
    make_user("inspector", username="inspector_follow_up")
    responded = officer.form_post(f"/tickets/{covert_world['overt'].tickets[0]}/respond", {"text": "已整改"})
    assert responded.status_code == 302
    urls = _urls(app, world, covert_world)
    # Reading the school's tickets and notices marks them read: crawl once to settle that, then again.
    _crawl(app, officer, bearer, urls)
    before = _crawl(app, officer, bearer, urls)
    today = datetime.now(SHANGHAI).date().isoformat()
    for mode, who in (("overt", world.inspector.id), ("covert", world.volunteer.id)):
        made = app.test_client().post("/api/v1/plans", headers=api_token("leader"), json={
            "date_from": today, "date_to": today, "count": 1, "mode": mode, "assignees": [who],
            "weighting": "risk"})
        assert made.status_code == 201, made.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)
                             .where(Task.school_id == world.a.id, Task.plan_id.is_not(None))) >= 1
    plan_ids = sorted(set(db.session.scalars(sa.select(Task.plan_id).where(Task.plan_id.is_not(None)))))
    # The tasks go missed and a planner redraws them: the new tasks are as sealed as the first.
    from tests.plans.test_redraw_and_follow_ups import _miss
    leader = login_as("leader")
    for plan_id in plan_ids:
        _miss(app, plan_id)
        assert leader.form_post(f"/plans/{plan_id}/redraw", {"date_to": today}).status_code == 302
    assert leader.form_post("/plans/follow-ups", {"date_from": today, "date_to": today}).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Task).where(
        Task.school_id == world.a.id, Task.mode == "follow_up")) == 1
    after = _crawl(app, officer, bearer, urls)
    assert before.keys() == after.keys()
    changed = [key for key in before if before[key] != after[key]]
    assert not changed, (changed[:20], [_diff(before[k][1], after[k][1]) for k in changed[:3]])
    assert sum(status == 200 for status, _ in after.values()) > 50  # the crawl reached the school's pages


def _diff(a: str, b: str) -> str:
    import difflib
    return "\n".join(list(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0))[:12])
