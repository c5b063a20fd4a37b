"""A school never learns who complained, what exactly they wrote, or that a check is coming.

Complaints at school A: one handed to the school as a ticket (in the bureau's words), one waiting
for an unannounced check by a volunteer. Its duty officer then crawls every GET route (pages,
htmx fragments, API with cookie and bearer token, both languages): no contact, no tracking code,
no complainant's own words, no task, its window or its assignee may appear anywhere.
"""
from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from inspect_app.accounts.models import Role
from inspect_app.complaints.models import Complaint
from inspect_app.plans.models import Task
from inspect_app.tickets.models import Ticket

CONTACT = "13987654321"
OWN_WORDS = "我家孩子三年二班张小明说食堂的菜是馊的"
WATCHED = "体育馆的灭火器过期好几年"
ASSIGNEE = dict(username="li_covert_parent", display_name="李真名家长", pseudonym="志愿者丙丁")


def test_the_school_never_sees_the_complainant_or_the_planned_check(app, db, world, login_as, api_token, make_user):
    public = app.test_client()
    codes = []
    for text in (OWN_WORDS, WATCHED):
        answer = public.post("/api/v1/complaints", json={"school_id": world.a.id, "text": text, "contact": CONTACT,
                                                         "idempotency_key": str(uuid.uuid4())})
        codes.append(answer.get_json()["tracking_code"])
    volunteer = make_user(Role.VOLUNTEER, assigned_school_ids=[world.a.id], **ASSIGNEE)
    handed, watched = db.session.scalars(sa.select(Complaint.id).order_by(Complaint.id)).all()
    leader = api_token("leader")
    assert public.post(f"/api/v1/complaints/{handed}/triage", headers=leader, json={
        "action": "ticket", "problem": "食堂饭菜质量问题，请自查留样制度"}).status_code == 200
    # Clear of the handed-over ticket's deadline (two days for a major problem), which the school does see.
    start, end = date.today() + timedelta(days=5), date.today() + timedelta(days=12)
    assert public.post(f"/api/v1/complaints/{watched}/triage", headers=leader, json={
        "action": "visit", "assignee_id": volunteer.id, "window_start": start.isoformat(),
        "window_end": end.isoformat()}).status_code == 200
    ticket_id = db.session.scalar(sa.select(Ticket.id))
    task_id = db.session.scalar(sa.select(Task.id))
    secrets = [CONTACT, OWN_WORDS[:8], WATCHED[:6], *codes, *(c.replace("-", "") for c in codes),
               *ASSIGNEE.values()]
    day_words = {f"{d.month}月{d.day}日" for d in (start, end)} | {d.isoformat() for d in (start, end)}
    values = {"school_id": [world.a.id], "ticket_id": [ticket_id], "visit_id": [], "photo_id": [], "size": [],
              "token": [world.a.qr_token], "day": [date.today().isoformat()], "template_id": [],
              "user_id": [volunteer.id], "kind": ["visits", "findings", "tickets"], "fmt": ["csv"],
              "code": [], "complaint_id": [handed, watched], "filename": [], "plan_id": [1],
              "hand_over_id": []}  # a complaint's ticket has no visit, so no hand-over sheet
    urls = set()
    with app.test_request_context():
        from flask import url_for
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            combos = [{}]
            for arg in sorted(rule.arguments):
                assert arg in values, f"no values for <{arg}> of {rule.rule}"
                combos = [dict(c, **{arg: v}) for c in combos for v in values[arg]]
            urls |= {url_for(rule.endpoint, **c) for c in combos}
    urls |= {"/api/v1/complaints", "/api/v1/tasks", f"/api/v1/complaints?school_id={world.a.id}",
             "/tickets/?status=open", "/api/v1/tickets?status=open", "/complaints/?status=triaged"}
    officer, bearer, tokenised = login_as("officer"), api_token("officer"), app.test_client()
    leaks, reached = [], set()
    for url in sorted(urls):
        for lang in ("", "lang=en"):
            full = url + (("&" if "?" in url else "?") + lang if lang else "")
            for who, response in (("page", officer.get(full)),
                                  ("fragment", officer.get(full, headers={"HX-Request": "true"})),
                                  ("token", tokenised.get(full, headers=bearer))):
                body = json.dumps(response.get_json(), ensure_ascii=False) if response.is_json else \
                    response.get_data().decode("utf-8", "replace")
                if response.status_code == 200:
                    reached.add(url)
                for secret in secrets:
                    if secret in body:
                        leaks.append(f"{who} {full}: {secret!r}")
                for words in day_words:
                    if words in body:
                        leaks.append(f"{who} {full}: the check's window {words!r}")
                public = url.startswith(("/complaints/new", "/complaints/track", "/c/"))
                if "complaints" in url and response.status_code == 200 and not public:
                    leaks.append(f"{who} {full}: a complaint page answered the school")
    assert f"/tickets/{ticket_id}" in reached and f"/api/v1/tickets/{ticket_id}" in reached
    assert not leaks, "\n".join(sorted(set(leaks))[:40])
    # And the ticket did reach the school, in the bureau's words.
    assert "食堂饭菜质量问题" in officer.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert task_id
