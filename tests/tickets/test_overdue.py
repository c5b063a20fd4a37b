"""One meaning of overdue (逾期) everywhere: the deadline passed while the school still owes the work.
A responded ticket awaits the bureau's re-check; that is not the school's lateness."""
import re
import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.tickets.models import EventKind, Ticket, TicketEvent, TicketStatus


def _set(app, ticket_id: int, status: TicketStatus, deadline: datetime) -> None:
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        ticket.status, ticket.deadline = status, deadline
        db.session.commit()


def _rows(html: str) -> dict[int, str]:
    """Each ticket row of a list page, by ticket id."""
    return {int(m.group(1)): m.group(0) for m in
            re.finditer(r'<li class="row">\s*<a[^>]*href="/tickets/(\d+)".*?</li>', html, re.S)}


def test_a_responded_ticket_past_its_deadline_is_not_overdue_anywhere(app, db, login_as, api_token, world, templates,
                                                                      make_visit):
    from inspect_app.reports import services as reports
    from inspect_app.schools.models import School
    from inspect_app.tickets import services
    done = make_visit(world.inspector, world.a, fail=("G1", "G2", "G3", "G4"))
    responded_past, open_past, open_before, reopened_past = done.tickets
    now = utcnow()
    _set(app, responded_past, TicketStatus.RESPONDED, now - timedelta(days=2))
    _set(app, open_past, TicketStatus.OPEN, now - timedelta(days=2))
    _set(app, open_before, TicketStatus.OPEN, now + timedelta(days=3))
    _set(app, reopened_past, TicketStatus.REOPENED, now - timedelta(days=2))
    overdue = {open_past, reopened_past}

    # Python and SQL agree: the hybrid is one rule in both.
    tickets = db.session.scalars(sa.select(Ticket)).all()
    assert {t.id for t in tickets if t.overdue} == overdue
    assert set(db.session.scalars(sa.select(Ticket.id).where(Ticket.overdue))) == overdue
    assert not db.session.get(Ticket, responded_past).overdue_at(now)

    # The school's list page and the bureau's say 逾期 on the same rows.
    for who in ("officer", "leader"):
        rows = _rows(login_as(who).get("/tickets/").get_data(as_text=True))
        assert set(rows) == set(done.tickets)
        assert {tid for tid, row in rows.items() if "已逾期" in row} == overdue, who
    # ...and the ticket's own page.
    page = login_as("officer").get(f"/tickets/{responded_past}").get_data(as_text=True)
    assert "已逾期" not in page and "待核查" in page

    client = app.test_client()
    listed = client.get("/api/v1/tickets", headers=api_token("officer")).get_json()["tickets"]
    assert {t["id"] for t in listed if t["overdue"]} == overdue
    one = client.get(f"/api/v1/tickets/{responded_past}", headers=api_token("leader")).get_json()
    assert one["overdue"] is False

    with app.test_request_context("/"):
        assert services.school_counts(db.session.get(School, world.a.id)) == {"open": 4, "overdue": 2,
                                                                              "responded": 1}
        board = reports.dashboard()
        assert [(open_, late) for _district, open_, late in board["tickets_by_district"]] == [(4, 2)]
        state = next(s for s in reports.school_states(None) if s["id"] == world.a.id)
        assert (state["open"], state["overdue"], state["state"]) == (4, 2, "overdue")
        report = reports.assemble(reports.report_day(now))
        assert report["rectification"]["overdue"] == 2
        assert {t["ticket_id"] for t in report["overdue"]} == overdue

        # Escalation climbs for the two the school is late on (two days: two steps each), never for
        # the one awaiting the bureau.
        assert services.escalate_overdue(now) == 4
        db.session.commit()
        levels = dict(db.session.execute(sa.select(Ticket.id, Ticket.escalation_level)).all())
    assert levels == {responded_past: 0, open_past: 2, open_before: 0, reopened_past: 2}

    # The pages the bureau reads show the same figures.
    leader = login_as("leader")
    assert re.search(r'<span class="overdue">2</span>', leader.get("/reports/").get_data(as_text=True))
    assert "已逾期 2 项" in login_as("officer").get(f"/schools/{world.a.id}").get_data(as_text=True)


def test_the_api_gives_record_times_in_the_bureaus_zone(app, db, api_token, world, templates, make_visit):
    """An event at 07:00 on 5 Jan in Shanghai is 23:00 on 4 Jan in UTC: the API says the 5th, as the page does."""
    done = make_visit(world.inspector, world.a, fail=("G2",))
    ticket_id = done.tickets[0]
    morning = datetime(2026, 1, 4, 23, 0, tzinfo=timezone.utc)
    from inspect_app.accounts.models import User
    ticket = db.session.get(Ticket, ticket_id)
    ticket.events[0].at = morning
    ticket.status = TicketStatus.RESPONDED
    ticket.events.append(TicketEvent(kind=EventKind.RESPONDED, actor=db.session.get(User, world.officer.id),
                                     text="已整改", at=morning))
    db.session.commit()
    client = app.test_client()
    school = client.get(f"/api/v1/tickets/{ticket_id}", headers=api_token("officer")).get_json()["record"]
    assert school[0]["date"] == "2026-01-05" and "at" not in school[0]
    assert school[1]["at"] == "2026-01-05T07:00:00+08:00"
    bureau = client.get(f"/api/v1/tickets/{ticket_id}", headers=api_token("leader")).get_json()["record"]
    assert [entry["at"] for entry in bureau] == ["2026-01-05T07:00:00+08:00"] * 2


def test_a_school_reports_once_per_round_on_the_page_and_over_the_api(app, db, login_as, api_token, world, templates,
                                                                      make_visit):
    done = make_visit(world.inspector, world.a, fail=("G2",))
    ticket_id = done.tickets[0]
    client = app.test_client()
    headers = api_token("officer")
    url = f"/api/v1/tickets/{ticket_id}/responses/"
    assert client.put(url + str(uuid.uuid4()), headers=headers, json={"text": "已整改"}).status_code == 201
    page = login_as("officer").get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert f"/tickets/{ticket_id}/respond" not in page and 'id="responded"' in page
    again = client.put(url + str(uuid.uuid4()), headers=headers, json={"text": "又整改了一次"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    kinds = [e.kind for e in db.session.get(Ticket, ticket_id).events]
    assert kinds == [EventKind.OPENED, EventKind.RESPONDED]


def test_the_finder_is_not_offered_a_close_out_they_may_not_make(app, login_as, world, templates, make_visit,
                                                                  make_user, monkeypatch):
    done = make_visit(world.inspector, world.a, fail=("G2",))
    ticket_id = done.tickets[0]
    monkeypatch.setitem(app.config, "REQUIRE_INDEPENDENT_VERIFIER", True)
    form = f"/tickets/{ticket_id}/verify"
    assert form not in login_as("inspector").get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert form in login_as("leader").get(f"/tickets/{ticket_id}").get_data(as_text=True)
    monkeypatch.setitem(app.config, "REQUIRE_INDEPENDENT_VERIFIER", False)
    assert form in login_as("inspector").get(f"/tickets/{ticket_id}").get_data(as_text=True)
