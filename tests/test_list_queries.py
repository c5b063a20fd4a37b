"""Every list loads what it shows in a constant number of SQL statements (issue 18): the same count for
5 items as for 500. A lazy load per row (one query per ticket, per plan, per notification) makes a
list's cost grow with the data, and with several workers every other request queues behind it.

The rows are made with core inserts (hundreds in milliseconds, not through the services one by one);
each test measures the same request at 5 items and again after the rest are added.
"""
from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from inspect_app.accounts.models import Role, User
from inspect_app.checklists.models import Severity, VisitMode
from inspect_app.complaints.models import Complaint, ComplaintReply, ComplaintStatus
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.plans.models import Plan, Task, TaskStatus, Weighting
from inspect_app.tickets.models import EventKind, HandOver, Notification, Ticket, TicketStatus
from inspect_app.visits.models import Finding, Visit, VisitStatus
from tests.conftest import counted

SMALL, LARGE = 5, 500
_serial = itertools.count(1)


def statements_for(client, url: str, headers=None) -> list[str]:
    client.get(url, headers=headers)  # a first request warms what is cached per process, not per list
    with counted() as statements:
        response = client.get(url, headers=headers)
        response.get_data()  # a streamed export reads its rows while it is sent
    assert response.status_code == 200, (url, response.status_code)
    return statements


def same_count(app, client, url: str, grow, headers=None) -> None:
    """`grow(n)` adds n items to the list; the request costs as many statements at SMALL as at LARGE."""
    with app.app_context():
        grow(SMALL)
    small = statements_for(client, url, headers)
    with app.app_context():
        grow(LARGE - SMALL)
    large = statements_for(client, url, headers)
    assert len(small) == len(large), (
        f"{url}: {len(small)} statements for {SMALL} items, {len(large)} for {LARGE}; repeated:\n"
        + "\n".join(sorted({s for s in large if large.count(s) > small.count(s)}))[:3000])


def test_counted_sees_a_lazy_load_per_row(db, world, templates):
    """The counter itself: loading each ticket's finding lazily costs one statement per ticket."""
    add_tickets(world, templates, 3)
    db.session.expunge_all()
    with counted() as statements:
        for ticket in db.session.scalars(sa.select(Ticket)).all():
            assert ticket.finding.description
    assert sum("FROM findings" in s for s in statements) == 3


def insert(model, rows: list[dict]) -> None:
    if rows:
        db.session.execute(sa.insert(model), rows)


def add_visits(author_id: int, school_id: int, version_id: int, n: int, submitted=True) -> list[str]:
    now = utcnow()
    ids = [str(uuid.uuid4()) for _ in range(n)]
    insert(Visit, [dict(id=i, school_id=school_id, version_id=version_id, mode=VisitMode.OVERT, author_id=author_id,
                        status=VisitStatus.SUBMITTED if submitted else VisitStatus.IN_PROGRESS,
                        started_at=now - timedelta(hours=1), submitted_at=now if submitted else None,
                        server_submitted_at=now if submitted else None) for i in ids])
    return ids


def add_tickets(world, templates, n: int, status=TicketStatus.OPEN) -> list[int]:
    """n tickets, each from a finding of its own visit, alternating between the two schools."""
    now = utcnow()
    version_id = templates["onsite"].version_id
    rows = []
    for k in range(n):
        school_id = (world.a.id, world.b.id)[k % 2]
        visit_id = add_visits(world.inspector.id, school_id, version_id, 1)[0]
        finding_id = str(uuid.uuid4())
        insert(Finding, [dict(id=finding_id, visit_id=visit_id, item_code=None, description=f"问题{next(_serial)}",
                              severity=Severity.MINOR)])
        rows.append(dict(finding_id=finding_id, visit_id=visit_id, school_id=school_id, status=status,
                         severity=Severity.MINOR, deadline=now + timedelta(days=3)))
    db.session.execute(sa.insert(Ticket), rows)
    ids = list(db.session.scalars(sa.select(Ticket.id).order_by(Ticket.id.desc()).limit(n)))
    db.session.commit()
    return ids


# ---- tickets ------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["leader", "officer"])
def test_ticket_list_page(app, world, templates, login_as, who):
    same_count(app, login_as(who), "/tickets/", lambda n: add_tickets(world, templates, n))


@pytest.mark.parametrize("who", ["leader", "officer"])
def test_ticket_list_api(app, world, templates, api_token, who):
    same_count(app, app.test_client(), "/api/v1/tickets", lambda n: add_tickets(world, templates, n),
               headers=api_token(who))


def test_follow_up_queue(app, world, templates, login_as):
    same_count(app, login_as("inspector"), "/tickets/follow-up",
               lambda n: add_tickets(world, templates, n, status=TicketStatus.RESPONDED))


def test_notifications(app, world, templates, login_as):
    """The inbox mixes a ticket's news, a hand-over sheet to sign for and a school's day."""
    def grow(n):
        ids = add_tickets(world, templates, n)
        visits = dict(db.session.execute(sa.select(Ticket.id, Ticket.visit_id).where(Ticket.id.in_(ids))).all())
        kinds = [EventKind.OPENED, EventKind.HAND_OVER, None]
        rows = []
        for k, ticket_id in enumerate(ids):
            kind = kinds[k % 3]
            if kind is EventKind.HAND_OVER:
                insert(HandOver, [dict(visit_id=visits[ticket_id], school_id=world.a.id,
                                       number=f"2026-{next(_serial)}", issued_by_id=world.leader.id)])
            rows.append(dict(user_id=world.officer.id, ticket_id=ticket_id, kind=kind) if kind else
                        dict(user_id=world.officer.id, ticket_id=None, kind=EventKind.REPORT_MISSING,
                             school_id=world.a.id, day=date(2020, 1, 1) + timedelta(days=next(_serial))))
        insert(Notification, rows)
        db.session.commit()
    same_count(app, login_as("officer"), "/tickets/notifications", grow)


# ---- visits -------------------------------------------------------------------------------------

def test_my_visits(app, world, templates, login_as):
    def grow(n):
        add_visits(world.inspector.id, world.a.id, templates["onsite"].version_id, n, submitted=False)
        db.session.commit()
    same_count(app, login_as("inspector"), "/visits/", grow)


# ---- complaints ---------------------------------------------------------------------------------

def add_complaints(world, n: int) -> None:
    """n complaints, each with a public reply by the leader (the API's entry names its author)."""
    insert(Complaint, [dict(school_id=(world.a.id, world.b.id)[k % 2], text=f"食堂第{next(_serial)}号窗口不洗手",
                            code_hash=uuid.uuid4().hex, status=ComplaintStatus.RECEIVED,
                            received_at=utcnow() - timedelta(days=k % 10)) for k in range(n)])
    ids = db.session.scalars(sa.select(Complaint.id).order_by(Complaint.id.desc()).limit(n))
    insert(ComplaintReply, [dict(complaint_id=i, text="已收到", author_id=world.leader.id) for i in ids])
    db.session.commit()


def test_complaint_queue_page(app, world, login_as):
    same_count(app, login_as("leader"), "/complaints/", lambda n: add_complaints(world, n))


def test_complaint_queue_api(app, world, api_token):
    same_count(app, app.test_client(), "/api/v1/complaints", lambda n: add_complaints(world, n),
               headers=api_token("leader"))


# ---- exports ------------------------------------------------------------------------------------

@pytest.mark.parametrize("table", ["tickets", "visits", "findings"])
def test_exports(app, world, templates, login_as, table):
    def grow(n):
        add_tickets(world, templates, n)
    same_count(app, login_as("leader"), f"/reports/exports/{table}.csv", grow)


# ---- plans and tasks ----------------------------------------------------------------------------

def add_plans(world, n: int) -> None:
    """n plans of two tasks each (one for the inspector, one for the volunteer)."""
    today = utcnow()
    for _ in range(n):
        plan_id = db.session.execute(sa.insert(Plan).values(
            date_from=today.date(), date_to=today.date() + timedelta(days=7), count=2, weighting=Weighting.UNIFORM,
            modes_text="overt", seed=uuid.uuid4().hex, created_by_id=world.leader.id)).inserted_primary_key[0]
        insert(Task, [dict(plan_id=plan_id, assignee_id=assignee, school_id=world.a.id, mode=VisitMode.OVERT,
                           window_start=today - timedelta(days=1), window_end=today + timedelta(days=1),
                           status=TaskStatus.OPEN, created_by_id=world.leader.id)
                      for assignee in (world.inspector.id, world.volunteer.id)])
    db.session.commit()


def test_plans(app, world, login_as):
    same_count(app, login_as("leader"), "/plans", lambda n: add_plans(world, n))


@pytest.mark.parametrize("who", ["inspector", "volunteer"])
def test_own_tasks_api(app, world, api_token, who):
    same_count(app, app.test_client(), "/api/v1/tasks", lambda n: add_plans(world, n), headers=api_token(who))


def test_volunteer_tasks_page(app, world, login_as):
    same_count(app, login_as("admin"), f"/programme/{world.volunteer.id}", lambda n: add_plans(world, n))


# ---- volunteers ---------------------------------------------------------------------------------

def test_roster(app, world, templates, login_as):
    def grow(n):
        users = []
        for _ in range(n):
            k = next(_serial)
            users.append(dict(username=f"vol{k}", display_name=f"vol {k}", pseudonym=f"志愿者X{k}",
                              role=Role.VOLUNTEER, password_hash="x"))
        insert(User, users)
        db.session.commit()
        ids = list(db.session.scalars(sa.select(User.id).order_by(User.id.desc()).limit(n)))
        add_visits(ids[0], world.a.id, templates["onsite"].version_id, 1)
        db.session.commit()
    same_count(app, login_as("admin"), "/programme/", grow)


# ---- the API's pages ----------------------------------------------------------------------------

def walk(client, url: str, key: str, headers) -> tuple[list[dict], list[int]]:
    """Follow `next` from the first page to the last: every row, and each page's size."""
    rows, sizes = [], []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        rows += body[key]
        sizes.append(len(body[key]))
        assert (response.headers.get("Link") is None) == (body["next"] is None)
        assert (body["next"] is None) == (body["next_cursor"] is None)
        url = body["next"]
    return rows, sizes


@pytest.mark.parametrize("url, key, grow, who", [
    ("/api/v1/tickets", "tickets", lambda world, templates, n: add_tickets(world, templates, n), "leader"),
    ("/api/v1/tickets?status=open", "tickets", lambda world, templates, n: add_tickets(world, templates, n), "officer"),
    ("/api/v1/complaints", "complaints", lambda world, templates, n: add_complaints(world, n), "leader"),
    ("/api/v1/tasks", "tasks", lambda world, templates, n: add_plans(world, n), "inspector"),
])
def test_pages_give_every_row_once_in_the_unpaged_order(app, db, world, templates, api_token, url, key, grow, who):
    headers = api_token(who)
    client = app.test_client()
    grow(world, templates, 23)
    whole = client.get(url, headers=headers).get_json()
    assert whole["next"] is None and whole["next_cursor"] is None  # no limit asked: all of them, as before
    joiner = "&" if "?" in url else "?"
    rows, sizes = walk(client, f"{url}{joiner}limit=5", key, headers)
    paged, unpaged = [row["id"] for row in rows], [row["id"] for row in whole[key]]
    assert len(paged) == len(set(paged)) >= 11
    if key == "complaints":  # likely duplicates are put together, and found among one page's
        assert set(paged) == set(unpaged)
    else:
        assert paged == unpaged
    assert sizes[:-1] == [5] * (len(sizes) - 1) and 0 < sizes[-1] <= 5


def test_a_page_is_at_most_the_maximum(app, world, api_token):
    from inspect_app.api.schemas import MAX_PAGE
    client = app.test_client()
    assert client.get(f"/api/v1/tickets?limit={MAX_PAGE + 1}", headers=api_token("leader")).status_code == 400
    assert client.get("/api/v1/tickets?limit=0", headers=api_token("leader")).status_code == 400


@pytest.mark.parametrize("cursor", ["x", "!!!", "W10", "eyJ0IjoxfQ", "WyJhIiwiYiJd", "WzEsMl0", "W3sidCI6ImEifSwxXQ", "WzEsMl0" * 40])
def test_a_cursor_not_given_out_is_refused_not_a_500(app, world, api_token, cursor):
    response = app.test_client().get(f"/api/v1/tickets?cursor={cursor}", headers=api_token("leader"))
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


def test_a_cursor_shows_a_school_only_its_own_tickets(app, db, world, templates, api_token):
    """The cursor says where to resume, never what may be seen: the officer's pages stay school A's."""
    add_tickets(world, templates, 12)
    client = app.test_client()
    leaders = client.get("/api/v1/tickets?limit=3", headers=api_token("leader")).get_json()
    rows, _sizes = walk(client, f"/api/v1/tickets?limit=3&cursor={leaders['next_cursor']}", "tickets",
                        api_token("officer"))
    assert rows and {row["school_id"] for row in rows} == {world.a.id}
