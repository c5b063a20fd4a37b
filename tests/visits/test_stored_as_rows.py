"""A new visit from the phone is stored as rows, not through the unit of work (visits.services.store,
issue 18), and its first query also learns whether its author has an open task at the school and who
the school's duty officers are, so a submission asks neither again. These check what the unit of work
and those two queries used to guarantee: every column stored as sent, the chain recording the visit
and its findings whole as stored, the task done, the notices to exactly the school's active officers."""
import json
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from inspect_app.accounts.models import Role, User
from inspect_app.audit.models import AuditEntry
from inspect_app.audit.services import verify
from inspect_app.plans.models import Task, TaskStatus
from inspect_app.tickets.models import EventKind, Notification, Ticket
from inspect_app.visits.models import Finding, Visit, VisitStatus
from tests.tickets.test_opening import _as_recorded
from tests.visits.test_answer_audit import _whole_visit


@pytest.fixture
def put(app, api_token):
    def send(visit_id: str, body: dict, who: str = "inspector"):
        return app.test_client().put(f"/api/v1/visits/{visit_id}", json=body, headers=api_token(who))
    return send


def _recorded(db, object_type: str, object_id: str) -> list[tuple[str, dict]]:
    return [(e.action, json.loads(e.data)) for e in db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.object_type == object_type, AuditEntry.object_id == object_id))]


@pytest.mark.parametrize("submitted", [True, False])
def test_a_new_visit_and_its_findings_are_stored_as_sent_and_recorded_as_stored(db, put, world, templates,
                                                                                submitted):
    codes = templates["onsite"].codes
    fail = {codes[1]: str(uuid.uuid4()), codes[3]: str(uuid.uuid4())}
    body = _whole_visit(world, templates, fail, codes, submitted)
    # An added problem too (no item), with a place, and a correction of nothing: every kind of column.
    added = str(uuid.uuid4())
    body["findings"].append({"id": added, "code": None, "description": "楼道堆物 \"B\" \\ 🧯", "severity": "critical",
                             "fixed_on_site": False, "location": {"lat": 31.90123, "lon": 120.28111, "accuracy_m": 7.5},
                             "captured_at": datetime.now(timezone(timedelta(hours=8))).isoformat()})
    visit_id = str(uuid.uuid4())
    response = put(visit_id, body)
    assert response.status_code == 201, response.get_json()
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    assert visit.status is (VisitStatus.SUBMITTED if submitted else VisitStatus.IN_PROGRESS)
    assert (visit.school_id, visit.author_id, visit.lat, visit.accuracy_m) == (world.a.id, world.inspector.id, 31.9011, 15)
    assert visit.distance_m is not None and visit.server_started_at is not None and visit.body_hash
    assert (visit.server_submitted_at is not None) is submitted
    findings = {f.id: f for f in visit.findings}
    assert set(findings) == {*fail.values(), added}
    assert findings[added].description == "楼道堆物 \"B\" \\ 🧯" and findings[added].lat == 31.90123
    assert findings[added].position == 10_000 + 2 and findings[added].item_code is None
    assert _recorded(db, "visits", visit_id) == [("create", _as_recorded(visit))]
    for finding in findings.values():
        assert _recorded(db, "findings", finding.id) == [("create", _as_recorded(finding))]
    assert len(visit.answers) == len(codes)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(Ticket.visit_id == visit_id)) \
        == (3 if submitted else 0)
    assert verify().ok


def test_the_answer_and_a_replay_read_the_stored_visit(put, world, templates):
    codes = templates["onsite"].codes
    body = _whole_visit(world, templates, {codes[0]: str(uuid.uuid4())}, codes, True)
    visit_id = str(uuid.uuid4())
    first = put(visit_id, body)
    assert first.status_code == 201, first.get_json()
    replay = put(visit_id, body)
    assert replay.status_code == 200 and replay.get_json() == first.get_json()
    assert first.get_json()["status"] == "submitted" and len(first.get_json()["findings"]) == 1


def test_a_draft_stored_as_rows_is_replaced_through_the_session(db, put, world, templates):
    """The second PUT of a draft finds it stored and changes it the ordinary way."""
    codes = templates["onsite"].codes
    visit_id = str(uuid.uuid4())
    assert put(visit_id, _whole_visit(world, templates, {codes[0]: str(uuid.uuid4())}, codes[:4], False)).status_code == 201
    again = _whole_visit(world, templates, {codes[1]: str(uuid.uuid4())}, codes, True)
    assert put(visit_id, again).status_code == 200
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    assert visit.submitted and [f.item_code for f in visit.findings] == [codes[1]]
    assert verify().ok


def _task(db, assignee, school, first: date, last: date) -> Task:
    from inspect_app.plans.services import _day_bounds
    start, end = _day_bounds(first, last)
    task = Task(assignee_id=assignee.id, school_id=school.id, mode="overt", window_start=start, window_end=end)
    db.session.add(task)
    db.session.commit()
    return task


def test_a_whole_visit_put_does_the_authors_open_task_at_the_school(db, put, world, templates, make_user):
    today = date.today()
    codes = templates["onsite"].codes
    mine = _task(db, world.inspector, world.a, today - timedelta(days=1), today + timedelta(days=1))
    elsewhere = _task(db, world.inspector, world.b, today - timedelta(days=1), today + timedelta(days=1))
    later = _task(db, world.inspector, world.a, today + timedelta(days=3), today + timedelta(days=4))
    colleague = make_user(Role.INSPECTOR, assigned_school_ids=[world.a.id])
    theirs = _task(db, colleague, world.a, today - timedelta(days=1), today + timedelta(days=1))
    ids = [t.id for t in (mine, elsewhere, later, theirs)]
    # A draft does nothing; the submission does the one task whose window has opened.
    visit_id = str(uuid.uuid4())
    assert put(visit_id, _whole_visit(world, templates, {}, codes, False)).status_code == 201
    assert db.session.scalar(sa.select(Task.status).where(Task.id == mine.id)) is TaskStatus.OPEN
    assert put(visit_id, _whole_visit(world, templates, {}, codes, True)).status_code == 200
    db.session.expire_all()
    done = {t.id: (t.status, t.visit_id) for t in db.session.scalars(sa.select(Task).where(Task.id.in_(ids)))}
    assert done[mine.id] == (TaskStatus.DONE, visit_id)
    assert {done[t.id][0] for t in (elsewhere, later, theirs)} == {TaskStatus.OPEN}
    # A new visit, submitted in its first PUT, does the next one due.
    again = _task(db, world.inspector, world.a, today, today + timedelta(days=2))
    fresh = str(uuid.uuid4())
    assert put(fresh, _whole_visit(world, templates, {}, codes, True)).status_code == 201
    db.session.expire_all()
    assert (db.session.get(Task, again.id).status, db.session.get(Task, again.id).visit_id) == (TaskStatus.DONE, fresh)
    assert db.session.get(Task, later.id).status is TaskStatus.OPEN


def test_the_tickets_a_put_opens_are_told_to_the_schools_active_officers_only(db, put, world, templates, make_user):
    second = make_user(Role.DUTY_OFFICER, school_id=world.a.id)
    gone = make_user(Role.DUTY_OFFICER, school_id=world.a.id)
    db.session.get(User, gone.id).active = False
    db.session.commit()
    codes = templates["onsite"].codes
    fail = {codes[0]: str(uuid.uuid4()), codes[2]: str(uuid.uuid4())}
    response = put(str(uuid.uuid4()), _whole_visit(world, templates, fail, codes, True))
    assert response.status_code == 201, response.get_json()
    told = db.session.execute(sa.select(Notification.user_id, Notification.ticket_id)
                              .where(Notification.kind == EventKind.OPENED)).all()
    tickets = db.session.scalars(sa.select(Ticket.id)).all()
    assert sorted(told) == sorted((user, ticket) for user in (world.officer.id, second.id) for ticket in tickets)


def test_a_school_without_officers_opens_its_tickets_unannounced(db, put, world, templates):
    db.session.get(User, world.officer.id).active = False
    db.session.commit()
    codes = templates["onsite"].codes
    response = put(str(uuid.uuid4()), _whole_visit(world, templates, {codes[0]: str(uuid.uuid4())}, codes, True))
    assert response.status_code == 201, response.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


@pytest.mark.parametrize("minimal", [True, False])
def test_a_race_lost_after_the_visit_was_stored_is_tried_again(app, db, world, templates, api_token, monkeypatch,
                                                              minimal):
    """A lost race noticed at the commit, after store() attached the visit (the chain's append meeting
    a concurrent writer, a ticket changed meanwhile): the rollback takes the stored objects out of the
    session with their rows, so the second try stores the visit afresh and answers, not a 500."""
    import sqlalchemy.exc

    from inspect_app.audit import services as audit
    headers = api_token("inspector") | ({"Prefer": "return=minimal"} if minimal else {})
    real, calls = audit._append, []

    def lose_once(connection, rows):
        calls.append(len(rows))
        if len(calls) == 1:
            raise sqlalchemy.exc.IntegrityError("INSERT INTO audit_entries", None, Exception("lost the race"))
        return real(connection, rows)
    monkeypatch.setattr(audit, "_append", lose_once)
    codes = templates["onsite"].codes
    visit_id = str(uuid.uuid4())
    response = app.test_client().put(f"/api/v1/visits/{visit_id}", headers=headers,
                                     json=_whole_visit(world, templates, {codes[0]: str(uuid.uuid4())}, codes, True))
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    assert len(calls) == 2
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    assert visit.submitted and len(visit.answers) == len(codes) and len(visit.findings) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(Ticket.visit_id == visit_id)) == 1
    assert _recorded(db, "visits", visit_id) == [("create", _as_recorded(visit))]
    assert verify().ok


def _new_visit(world, templates) -> Visit:
    from inspect_app.checklists.models import Severity, VisitMode
    visit = Visit(id=str(uuid.uuid4()), school_id=world.a.id, version_id=templates["onsite"].version_id,
                  mode=VisitMode.OVERT, author_id=world.inspector.id, started_at=datetime.now(timezone.utc))
    visit.findings.append(Finding(id=str(uuid.uuid4()), item_code=None, position=1, description="楼道堆物",
                                  severity=Severity.MINOR))
    return visit


def test_what_store_attached_leaves_the_session_with_its_rows(db, world, templates):
    """Rolled back, whole or to a savepoint, the visit and its findings leave the session (their rows
    are gone); committed, and a savepoint released, they stay."""
    from inspect_app.visits.services import store
    session = db.session()
    visit = _new_visit(world, templates)
    [finding] = visit.findings
    visit_id = visit.id
    store(session, visit)
    assert visit in session and finding in session
    session.rollback()
    assert visit not in session and finding not in session
    assert db.session.get(Visit, visit_id) is None

    kept = _new_visit(world, templates)
    kept_finding = kept.findings[0]
    store(session, kept)
    savepoint = session.begin_nested()
    inner = _new_visit(world, templates)
    inner_finding = inner.findings[0]
    store(session, inner)
    savepoint.rollback()
    assert inner not in session and inner_finding not in session
    assert kept in session and kept_finding in session
    released = session.begin_nested()
    later = _new_visit(world, templates)
    later_finding = later.findings[0]
    store(session, later)
    released.commit()
    session.rollback()  # the whole transaction: what the released savepoint attached goes too
    assert later not in session and later_finding not in session
    assert kept not in session and kept_finding not in session

    stored = _new_visit(world, templates)
    stored_finding, stored_id = stored.findings[0], stored.id
    store(session, stored)
    session.commit()
    assert stored in session and stored_finding in session
    session.rollback()  # a new, empty transaction: nothing of the committed one leaves
    assert stored in session and stored_finding in session and db.session.get(Visit, stored_id) is stored
