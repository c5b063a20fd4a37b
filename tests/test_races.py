"""Many phones (or one phone's outbox retrying) sending the same idempotent write at the same moment:
the API's PUTs, and the checklist page's saved taps and its submit button.

Real threads, each request with its own application context and database session, released together
by a barrier. An in-memory SQLite database is private to one connection, so on SQLite this module
runs the app on a database file; on PostgreSQL it uses the run's database.
"""
import io
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.photos.models import Photo
from inspect_app.tickets.models import TicketEvent
from inspect_app.visits.models import Visit
from tests.conftest import PASSWORD, at_once, jpeg_bytes, threaded_app

# Threads with their own connections must see each other's commits.
pytestmark = pytest.mark.real_commits

RACERS = 20
ROUNDS = 3  # a race is a matter of luck: run it a few times


@pytest.fixture(scope="module")
def app(app, tmp_path_factory):
    yield from threaded_app(app, tmp_path_factory, "races")


def race(app, send) -> list:
    """Run send(client, n) for n in range(RACERS) at once; the status of each, or the exception's text."""
    # In testing an unhandled error surfaces in the thread: a 500.
    return at_once(RACERS, lambda n: send(app.test_client(), n).status_code,
                   lambda error: f"500 {type(error).__name__}: {str(error).splitlines()[0][:100]}")


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def visit_body(world, templates, note=""):
    now = datetime.now(timezone.utc)
    return {"school_id": world.a.id, "version_id": templates["onsite"].version_id, "mode": "overt",
            "started_at": (now - timedelta(minutes=30)).isoformat(), "submitted_at": now.isoformat(),
            "location": {"lat": 31.9011, "lon": 120.2811, "accuracy_m": 15},
            "answers": [{"code": c, "result": "fail" if c == "G2" else "pass", "note": note}
                        for c in templates["onsite"].codes],
            "findings": [{"id": str(uuid.uuid4()), "code": "G2", "description": "门卫不在岗", "severity": "major"}]}


def test_identical_visit_puts_at_once_are_one_201_and_replays(app, api_token, world, templates):
    headers = api_token("inspector")
    for _ in range(ROUNDS):
        visit_id, sent = str(uuid.uuid4()), visit_body(world, templates)
        outcomes = race(app, lambda client, n: client.put(f"/api/v1/visits/{visit_id}", json=sent, headers=headers))
        assert sorted(outcomes, key=str) == [200] * (RACERS - 1) + [201], outcomes
        assert count(app, Visit, Visit.id == visit_id) == 1


def test_different_visit_puts_at_once_are_one_201_and_conflicts(app, api_token, world, templates):
    headers = api_token("inspector")
    for _ in range(ROUNDS):
        visit_id = str(uuid.uuid4())
        bodies = [visit_body(world, templates, note=f"第{n}份") for n in range(RACERS)]
        outcomes = race(app, lambda client, n: client.put(f"/api/v1/visits/{visit_id}", json=bodies[n],
                                                          headers=headers))
        assert sorted(outcomes, key=str) == [201] + [409] * (RACERS - 1), outcomes


def test_identical_photo_puts_at_once_are_one_201_and_replays(app, api_token, world):
    # Photos answered races cleanly before the shared helper; this keeps them so after moving onto it.
    headers = api_token("inspector")
    content = jpeg_bytes()
    for _ in range(ROUNDS):
        photo_id = str(uuid.uuid4())

        def send(client, n):
            return client.put(f"/api/v1/photos/{photo_id}", headers=headers, content_type="multipart/form-data",
                              data={"file": (io.BytesIO(content), "a.jpg"), "captured_at": "2026-03-10T10:00:00+08:00"})
        outcomes = race(app, send)
        assert sorted(outcomes, key=str) == [200] * (RACERS - 1) + [201], outcomes
        assert count(app, Photo, Photo.id == photo_id) == 1


def _responses(app, api_token, world, make_visit, bodies):
    """The school's response to one ticket, `bodies[n]` under one client id, all at once."""
    headers = api_token("officer")
    ticket_id = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    client_id = str(uuid.uuid4())
    outcomes = race(app, lambda client, n: client.put(f"/api/v1/tickets/{ticket_id}/responses/{client_id}",
                                                      json=bodies[n], headers=headers))
    assert count(app, TicketEvent, TicketEvent.ticket_id == ticket_id, TicketEvent.client_id == client_id) == 1
    return outcomes


def test_identical_ticket_responses_at_once_are_one_201_and_replays(app, api_token, world, templates, make_visit):
    for _ in range(ROUNDS):
        outcomes = _responses(app, api_token, world, make_visit, [{"text": "已整改", "photo_ids": []}] * RACERS)
        assert sorted(outcomes, key=str) == [200] * (RACERS - 1) + [201], outcomes


def test_different_ticket_responses_at_once_are_one_201_and_conflicts(app, api_token, world, templates,
                                                                      make_visit):
    # These were 409s before too (the ticket's version counter); now through the same retry as the rest.
    for _ in range(ROUNDS):
        bodies = [{"text": f"已整改，第{n}次", "photo_ids": []} for n in range(RACERS)]
        outcomes = _responses(app, api_token, world, make_visit, bodies)
        assert sorted(outcomes, key=str) == [201] + [409] * (RACERS - 1), outcomes


def test_identical_verifications_at_once_are_one_201_and_replays(app, api_token, world, templates, make_visit,
                                                                make_user):
    # Another inspector re-checks: the finder never closes their own finding (independent verification).
    other = make_user("inspector")
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": other.username, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    photo_id = str(uuid.uuid4())
    assert client.put(f"/api/v1/photos/{photo_id}", headers=headers, content_type="multipart/form-data",
                      data={"file": (io.BytesIO(jpeg_bytes()), "a.jpg")}).status_code == 201
    for _ in range(ROUNDS):
        # A document: closed from the desk.
        ticket_id = make_visit(world.inspector, world.a, template="plans27", fail=("D01",)).tickets[0]
        client_id = str(uuid.uuid4())
        sent = {"outcome": "close", "note": "复查合格", "photo_ids": [photo_id]}
        outcomes = race(app, lambda c, n: c.put(f"/api/v1/tickets/{ticket_id}/verifications/{client_id}",
                                                json=sent, headers=headers))
        assert sorted(outcomes, key=str) == [200] * (RACERS - 1) + [201], outcomes


# The checklist page saves every tap at once and the phone's outbox replays taps it is unsure of: the
# same answer can arrive twice at the same moment, and so can a double-tapped "submit".

def _signed_in_clients(app, login_as, who):
    """RACERS test clients sharing one signed-in browser session (cookie and CSRF token)."""
    browser = login_as(who)
    token = browser.csrf()
    cookie = browser.client.get_cookie("session")
    clients = []
    for _ in range(RACERS):
        client = app.test_client()
        client.set_cookie(cookie.key, cookie.value, domain=cookie.domain or "localhost")
        clients.append(client)
    return clients, token


def test_the_same_tap_saved_twice_at_once_is_one_answer(app, login_as, world, templates, make_visit):
    from inspect_app.visits.models import Answer, Finding
    for _ in range(ROUNDS):
        visit_id = make_visit(world.inspector, world.a, submit=False, answer_all=False).id
        clients, token = _signed_in_clients(app, login_as, "inspector")
        outcomes = race(app, lambda _client, n: clients[n].post(
            f"/visits/{visit_id}/items/G2", data={"csrf_token": token, "result": "fail", "note": ""}))
        assert outcomes == [302] * RACERS, outcomes
        assert count(app, Answer, Answer.visit_id == visit_id) == 1
        assert count(app, Finding, Finding.visit_id == visit_id) == 1


def test_submit_tapped_twice_at_once_submits_once(app, login_as, world, templates, make_visit):
    from inspect_app.tickets.models import Ticket
    for _ in range(ROUNDS):
        visit_id = make_visit(world.inspector, world.a, submit=False, fail=("G2",)).id
        clients, token = _signed_in_clients(app, login_as, "inspector")
        outcomes = race(app, lambda _client, n: clients[n].post(f"/visits/{visit_id}/submit",
                                                                data={"csrf_token": token}))
        assert sorted(outcomes, key=str) == [302] + [409] * (RACERS - 1), outcomes
        assert count(app, Ticket, Ticket.visit_id == visit_id) == 1
