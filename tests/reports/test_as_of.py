"""Every figure of a day's report is as it stood at that day's 16:00 cut-off, whenever it is read or
signed: for each figure, one event just inside the window and one just after it."""
import io
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from inspect_app.accounts.models import User
from inspect_app.extensions import db
from inspect_app.photos.models import Photo
from inspect_app.reports import services
from inspect_app.schools.models import School
from inspect_app.tickets.models import EventKind, Ticket, TicketEvent, TicketStatus
from inspect_app.visits.models import Visit

UTC = timezone.utc
DAY = date(2026, 3, 10)
END = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # 16:00 Shanghai
BEFORE, AFTER = END - timedelta(hours=1), END + timedelta(hours=1)
EARLIER = END - timedelta(days=2)


def _visit_at(visit_id, moment):
    visit = db.session.get(Visit, visit_id)
    visit.server_submitted_at = visit.submitted_at = moment
    for ticket in db.session.scalars(sa.select(Ticket).where(Ticket.visit_id == visit_id)):
        ticket.opened_at = moment
        for event in ticket.events:
            event.at = moment


def _step(ticket, moment, **kwargs):
    """The ticket's last step happened at `moment`."""
    ticket.events[-1].at = moment
    for name, value in kwargs.items():
        setattr(ticket, name, value)


def test_every_figure_is_as_of_the_cutoff(app, world, templates, make_visit, make_school):
    earlier = make_visit(world.inspector, world.a, fail=("G2", "G3", "G4", "G5"), photo=False)
    inside = make_visit(world.inspector, world.a, fail=("G2",))
    after = make_visit(world.inspector, world.b, fail=("G3",), photo=False)
    self_check_after = make_visit(world.officer, world.a, template="selfcheck", mode="self_check", fail=())
    # The re-check that closes two of them out: a follow-up visit at the school (回头看), the next day.
    follow_up = make_visit(world.inspector, world.a, mode="follow_up", fail=())
    late_school = make_school(name="丁校")
    with app.test_request_context("/"):
        _visit_at(earlier.id, EARLIER)
        _visit_at(inside.id, BEFORE)
        _visit_at(after.id, AFTER)
        _visit_at(self_check_after.id, AFTER)
        _visit_at(follow_up.id, END + timedelta(days=1))
        on_site = db.session.get(Visit, follow_up.id)
        for school in (world.a, world.b):
            db.session.get(School, school.id).created_at = EARLIER - timedelta(days=30)
        db.session.get(School, late_school.id).created_at = AFTER
        photo = db.session.get(Photo, inside.photos[0])
        photo.created_at = AFTER  # reached us after the cut-off
        officer, inspector = db.session.get(User, world.officer.id), db.session.get(User, world.inspector.id)
        overdue_then, responded_before, closed_after, closed_before = (
            db.session.get(Ticket, t) for t in earlier.tickets)
        # Overdue at 16:00, answered by the school at 17:00: 逾期 in this report, whatever it is now.
        # 07:00 in Shanghai on the report's day, still the 9th in UTC: the day a document shows is the bureau's.
        overdue_then.deadline = END - timedelta(hours=9)
        db.session.add(TicketEvent(ticket=overdue_then, kind=EventKind.REMINDER, at=BEFORE))
        db.session.add(TicketEvent(ticket=overdue_then, kind=EventKind.HEAD_NOTIFIED, at=AFTER))
        overdue_then.escalation_level = 2
        overdue_then.respond(officer, "整改完毕")
        _step(overdue_then, AFTER)
        # Answered before its deadline ran out and before 16:00: open, not overdue.
        responded_before.deadline = END - timedelta(hours=2)
        responded_before.respond(officer, "已整改")
        _step(responded_before, BEFORE - timedelta(hours=3))
        closed_after.deadline = END + timedelta(days=5)
        closed_after.verify(inspector, True, "", None, require_independent=False, visit=on_site)
        _step(closed_after, AFTER, closed_at=AFTER)
        closed_before.deadline = END + timedelta(days=5)
        closed_before.verify(inspector, True, "", None, require_independent=False, visit=on_site)
        _step(closed_before, BEFORE, closed_at=BEFORE)
        # Due before tomorrow's cut-off: the one opened inside the window, not the one opened after it.
        for visit in (inside, after):
            db.session.get(Ticket, visit.tickets[0]).deadline = END + timedelta(hours=3)
        db.session.commit()

        assert db.session.get(Ticket, overdue_then.id).status is TicketStatus.RESPONDED  # now, not then
        report = services.assemble(DAY)
        o, r = report["overview"], report["rectification"]
        assert (o["visits"], o["overt"], o["self_checks"], o["findings"]) == (1, 1, 0, 1)
        assert [s["school"] for s in report["visited"]] == ["甲校"] and o["schools_visited"] == 1
        assert report["problems_by_school"][0]["problems"][0]["photos"] == []
        assert r == {"opened": 1, "closed": 1, "open_total": 4, "overdue": 1, "due": 1}
        assert [t["ticket_id"] for t in report["overdue"]] == [overdue_then.id]
        assert report["overdue"][0]["escalation"] == 1  # the reminder, not the head's notice at 17:00
        # The spreadsheet's overdue sheet: the deadline is a date cell, the day the report shows.
        from openpyxl import load_workbook

        from inspect_app.reports import exports
        sheet = load_workbook(io.BytesIO(exports.xlsx(report, None))).worksheets[2]
        deadline = sheet.cell(row=2, column=3)
        assert deadline.is_date and deadline.number_format == "yyyy-mm-dd"
        assert report["overdue"][0]["deadline"][:10] == "2026-03-09"  # kept as a UTC moment
        assert deadline.value.date() == DAY
        assert [t["ticket_id"] for t in report["due"]] == [inside.tickets[0]]
        # 甲校 and 乙校 had no self-check in the window; 丁校 was not registered yet.
        assert o["missing_self_checks"] == 2
        # 乙校 was first checked at 17:00: not covered as of 16:00; 丁校 did not exist.
        assert [s["school"] for s in report["not_covered"]["schools"]] == ["乙校"]
        assert o["not_covered"] == report["not_covered"]["total"] == 1

        photo = db.session.get(Photo, inside.photos[0])
        photo.created_at = BEFORE
        db.session.commit()
        again = services.assemble(DAY)
        assert again["problems_by_school"][0]["problems"][0]["photos"] == [inside.photos[0]]
        # The next day's report sees what happened after: the late visit, the closing, the answer.
        next_day = services.assemble(DAY + timedelta(days=1))
        assert next_day["overview"]["visits"] == 2 and next_day["rectification"]["closed"] == 1
        # The answer at 17:00 took it off the school's overdue list; the two due at 19:00 are on it now.
        assert sorted(t["ticket_id"] for t in next_day["overdue"]) == sorted([inside.tickets[0], after.tickets[0]])


def test_signing_freezes_the_figures_of_the_cutoff_not_of_the_signing(db, world, templates, make_visit,
                                                                       login_as):
    inside = make_visit(world.inspector, world.a, fail=("G2",), photo=False)
    after = make_visit(world.inspector, world.b, fail=("G3",), photo=False)
    _visit_at(inside.id, BEFORE)
    _visit_at(after.id, AFTER)
    db.session.commit()
    leader = login_as("leader")
    assert leader.form_post(f"/reports/daily/{DAY}/sign").status_code == 302
    signed = leader.get(f"/api/v1/reports/daily/{DAY}").get_json()
    assert signed["rectification"]["open_total"] == 1 and signed["overview"]["visits"] == 1
    assert signed["number"] == "2026-1" and signed["bureau"]
