"""回头看 as a real visit: a follow-up (mode "follow_up") closes and reopens the school's tickets on
site, each step carrying the visit's proof of presence; the tickets' own guard decides who may."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from inspect_app.accounts.models import Role
from inspect_app.extensions import db
from inspect_app.tickets.models import EventKind, Ticket, TicketEvent, TicketStatus
from tests.tickets.test_api import upload


def _follow_up(world, templates, results, submitted=True, school=None, mode="follow_up"):
    now = datetime.now(timezone.utc)
    return {"school_id": (school or world.a).id, "version_id": templates["onsite"].version_id, "mode": mode,
            "started_at": (now - timedelta(minutes=20)).isoformat(),
            "submitted_at": now.isoformat() if submitted else None, "qr_token": world.a.qr_token,
            "location": {"lat": 31.9011, "lon": 120.2811, "accuracy_m": 12}, "answers": [], "findings": [],
            "ticket_results": results}


def _state(app, ticket_id):
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        last = ticket.events[-1]
        return ticket.status, last.kind, last.visit_id, [p.photo_id for p in last.photos]


def test_a_follow_up_visit_closes_and_reopens_on_site_with_its_proof_of_presence(
        app, db, world, templates, make_visit, make_user, api_token):
    other = make_user(Role.INSPECTOR, assigned_school_ids=[world.a.id], username="inspector_other")
    done = make_visit(world.inspector, world.a, fail=("G1", "G2"))
    first, second = done.tickets
    client = app.test_client()
    headers = {"Authorization": api_token("inspector")["Authorization"]}
    from tests.conftest import PASSWORD
    token = client.post("/api/v1/auth/token", json={"username": "inspector_other", "password": PASSWORD}).get_json()
    theirs = {"Authorization": f"Bearer {token['token']}"}
    photo = upload(client, theirs)
    deadline = (datetime.now(timezone.utc) + timedelta(days=5)).isoformat()
    results = [{"ticket_id": first, "outcome": "close", "note": "现场核实已整改", "photo_ids": [photo]},
               {"ticket_id": second, "outcome": "reopen", "note": "未整改到位", "new_deadline": deadline}]
    visit_id = str(uuid.uuid4())
    sent = _follow_up(world, templates, results)
    answer = client.put(f"/api/v1/visits/{visit_id}", json=sent, headers=theirs)
    assert answer.status_code == 201, answer.get_json()
    assert _state(app, first) == (TicketStatus.CLOSED, EventKind.CLOSED, visit_id, [photo])
    assert _state(app, second)[:3] == (TicketStatus.REOPENED, EventKind.REOPENED, visit_id)
    # The replay (the outbox sends again) is the same submission: nothing is written twice.
    assert client.put(f"/api/v1/visits/{visit_id}", json=sent, headers=theirs).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketEvent)
                             .where(TicketEvent.visit_id == visit_id)) == 2
    record = client.get(f"/api/v1/tickets/{first}", headers=theirs).get_json()["record"]
    presence = record[-1]["presence"]
    assert presence["visit_id"] == visit_id and presence["qr_scanned"] is True
    assert presence["distance_m"] is not None and presence["accuracy_m"] == 12
    # The school sees the step, never the visit behind it.
    school_view = client.get(f"/api/v1/tickets/{first}", headers=api_token("officer")).get_json()
    assert "presence" not in school_view["record"][-1] and visit_id not in str(school_view)
    # The finder cannot close their own on a follow-up either (independent verification by default).
    assert headers  # the finder's token
    third = make_visit(world.inspector, world.a, fail=("G3",)).tickets[0]
    own_photo = upload(client, headers)
    refused = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=headers, json=_follow_up(
        world, templates, [{"ticket_id": third, "outcome": "close", "photo_ids": [own_photo]}]))
    assert refused.status_code == 403 and "ticket_results[0]" in refused.get_json()["error"]["message"]
    assert _state(app, third)[0] is TicketStatus.OPEN


def test_ticket_results_are_refused_outside_a_follow_up_or_for_another_school(
        app, world, templates, make_visit, make_user, api_token):
    make_user(Role.INSPECTOR, username="inspector_other")
    done = make_visit(world.inspector, world.a, fail=("G1",))
    client = app.test_client()
    from tests.conftest import PASSWORD
    token = client.post("/api/v1/auth/token", json={"username": "inspector_other", "password": PASSWORD}).get_json()
    theirs = {"Authorization": f"Bearer {token['token']}"}
    photo = upload(client, theirs)
    close = [{"ticket_id": done.tickets[0], "outcome": "close", "photo_ids": [photo]}]
    sent = _follow_up(world, templates, close, mode="overt")
    sent["answers"] = [{"code": c, "result": "pass", "note": ""} for c in templates["onsite"].codes]
    overt = client.put(f"/api/v1/visits/{uuid.uuid4()}", json=sent, headers=theirs)
    assert overt.status_code == 422 and "follow_up" in overt.get_json()["error"]["message"]
    elsewhere = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=theirs,
                           json=_follow_up(world, templates, close, school=world.b))
    assert elsewhere.status_code == 422 and "ticket_results[0]" in elsewhere.get_json()["error"]["message"]
    twice = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=theirs,
                       json=_follow_up(world, templates, close + close))
    assert twice.status_code == 422
    no_photo = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=theirs, json=_follow_up(
        world, templates, [{"ticket_id": done.tickets[0], "outcome": "close"}]))
    assert no_photo.status_code == 422
    bad = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=theirs, json=_follow_up(
        world, templates, [{"ticket_id": done.tickets[0], "outcome": "burn"}]))
    assert bad.status_code == 422
    # Volunteers and schools never make follow-ups.
    for who in ("volunteer", "officer"):
        assert client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token(who),
                          json=_follow_up(world, templates, [])).status_code == 403
    assert _state(app, done.tickets[0])[0] is TicketStatus.OPEN
    # A draft keeps its results for the submission: nothing is applied yet.
    draft_id = str(uuid.uuid4())
    assert client.put(f"/api/v1/visits/{draft_id}", headers=theirs,
                      json=_follow_up(world, templates, close, submitted=False)).status_code == 201
    assert _state(app, done.tickets[0])[0] is TicketStatus.OPEN
    assert client.put(f"/api/v1/visits/{draft_id}", headers=theirs,
                      json=_follow_up(world, templates, close)).status_code == 200
    assert _state(app, done.tickets[0])[0] is TicketStatus.CLOSED


def test_the_phone_warns_of_exactly_what_the_server_refuses_on_a_re_check(
        app, world, templates, make_visit, make_user, api_token, login_as):
    """The phone's table (tickets.follow_up.recheck_rule, sent with each ticket) against the server's
    answer: every verdict it marks blocked is refused, every other one is recorded."""
    import json
    import re

    from inspect_app.tickets.follow_up import recheck_rule
    make_user(Role.INSPECTOR, assigned_school_ids=[world.a.id], username="inspector_other")
    done = make_visit(world.inspector, world.a, fail=("G1", "G2", "G3", "G4"))
    client = app.test_client()
    from tests.conftest import PASSWORD
    token = client.post("/api/v1/auth/token", json={"username": "inspector_other", "password": PASSWORD}).get_json()
    theirs = {"Authorization": f"Bearer {token['token']}"}
    # What a follow-up's page gives the phone: each ticket with the table for its verifier.
    draft = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("leader"),
                       json=_follow_up(world, templates, [], submitted=False))
    assert draft.status_code == 201, draft.get_json()
    page = login_as("leader").get(f"/visits/{draft.get_json()['id']}").get_data(as_text=True)
    state = json.loads(re.search(r'id="visit-state">(.*?)</script>', page, re.S).group(1))
    assert {str(t["id"]): t["blocks"] for t in state["tickets"]} == {
        str(t): recheck_rule(False) for t in done.tickets}
    table = recheck_rule(False)
    later = (datetime.now(timezone.utc) + timedelta(days=5)).isoformat()
    past = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
    # (the key the phone looks up, the verdict as sent): a close-out's deadline bit is 0, as on the phone.
    cases = [("close|1|0|0", {"outcome": "close", "photo_ids": [upload(client, theirs)]}),
             ("close|0|0|0", {"outcome": "close"}),
             ("reopen|0|1|0", {"outcome": "reopen", "new_deadline": later}),
             ("reopen|0|0|0", {"outcome": "reopen", "new_deadline": past})]
    for ticket, (key, verdict) in zip(done.tickets, cases):
        answer = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=theirs,
                            json=_follow_up(world, templates, [{"ticket_id": ticket} | verdict]))
        assert answer.status_code == (422 if table.get(key) else 201), (key, answer.get_json())
    assert [k for _, (k, _v) in zip(done.tickets, cases) if table.get(k)] == ["close|0|0|0", "reopen|0|0|0"]
    assert recheck_rule(True)["close|1|0|0"] == ["needs_reason"] and "close|1|0|1" not in recheck_rule(True)


def test_a_follow_up_never_closes_or_re_dates_a_ticket_its_own_findings_open(app, db, world, templates, make_visit,
                                                                               api_token):
    """The tickets a follow-up's own failed items open are the school's to rectify first: naming one in
    the same visit's ticket_results (its id is the next one) is refused and nothing is written, even for
    a leader with a reason, who may otherwise re-date a ticket."""
    codes = templates["onsite"].codes
    make_visit(world.inspector, world.a, fail=(codes[1],))
    next_id = db.session.scalar(sa.select(sa.func.max(Ticket.id))) + 1
    later = (datetime.now(timezone.utc) + timedelta(days=300)).isoformat()
    sent = _follow_up(world, templates, [{"ticket_id": next_id, "outcome": "reopen", "note": "改期",
                                          "new_deadline": later, "override_reason": "现场协商"}])
    sent["answers"] = [{"code": codes[2], "result": "fail", "note": ""}]
    sent["findings"] = [{"id": str(uuid.uuid4()), "code": codes[2], "description": "新发现的问题", "severity": "critical",
                         "fixed_on_site": False, "location": None, "captured_at": datetime.now(timezone.utc).isoformat()}]
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", json=sent, headers=api_token("leader"))
    assert response.status_code == 422, response.get_json()
    assert "ticket_results[0]" in response.get_json()["error"]["message"]
    db.session.expire_all()
    assert db.session.get(Ticket, next_id) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 1
