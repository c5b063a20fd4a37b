"""Opening a ticket (开单), the one way it is done (tickets.services.open_all): for a submitted visit's
findings and for a complaint handed to the school alike, a ticket starts open at level 0, version 1,
with one first event (OPENED, by whoever opened it, carrying what the school is to fix); the audit chain
records the ticket and that event whole, as stored; the school's duty officers are told, in the inbox
and through the outbox. The rows are written without the ORM's unit of work (issue 18), so these
check what the objects used to guarantee."""
import enum
import json
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.audit.services import REDACTED, verify
from inspect_app.complaints.models import Complaint
from inspect_app.tickets.models import EventKind, Notification, Ticket, TicketEvent, TicketStatus


def _as_recorded(obj) -> dict:
    """A row as the chain records it: every column, enums by value, times in UTC ISO 8601, secrets'
    hashes as "(changed)"."""
    def value(v):
        if isinstance(v, enum.Enum):
            return v.value
        if isinstance(v, datetime):
            return v.astimezone(timezone.utc).isoformat()
        return v
    return {column.key: "(changed)" if column.key in REDACTED else value(getattr(obj, column.key))
            for column in sa.inspect(type(obj)).column_attrs}


def _created(db, object_type: str, object_id) -> list[dict]:
    return [json.loads(e.data) for e in db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id), AuditEntry.action == "create"))]


def _opened_as_one(db, ticket: Ticket, actor_id: int, text: str) -> None:
    """What every opening leaves: the ticket's starting state, one OPENED event, both in the chain."""
    assert (ticket.status, ticket.escalation_level, ticket.version, ticket.closed_at) == (TicketStatus.OPEN, 0, 1, None)
    [event] = ticket.events
    assert (event.kind, event.actor_id, event.text, event.visit_id, event.self_verified, event.desk_review) \
        == (EventKind.OPENED, actor_id, text, None, False, False)
    assert abs((event.at - ticket.opened_at).total_seconds()) < 5
    assert _created(db, "tickets", ticket.id) == [_as_recorded(ticket)]
    assert _created(db, "ticket_events", event.id) == [_as_recorded(event)]


def test_a_visits_findings_open_their_tickets_as_one_opening_each(app, db, world, templates, make_visit):
    codes = templates["onsite"].codes
    done = make_visit(world.inspector, world.a, fail=(codes[1], codes[4]))
    tickets = db.session.scalars(sa.select(Ticket).order_by(Ticket.id)).all()
    assert [t.id for t in tickets] == sorted(done.tickets) and len(tickets) == 2
    for ticket in tickets:
        assert ticket.visit_id == done.id and ticket.finding.visit_id == done.id and ticket.school_id == world.a.id
        assert ticket.problem_text is None and ticket.severity is ticket.finding.severity
        _opened_as_one(db, ticket, world.inspector.id, ticket.finding.description)
    noticed = db.session.scalars(sa.select(Notification.ticket_id).where(
        Notification.user_id == world.officer.id, Notification.kind == EventKind.OPENED)).all()
    assert sorted(noticed) == [t.id for t in tickets]
    # Nobody at the other school hears of them.
    assert not db.session.scalars(sa.select(Notification).where(Notification.user_id == world.officer_b.id)).all()
    assert verify().ok


def test_a_finding_fixed_on_the_spot_opens_nothing(app, db, world, templates, api_token):
    from tests.visits.test_answer_audit import _whole_visit
    codes = templates["onsite"].codes
    body = _whole_visit(world, templates, {codes[0]: str(uuid.uuid4())}, codes, True)
    body["findings"][0]["fixed_on_site"] = True
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", json=body, headers=api_token("inspector"))
    assert response.status_code == 201, response.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0
    assert verify().ok


def test_a_complaint_handed_to_the_school_opens_its_ticket_the_same_way(app, db, world, api_token):
    public = app.test_client()
    assert public.post("/api/v1/complaints", json={"school_id": world.a.id, "text": "食堂后门的消毒柜一直没开",
                                                   "idempotency_key": str(uuid.uuid4())}).status_code == 201
    complaint_id = db.session.scalar(sa.select(Complaint.id))
    assert public.post(f"/api/v1/complaints/{complaint_id}/triage", headers=api_token("leader"), json={
        "action": "ticket", "problem": "餐具堆放在室外", "severity": "critical"}).status_code == 200
    db.session.expire_all()
    ticket = db.session.scalar(sa.select(Ticket))
    assert db.session.get(Complaint, complaint_id).ticket_id == ticket.id
    assert (ticket.finding_id, ticket.visit_id, ticket.problem_text, ticket.school_id) \
        == (None, None, "餐具堆放在室外", world.a.id)
    _opened_as_one(db, ticket, world.leader.id, "餐具堆放在室外")
    assert db.session.scalars(sa.select(Notification.user_id).where(Notification.ticket_id == ticket.id)).all() \
        == [world.officer.id]
    assert verify().ok


def test_an_opened_tickets_event_belongs_to_it_alone(app, db, world, templates, make_visit):
    """Two visits' openings in a row: each ticket has its own OPENED event, none shared or lost."""
    codes = templates["onsite"].codes
    make_visit(world.inspector, world.a, fail=(codes[1],))
    make_visit(world.inspector, world.b, fail=(codes[2], codes[3]))
    events = db.session.execute(sa.select(TicketEvent.ticket_id, sa.func.count()).group_by(TicketEvent.ticket_id)).all()
    assert sorted(n for _, n in events) == [1, 1, 1]
    assert {t for t, _ in events} == set(db.session.scalars(sa.select(Ticket.id)))
