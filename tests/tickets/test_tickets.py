"""From finding to verified close-out (整改 → 回头看 → 销号), in the browser and over the API."""
import io
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.tickets.models import EventKind, Notification, Ticket, TicketError, TicketEvent, TicketStatus
from tests.conftest import jpeg_bytes

# A problem shown rectified by a document (the 27 plans-and-rules check): closed out from the desk.
DOCUMENT = {"template": "plans27", "fail": ("D01",)}


def _ticket(app, ticket_id):
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        return ticket.status, [e.kind for e in ticket.events], ticket.deadline, ticket.escalation_level


def _photo_upload(n=1):
    return [(io.BytesIO(jpeg_bytes(color=(10 * i, 100, 50))), f"after{i}.jpg") for i in range(n)]


def test_submitting_a_visit_opens_a_ticket_per_finding_not_fixed_on_site(db, world, templates, make_visit):
    done = make_visit(world.inspector, world.a, fail=("G1", "G2"))
    assert len(done.tickets) == 2
    tickets = db.session.scalars(sa.select(Ticket).order_by(Ticket.id)).all()
    # The items' own 24 hours, then to the end of that day where the school is (the default rounding).
    local = timezone(timedelta(hours=8))
    for t in tickets:
        due = (t.visit.server_submitted_at + timedelta(hours=24)).astimezone(local)
        assert t.deadline.astimezone(local) == due.replace(hour=23, minute=59, second=59, microsecond=0)
    assert all(t.status is TicketStatus.OPEN and t.events[0].kind is EventKind.OPENED for t in tickets)
    officer_notes = db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                                      .where(Notification.user_id == world.officer.id))
    assert officer_notes == 2


def test_a_finding_fixed_on_the_spot_opens_no_ticket(db, login_as, world, templates):
    browser = login_as("inspector")
    start = browser.form_post("/visits/start", {"school_id": world.a.id, "mode": "overt",
                                                "template_id": templates["onsite"].id})
    visit_id = start.headers["Location"].rsplit("/", 1)[1]
    token = browser.csrf()
    for code in templates["onsite"].codes:
        browser.post(f"/visits/{visit_id}/items/{code}", data={"csrf_token": token,
                                                               "result": "fail" if code == "G2" else "pass"})
    from inspect_app.visits.models import Finding
    finding_id = db.session.scalar(sa.select(Finding.id).where(Finding.visit_id == visit_id))
    browser.post(f"/visits/{visit_id}/findings/{finding_id}", data={
        "csrf_token": token, "description": "门卫未戴口罩，已当场纠正", "severity": "minor", "fixed_on_site": "y"})
    assert browser.form_post(f"/visits/{visit_id}/submit").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0


def test_end_to_end_in_the_browser_school_responds_another_inspector_closes(
        app, login_as, world, templates, make_visit, make_user):
    done = make_visit(world.inspector, world.a, **DOCUMENT)
    ticket_id = done.tickets[0]

    officer = login_as("officer")
    inbox = officer.get("/tickets/").get_data(as_text=True)
    assert "剩余" in inbox or "已逾期" in inbox
    page = officer.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "督查组" in page and "提交整改情况" in page
    responded = officer.form_post(f"/tickets/{ticket_id}/respond",
                                  {"text": "已安排专人值守校门", "photos": _photo_upload(2)},
                                  content_type="multipart/form-data")
    assert responded.status_code == 302
    status, kinds, *_ = _ticket(app, ticket_id)
    assert status is TicketStatus.RESPONDED and kinds == [EventKind.OPENED, EventKind.RESPONDED]

    # The school's response never closes; a school cannot verify.
    assert officer.form_post(f"/tickets/{ticket_id}/verify", {"outcome": "close"}).status_code == 403

    other = make_user("inspector", assigned_school_ids=[world.a.id])
    verifier = login_as(None)
    verifier.sign_in(other.username)
    queue = verifier.get("/tickets/follow-up").get_data(as_text=True)
    assert "甲校" in queue
    no_photo = verifier.form_post(f"/tickets/{ticket_id}/verify", {"outcome": "close", "note": "复查"},
                                  content_type="multipart/form-data")
    assert no_photo.status_code == 422 and "至少一张" in no_photo.get_data(as_text=True)
    closed = verifier.form_post(f"/tickets/{ticket_id}/verify",
                                {"outcome": "close", "note": "复查属实", "photos": _photo_upload()},
                                content_type="multipart/form-data")
    assert closed.status_code == 302
    status, kinds, *_ = _ticket(app, ticket_id)
    assert status is TicketStatus.CLOSED and kinds[-1] is EventKind.CLOSED
    record = verifier.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "核查通过，已销号" in record and "由发现问题的督学本人核查" not in record
    again = verifier.form_post(f"/tickets/{ticket_id}/verify", {"outcome": "reopen", "new_deadline": "2099-01-01"})
    assert again.status_code == 409 and "已销号" in again.get_data(as_text=True)


def test_a_desk_close_out_is_only_for_a_document_and_is_marked_as_such(
        app, db, login_as, api_token, world, templates, make_visit):
    site = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    document = make_visit(world.inspector, world.a, **DOCUMENT).tickets[0]
    leader = login_as("leader")
    page = leader.get(f"/tickets/{site}").get_data(as_text=True)
    assert 'value="close"' not in page and 'id="close-on-site"' in page
    refused = leader.form_post(f"/tickets/{site}/verify", {"outcome": "close", "photos": _photo_upload()},
                               content_type="multipart/form-data")
    assert refused.status_code == 422 and "只有凭文件资料" in refused.get_data(as_text=True)
    client = app.test_client()
    headers = api_token("leader")
    pid = str(uuid.uuid4())
    client.put(f"/api/v1/photos/{pid}", headers=headers, data={"file": (io.BytesIO(jpeg_bytes()), "a.jpg")},
               content_type="multipart/form-data")
    answer = client.put(f"/api/v1/tickets/{site}/verifications/{uuid.uuid4()}", headers=headers,
                        json={"outcome": "close", "photo_ids": [pid]})
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "needs_follow_up_visit"
    assert _ticket(app, site)[0] is TicketStatus.OPEN
    # Sending back from the desk stays possible: it closes nothing.
    assert leader.form_post(f"/tickets/{site}/verify", {"outcome": "reopen", "new_deadline": "2099-01-01"}
                            ).status_code == 302
    # A document closes from the desk, and the record says how, to the bureau and to the school.
    assert 'value="close"' in leader.get(f"/tickets/{document}").get_data(as_text=True)
    assert leader.form_post(f"/tickets/{document}/verify", {"outcome": "close", "photos": _photo_upload()},
                            content_type="multipart/form-data").status_code == 302
    for viewer in (leader, login_as("officer")):
        assert "未到校回头看" in viewer.get(f"/tickets/{document}").get_data(as_text=True)
    record = client.get(f"/api/v1/tickets/{document}", headers=headers).get_json()["record"]
    assert record[-1]["desk_review"] is True and record[0]["desk_review"] is False
    marks = dict(db.session.execute(sa.select(TicketEvent.ticket_id, TicketEvent.desk_review)
                                    .where(TicketEvent.kind.in_((EventKind.CLOSED, EventKind.REOPENED)))).all())
    assert marks == {site: False, document: True}


def test_the_reopen_path_sets_a_new_deadline(app, login_as, world, templates, make_visit):
    done = make_visit(world.inspector, world.a, fail=("G2",))
    ticket_id = done.tickets[0]
    leader = login_as("leader")
    past = leader.form_post(f"/tickets/{ticket_id}/verify", {"outcome": "reopen", "new_deadline": "2020-01-01"})
    assert past.status_code == 422 and "未来的新期限" in past.get_data(as_text=True)
    future = (datetime.now(timezone.utc) + timedelta(days=5)).date().isoformat()
    assert leader.form_post(f"/tickets/{ticket_id}/verify",
                            {"outcome": "reopen", "new_deadline": future, "note": "消毒记录不全"}).status_code == 302
    status, kinds, deadline, _ = _ticket(app, ticket_id)
    assert status is TicketStatus.REOPENED and kinds[-1] is EventKind.REOPENED
    assert deadline > utcnow() + timedelta(days=4)


def test_the_finder_may_not_verify_by_default_and_self_verification_is_recorded_when_allowed(
        app, login_as, world, templates, make_visit, monkeypatch):
    assert app.config["REQUIRE_INDEPENDENT_VERIFIER"] is True  # the default (config.Config)
    done = make_visit(world.inspector, world.a, **DOCUMENT)
    ticket_id = done.tickets[0]
    inspector = login_as("inspector")
    refused = inspector.form_post(f"/tickets/{ticket_id}/verify", {"outcome": "close", "photos": _photo_upload()},
                                  content_type="multipart/form-data")
    assert refused.status_code == 403 and "须由其他督学核查" in refused.get_data(as_text=True)
    # An inspector cannot talk their way past it: the reason is a leader's override only.
    refused = inspector.form_post(f"/tickets/{ticket_id}/verify", {
        "outcome": "close", "override_reason": "只有我在", "photos": _photo_upload()}, content_type="multipart/form-data")
    assert refused.status_code == 403
    assert _ticket(app, ticket_id)[0] is TicketStatus.OPEN
    monkeypatch.setitem(app.config, "REQUIRE_INDEPENDENT_VERIFIER", False)
    assert inspector.form_post(f"/tickets/{ticket_id}/verify", {"outcome": "close", "photos": _photo_upload()},
                               content_type="multipart/form-data").status_code == 302
    assert "由发现问题的督学本人核查" in inspector.get(f"/tickets/{ticket_id}").get_data(as_text=True)


def test_a_leader_verifies_their_own_finding_only_with_a_reason_that_the_record_and_audit_keep(
        app, db, login_as, api_token, world, templates, make_visit):
    from inspect_app.audit.models import AuditEntry
    done = make_visit(world.leader, world.a, template="plans27", fail=("D01", "D02"))
    first, second = done.tickets
    leader = login_as("leader")
    page = leader.get(f"/tickets/{first}").get_data(as_text=True)
    assert 'name="override_reason"' in page  # offered, with the field it needs
    assert 'name="override_reason"' not in login_as("inspector").get(f"/tickets/{first}").get_data(as_text=True)
    refused = leader.form_post(f"/tickets/{first}/verify", {"outcome": "close", "override_reason": "   ",
                                                            "photos": _photo_upload()},
                               content_type="multipart/form-data")
    assert refused.status_code == 422 and "说明为何由您本人核查" in refused.get_data(as_text=True)
    assert leader.form_post(f"/tickets/{first}/verify", {
        "outcome": "close", "override_reason": "督学均在外地，现场已核实", "photos": _photo_upload()},
        content_type="multipart/form-data").status_code == 302
    shown = leader.get(f"/tickets/{first}").get_data(as_text=True)
    assert "督学均在外地，现场已核实" in shown
    # The school's view of the record never carries the bureau's reason.
    assert "督学均在外地" not in login_as("officer").get(f"/tickets/{first}").get_data(as_text=True)
    # The API: refused naming the field, then recorded with the reason.
    headers = api_token("leader")
    client = app.test_client()
    url = f"/api/v1/tickets/{second}/verifications/{uuid.uuid4()}"
    body = {"outcome": "reopen", "new_deadline": (utcnow() + timedelta(days=3)).isoformat()}
    answer = client.put(url, json=body, headers=headers)
    assert answer.status_code == 422 and "说明为何由您本人核查" in answer.get_json()["error"]["message"]
    answer = client.put(url, json={**body, "override_reason": "紧急"}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    last = answer.get_json()["record"][-1]
    assert last["self_verified"] is True and last["override_reason"] == "紧急"
    reasons = db.session.scalars(sa.select(TicketEvent.override_reason)
                                 .where(TicketEvent.override_reason.is_not(None))).all()
    assert set(reasons) == {"督学均在外地，现场已核实", "紧急"}
    written = db.session.scalars(sa.select(AuditEntry.data).where(AuditEntry.object_type == "ticket_events")).all()
    assert any("紧急" in data for data in written)


def test_another_schools_officer_gets_404_on_the_ticket_its_photos_and_the_api(
        app, db, login_as, api_token, world, templates, make_visit):
    done = make_visit(world.inspector, world.a, fail=("G1",))
    ticket_id = done.tickets[0]
    officer = login_as("officer")
    officer.form_post(f"/tickets/{ticket_id}/respond", {"text": "已整改", "photos": _photo_upload()},
                      content_type="multipart/form-data")
    evidence = db.session.scalars(sa.select(TicketEvent).where(TicketEvent.kind == EventKind.RESPONDED)).one()
    evidence_photo = evidence.photos[0].photo_id
    other = login_as("officer_b")
    for url in (f"/tickets/{ticket_id}", f"/photos/{evidence_photo}/thumb", f"/photos/{done.photos[0]}/display"):
        assert other.get(url).status_code == 404
    assert other.form_post(f"/tickets/{ticket_id}/respond", {"text": "x"}).status_code == 404
    client = app.test_client()
    headers = api_token("officer_b")
    assert client.get(f"/api/v1/tickets/{ticket_id}", headers=headers).status_code == 404
    assert client.get("/api/v1/tickets", headers=headers).get_json()["tickets"] == []
    assert officer.get(f"/photos/{evidence_photo}/thumb").status_code == 200


def test_a_covert_source_never_reaches_the_school(app, db, login_as, api_token, world, templates, make_visit):
    done = make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V3",))
    ticket_id = done.tickets[0]
    from inspect_app.accounts.models import User
    volunteer = db.session.get(User, world.volunteer.id)
    secrets_ = {volunteer.username, volunteer.display_name, volunteer.pseudonym, "家长志愿者", "暗访",
                "volunteer", "covert"}
    opened_at = db.session.get(Ticket, ticket_id).opened_at
    officer = login_as("officer")
    client = app.test_client()
    headers = api_token("officer")
    loads = [officer.get("/tickets/").get_data(as_text=True),
             officer.get(f"/tickets/{ticket_id}").get_data(as_text=True),
             officer.get(f"/tickets/{ticket_id}", headers={"HX-Request": "true"}).get_data(as_text=True),
             officer.get(f"/visits/{done.id}").get_data(as_text=True),
             officer.get("/tickets/notifications").get_data(as_text=True),
             officer.get(f"/schools/{world.a.id}").get_data(as_text=True),
             client.get("/api/v1/tickets", headers=headers).get_data(as_text=True),
             client.get(f"/api/v1/tickets/{ticket_id}", headers=headers).get_data(as_text=True),
             client.get(f"/api/v1/visits/{done.id}", headers=headers).get_data(as_text=True)]
    hour = opened_at.astimezone(timezone(timedelta(hours=8))).strftime("%H:%M")
    for text in loads:
        main = text.split("<main")[1].split("</main>")[0] if "<main" in text else text
        for secret in secrets_:
            assert secret not in main, secret
        # The clock time, not a UTC offset ("+08:00") that matches it when the ticket opened at 08:00.
        assert not re.search(rf"(?<![\d+-]){hour}", main)
    # The photo files the school can load carry no metadata.
    photo = client.get(f"/photos/{done.photos[0]}/display", headers=headers)
    assert photo.status_code == 200 and b"Exif\x00\x00" not in photo.data


@pytest.mark.real_commits  # two sessions with connections of their own
def test_concurrent_close_outs_one_wins_one_conflicts(app, world, templates, make_visit, make_user):
    """Two verifiers load the same ticket; both act; the record shows one transition."""
    import sqlalchemy.orm as so

    from inspect_app.accounts.models import User
    from inspect_app.tickets import services
    done = make_visit(world.inspector, world.a, **DOCUMENT)
    ticket_id = done.tickets[0]
    second = make_user("inspector")
    with app.test_request_context("/"):
        photos = {}
        from inspect_app.photos.services import PhotoFields, receive_photo
        for uid in (world.leader.id, second.id):
            user = db.session.get(User, uid)
            pid = str(uuid.uuid4())
            receive_photo(pid, user, jpeg_bytes(color=(uid % 255, 1, 1)), PhotoFields())
            photos[uid] = pid
        first_session = so.Session(db.engine)
        second_session = so.Session(db.engine)
        t1 = first_session.get(Ticket, ticket_id)
        t2 = second_session.get(Ticket, ticket_id)
        assert t1.version == t2.version == 1
        u1, u2 = first_session.get(User, world.leader.id), second_session.get(User, second.id)
        t1.verify(u1, True, "一", None, False)
        first_session.commit()
        # The second still holds version 1: its write matches no row, whenever it reaches the database.
        with pytest.raises(so.exc.StaleDataError):
            t2.verify(u2, True, "二", None, False)
            second_session.commit()
        second_session.rollback()
        first_session.close()
        second_session.close()
        db.session.expire_all()
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status is TicketStatus.CLOSED
        assert [e.kind for e in ticket.events].count(EventKind.CLOSED) == 1
        # And through the service a late second close is a clear 409, not a second record.
        with pytest.raises(TicketError) as late:
            services.verify(ticket, db.session.get(User, second.id), True, "", [photos[second.id]], None)
        assert late.value.status == 409


def test_the_api_returns_409_to_the_loser_of_a_race(app, api_token, world, templates, make_visit, monkeypatch):
    """The HTTP path: a StaleDataError at commit becomes a 409 with a message."""
    from sqlalchemy.orm.exc import StaleDataError

    from inspect_app.extensions import db as real_db
    done = make_visit(world.inspector, world.a, **DOCUMENT)
    client = app.test_client()
    headers = api_token("leader")
    pid = str(uuid.uuid4())
    client.put(f"/api/v1/photos/{pid}", headers=headers, data={"file": (io.BytesIO(jpeg_bytes()), "a.jpg")},
               content_type="multipart/form-data")
    original = real_db.session.commit

    def lose_the_race():
        raise StaleDataError("UPDATE statement on table 'tickets' expected to update 1 row(s); 0 were matched.")
    monkeypatch.setattr(real_db.session, "commit", lose_the_race)
    response = client.put(f"/api/v1/tickets/{done.tickets[0]}/verifications/{uuid.uuid4()}", headers=headers,
                          json={"outcome": "close", "photo_ids": [pid]})
    monkeypatch.setattr(real_db.session, "commit", original)
    assert response.status_code == 409
    assert "同时处理" in response.get_json()["error"]["message"]


def test_escalation_climbs_the_ladder_over_a_simulated_clock(app, world, templates, make_visit):
    from inspect_app.tickets.services import escalate_overdue
    done = make_visit(world.inspector, world.a, fail=("G2",))
    ticket_id = done.tickets[0]
    _, _, deadline, _ = _ticket(app, ticket_id)
    steps = []
    with app.test_request_context("/"):
        for offset, expected_level in [(timedelta(hours=-1), 0), (timedelta(minutes=1), 1),
                                       (timedelta(hours=12), 1), (timedelta(days=1, minutes=1), 2),
                                       (timedelta(days=3, minutes=1), 3), (timedelta(days=9), 3)]:
            steps.append(escalate_overdue(now=deadline + offset))
            db.session.commit()
            assert db.session.get(Ticket, ticket_id).escalation_level == expected_level
        ticket = db.session.get(Ticket, ticket_id)
        kinds = [e.kind for e in ticket.events]
        assert kinds == [EventKind.OPENED, EventKind.REMINDER, EventKind.HEAD_NOTIFIED, EventKind.BUREAU_NOTICE]
        leader_noticed = db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == world.leader.id, Notification.kind == EventKind.BUREAU_NOTICE))
        assert leader_noticed == 1
    assert steps == [0, 1, 0, 1, 1, 0]


def test_a_late_start_climbs_several_steps_at_once_and_the_command_runs(app, db, world, templates, make_visit):
    done = make_visit(world.inspector, world.a, fail=("G2",))
    ticket = db.session.get(Ticket, done.tickets[0])
    ticket.deadline = utcnow() - timedelta(days=5)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["tickets", "escalate"])
    assert result.exit_code == 0 and "3 escalation steps" in result.output
    assert _ticket(app, done.tickets[0])[3] == 3
    again = app.test_cli_runner().invoke(args=["tickets", "escalate"])
    assert "0 escalation steps" in again.output


def test_responded_tickets_do_not_escalate(app, login_as, world, templates, make_visit):
    from inspect_app.tickets.services import escalate_overdue
    done = make_visit(world.inspector, world.a, fail=("G2",))
    login_as("officer").form_post(f"/tickets/{done.tickets[0]}/respond", {"text": "已整改"})
    with app.test_request_context("/"):
        assert escalate_overdue(now=utcnow() + timedelta(days=30)) == 0


def test_notifications_show_unread_counts_and_clear_when_read(app, login_as, world, templates, make_visit):
    done = make_visit(world.inspector, world.a, fail=("G1", "G2"))
    officer = login_as("officer")
    page = officer.get(f"/schools/{world.a.id}").get_data(as_text=True)
    assert 'class="badge"' in page and ">2<" in page
    officer.get(f"/tickets/{done.tickets[0]}")
    page = officer.get(f"/schools/{world.a.id}").get_data(as_text=True)
    assert ">1<" in page
    officer.form_post("/tickets/notifications/read")
    assert 'class="badge"' not in officer.get(f"/schools/{world.a.id}").get_data(as_text=True)


def test_a_notice_names_the_problem_the_school_and_the_deadline(db, login_as, world, templates, make_visit):
    import re

    from inspect_app.tickets.models import Ticket
    done = make_visit(world.inspector, world.a, fail=("G1",))
    ticket = db.session.get(Ticket, done.tickets[0])
    description, deadline = ticket.finding.description, ticket.deadline
    page = login_as("officer").get("/tickets/notifications").get_data(as_text=True)
    local = deadline.astimezone(timezone(timedelta(hours=8)))
    assert f"：{description[:39]}" in page and "甲校" in page
    assert f"期限 {local.month}月{local.day}日 {local:%H:%M}" in page
    assert re.search(r'<span class="tag">未读</span>', page) and "新增" not in page


@pytest.mark.parametrize("shift, words", [
    (timedelta(days=3), "剩余 3 天"), (timedelta(hours=0.5), None), (timedelta(days=-2), "已逾期 2 天"),
])
def test_deadlines_read_in_calendar_days_where_the_school_is(db, login_as, world, templates, make_visit,
                                                             shift, words):
    from zoneinfo import ZoneInfo
    done = make_visit(world.inspector, world.a, fail=("G2",))
    tz = ZoneInfo("Asia/Shanghai")
    now_local = datetime.now(tz)
    if words is None:  # later today, local time: "due today" (unless today has under 30 minutes left)
        deadline = now_local.replace(hour=23, minute=59, second=0)
        words = "今天到期" if deadline > now_local else "已逾期"
    else:
        deadline = (now_local + shift).replace(hour=12, minute=0, second=0)
    ticket = db.session.get(Ticket, done.tickets[0])
    ticket.deadline = deadline.astimezone(timezone.utc)
    db.session.commit()
    page = login_as("officer").get(f"/tickets/{done.tickets[0]}").get_data(as_text=True)
    assert words in page


@pytest.mark.parametrize("rounding, submitted, hours, due", [
    # 06:41:07 on 26 Nov in Shanghai, plus 24 h: the end of 27 Nov there.
    ("day", "2026-11-25T22:41:07.123456+00:00", 24, "2026-11-27T23:59:59+08:00"),
    # 23:59 in Shanghai plus 24 h is still that next day, to its last second.
    ("day", "2026-11-25T15:59:00+00:00", 24, "2026-11-26T23:59:59+08:00"),
    ("hour", "2026-11-25T22:41:07.123456+00:00", 24, "2026-11-26T23:00:00+00:00"),
    ("hour", "2026-11-25T22:00:00+00:00", 48, "2026-11-27T22:00:00+00:00"),  # already on the hour
])
def test_a_deadline_is_rounded_up_never_down(app, db, monkeypatch, rounding, submitted, hours, due):
    from inspect_app.tickets.services import planned_deadline
    monkeypatch.setitem(app.config, "TICKET_DEADLINE_ROUNDING", rounding)
    deadline = planned_deadline(datetime.fromisoformat(submitted), hours)
    assert deadline == datetime.fromisoformat(due)
    assert deadline >= datetime.fromisoformat(submitted) + timedelta(hours=hours)
    assert deadline.second == 59 if rounding == "day" else (deadline.minute, deadline.second) == (0, 0)


def test_an_unknown_deadline_rounding_is_refused(app, db, monkeypatch):
    from inspect_app.tickets.services import planned_deadline
    monkeypatch.setitem(app.config, "TICKET_DEADLINE_ROUNDING", "minute")
    with pytest.raises(ValueError, match="TICKET_DEADLINE_ROUNDING"):
        planned_deadline(utcnow(), 24)


def test_a_misspelt_deadline_rounding_stops_the_app_at_start():
    from inspect_app import create_app
    from inspect_app.config import TestConfig
    with pytest.raises(RuntimeError, match="TICKET_DEADLINE_ROUNDING must be one of day, hour"):
        create_app(TestConfig, TICKET_DEADLINE_ROUNDING="daily")


def test_each_step_is_announced_to_whom_it_concerns_each_person_once(app, db, world, templates, make_visit):
    """Opened and reminders: the school's active duty officers. Responded: the school's assigned
    inspectors and the visit's author (once, though the author is both). The bureau's notice: officers,
    assigned inspectors and every active leader, each once. Nobody at another school, nobody inactive."""
    from inspect_app.accounts.models import Role, User
    from inspect_app.tickets.services import notify
    done = make_visit(world.inspector, world.a, fail=("G2",))
    with app.test_request_context("/"):
        idle = User(username="idle-officer", display_name="停用", role=Role.DUTY_OFFICER, school_id=world.a.id,
                    active=False)
        idle.set_password("x" * 12)
        db.session.add(idle)
        ticket = db.session.get(Ticket, done.tickets[0])
        db.session.execute(sa.delete(Notification))

        def noticed(kind):
            notify(ticket, kind)
            db.session.flush()
            return sorted(db.session.scalars(sa.select(Notification.user_id).where(Notification.kind == kind)))
        assert noticed(EventKind.OPENED) == [world.officer.id]
        assert noticed(EventKind.RESPONDED) == [world.inspector.id]
        assert noticed(EventKind.BUREAU_NOTICE) == sorted([world.officer.id, world.inspector.id, world.leader.id])
        db.session.rollback()
