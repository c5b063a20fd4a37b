"""A hand-over sheet still not signed for after one working day escalates like an overdue ticket: once,
from `flask tickets escalate`, to the school's duty officers (a reminder) and its responsible
inspectors, through the inbox; never to another school."""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from inspect_app.extensions import db

SHANGHAI = timezone(timedelta(hours=8))
FRIDAY_AFTERNOON = datetime(2026, 3, 6, 15, 0, tzinfo=SHANGHAI)


def _sheet(app, visit_id: str, issuer_id: int, issued_at: datetime) -> int:
    """The visit's sheet, issued at `issued_at` (the notice to sign for goes out as on the page)."""
    from inspect_app.accounts.models import User
    from inspect_app.tickets import handovers
    from inspect_app.visits.models import Visit
    with app.app_context():
        sheet = handovers.issue(db.session.get(Visit, visit_id), db.session.get(User, issuer_id), issued_at)
        sheet.issued_at = issued_at
        db.session.commit()
        return sheet.id


def _escalate(app, now: datetime) -> int:
    from inspect_app.tickets.handovers import escalate_unacknowledged
    with app.app_context():
        escalated = escalate_unacknowledged(now)
        db.session.commit()
        return escalated


def _late_notices(app) -> list[tuple[int, int]]:
    """(user, sheet) of every late-sheet notice."""
    from inspect_app.tickets.handovers import hand_over_of
    from inspect_app.tickets.models import EventKind, Notification
    with app.app_context():
        notes = db.session.scalars(sa.select(Notification).where(Notification.kind == EventKind.HAND_OVER_OVERDUE))
        return sorted((note.user_id, hand_over_of(note.ticket.visit_id).id) for note in notes)


def test_a_fridays_sheet_escalates_on_tuesday_once(app, db, world, make_visit, make_user, templates):
    from inspect_app.accounts.models import Role
    gone = make_user(Role.DUTY_OFFICER, school_id=world.a.id, active=False)
    visit = make_visit(world.inspector, world.a, fail=("G1", "G2"))
    sheet_id = _sheet(app, visit.id, world.inspector.id, FRIDAY_AFTERNOON)
    # The weekend and Monday are not a full working day after a Friday afternoon.
    for now in (datetime(2026, 3, 7, 10, tzinfo=SHANGHAI), datetime(2026, 3, 9, 23, 59, tzinfo=SHANGHAI)):
        assert _escalate(app, now) == 0
    assert _late_notices(app) == []
    # Tuesday 00:30: Monday has passed; an hourly cron escalates it once, however often it runs.
    tuesday = datetime(2026, 3, 10, 0, 30, tzinfo=SHANGHAI)
    assert _escalate(app, tuesday) == 1
    for hours in (1, 2, 48):
        assert _escalate(app, tuesday + timedelta(hours=hours)) == 0
    # The school's active duty officer and its responsible inspector: not the leader, the volunteer,
    # the disabled officer or the other school's officer.
    assert _late_notices(app) == sorted([(world.officer.id, sheet_id), (world.inspector.id, sheet_id)])
    assert gone.id not in {user for user, _ in _late_notices(app)}
    from inspect_app.tickets.models import HandOver
    assert db.session.get(HandOver, sheet_id).escalated_at == tuesday


def test_a_signed_sheet_does_not_escalate(app, world, login_as, make_visit, templates):
    visit = make_visit(world.inspector, world.a, fail=("G1",))
    sheet_id = _sheet(app, visit.id, world.inspector.id, FRIDAY_AFTERNOON)
    assert login_as("officer").form_post(f"/tickets/hand-overs/{sheet_id}/acknowledge").status_code == 302
    assert _escalate(app, datetime(2026, 3, 12, 9, tzinfo=SHANGHAI)) == 0
    assert _late_notices(app) == []


def test_a_school_is_never_told_of_another_schools_sheet(app, world, login_as, make_visit, make_user, templates):
    from inspect_app.accounts.models import Role
    inspector_b = make_user(Role.INSPECTOR, assigned_school_ids=[world.b.id])
    mine = _sheet(app, make_visit(world.inspector, world.a, fail=("G1",)).id, world.inspector.id, FRIDAY_AFTERNOON)
    theirs = _sheet(app, make_visit(inspector_b, world.b, fail=("G2",)).id, inspector_b.id, FRIDAY_AFTERNOON)
    assert _escalate(app, datetime(2026, 3, 10, 9, tzinfo=SHANGHAI)) == 2
    assert _late_notices(app) == sorted([(world.officer.id, mine), (world.inspector.id, mine),
                                         (world.officer_b.id, theirs), (inspector_b.id, theirs)])
    # What the inbox shows: the late sheet, linked, in Chinese; the other school's sheet nowhere.
    inbox = login_as("officer_b").get("/tickets/notifications").get_data(as_text=True)
    assert "交办单逾期未签收" in inbox and f"/tickets/hand-overs/{theirs}" in inbox
    assert f"/tickets/hand-overs/{mine}" not in inbox and "甲校" not in inbox
    inbox = login_as("inspector").get("/tickets/notifications").get_data(as_text=True)
    assert "交办单逾期未签收" in inbox and f"/tickets/hand-overs/{mine}" in inbox
    assert f"/tickets/hand-overs/{theirs}" not in inbox


def test_signing_reads_the_reminder(app, db, world, login_as, make_visit, templates):
    from inspect_app.tickets.models import EventKind, Notification
    sheet_id = _sheet(app, make_visit(world.inspector, world.a, fail=("G1",)).id, world.inspector.id,
                      FRIDAY_AFTERNOON)
    assert _escalate(app, datetime(2026, 3, 10, 9, tzinfo=SHANGHAI)) == 1
    assert login_as("officer").form_post(f"/tickets/hand-overs/{sheet_id}/acknowledge").status_code == 302
    unread = {(note.user_id, note.kind) for note in db.session.scalars(
        sa.select(Notification).where(Notification.read_at.is_(None)))}
    assert (world.officer.id, EventKind.HAND_OVER_OVERDUE) not in unread
    assert (world.inspector.id, EventKind.HAND_OVER_OVERDUE) in unread  # the bureau's copy is its own to read


def test_the_cron_command_escalates_sheets_too(app, world, make_visit, templates):
    old = datetime.now(timezone.utc) - timedelta(days=10)  # well past a working day, whatever today is
    _sheet(app, make_visit(world.inspector, world.a, fail=("G1",)).id, world.inspector.id, old)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["tickets", "escalate"])
    assert first.exit_code == 0 and "1 hand-over sheets escalated" in first.output, first.output
    again = runner.invoke(args=["tickets", "escalate"])
    assert again.exit_code == 0 and "0 hand-over sheets escalated" in again.output
    assert len(_late_notices(app)) == 2
