"""The written hand-over (交办单): issued from a submitted visit, numbered, signed for by the school's
duty officer with the time, downloadable by both sides as PDF; a covert check's sheet names nobody;
a sheet not signed for within a working day shows on the bureau's dashboard."""
import io
import re
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from pypdf import PdfReader

from inspect_app.extensions import db

UTC = timezone.utc
HOSTILE = '<img src=x onerror=alert(1)> 消防通道堵塞 & "锁闭"'


def _name(app, user_id):
    from inspect_app.accounts.models import User
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.display_name, user.pseudonym


def _describe(app, visit, text):
    from inspect_app.visits.models import Finding
    with app.app_context():
        for finding in db.session.scalars(sa.select(Finding).where(Finding.visit_id == visit.id)):
            finding.description = text
        db.session.commit()


def _issue(browser, visit_id):
    response = browser.form_post(f"/tickets/hand-overs/visit/{visit_id}")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def _pdf_text(response) -> tuple[str, PdfReader]:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return "".join("".join(page.extract_text().split()) for page in reader.pages), reader


def test_an_overt_visits_sheet_is_numbered_signed_for_and_downloadable_by_both_sides(
        app, db, world, login_as, make_visit, templates):
    visit = make_visit(world.inspector, world.a, fail=("G1", "G2"))
    _describe(app, visit, HOSTILE)
    inspector = login_as("inspector")
    sheet_url = _issue(inspector, visit.id)
    assert _issue(inspector, visit.id) == sheet_url  # issuing again is the same sheet
    year = datetime.now(UTC).astimezone(timezone(timedelta(hours=8))).year
    officer = login_as("officer")
    page = officer.get(sheet_url).get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page  # Jinja escaped it
    inspector_name, _ = _name(app, world.inspector.id)
    assert inspector_name in page and "签收" in page and "尚未签收" in page
    assert f"〔{year}〕第1号" in page
    # Both sides download the same document: number, school, requirement, deadline, inspector.
    for who in (officer, inspector, login_as("leader")):
        text, reader = _pdf_text(who.get(sheet_url + ".pdf"))
        for words in ("交办单", f"〔{year}〕第1号", "甲校", "整改要求", "整改期限", inspector_name,
                      HOSTILE, "尚未签收"):
            assert "".join(words.split()) in text, words
        assert len({image.name for page in reader.pages for image in page.images}) == 2  # each first photo
    # Signing for it: the school's duty officer, once, with the time; the bureau sees it.
    assert officer.form_post(sheet_url + "/acknowledge").status_code == 302
    assert officer.form_post(sheet_url + "/acknowledge").status_code == 409
    officer_name, _ = _name(app, world.officer.id)
    seen = inspector.get(sheet_url).get_data(as_text=True)
    assert re.search(f"{officer_name} 于 .*签收", seen) and "尚未签收" not in seen
    text, _ = _pdf_text(inspector.get(sheet_url + ".pdf"))
    assert f"{''.join(officer_name.split())}于" in text and "签收" in text
    from inspect_app.tickets.models import EventKind, HandOver, Notification
    sheet = db.session.scalar(sa.select(HandOver))
    assert sheet.acknowledged_by_id == world.officer.id and sheet.acknowledged_at is not None
    note = db.session.scalar(sa.select(Notification).where(Notification.kind == EventKind.HAND_OVER))
    assert note.user_id == world.officer.id and note.read_at is not None


def test_who_may_issue_see_and_sign(app, world, login_as, make_visit, templates):
    visit = make_visit(world.inspector, world.a, fail=("G1",))
    assert login_as("volunteer").form_post(f"/tickets/hand-overs/visit/{visit.id}").status_code == 403
    assert login_as("officer").form_post(f"/tickets/hand-overs/visit/{visit.id}").status_code == 403
    sheet_url = _issue(login_as("inspector"), visit.id)
    for who in ("officer_b", "volunteer"):
        browser = login_as(who)
        assert browser.get(sheet_url).status_code == 404
        assert browser.get(sheet_url + ".pdf").status_code == 404
        assert browser.form_post(sheet_url + "/acknowledge").status_code == 404
    assert login_as("inspector").form_post(sheet_url + "/acknowledge").status_code == 403
    inbox = login_as("officer").get("/tickets/notifications").get_data(as_text=True)
    assert "交办单待签收" in inbox and sheet_url in inbox
    # Nothing to hand over: a draft, and a visit that opened no ticket.
    draft = make_visit(world.inspector, world.a, submit=False, photo=False)
    assert login_as("inspector").form_post(f"/tickets/hand-overs/visit/{draft.id}").status_code == 409
    clean = make_visit(world.inspector, world.a, fail=())
    assert login_as("inspector").form_post(f"/tickets/hand-overs/visit/{clean.id}").status_code == 409


def test_a_covert_checks_sheet_names_nobody(app, world, login_as, make_visit, make_user, templates):
    from inspect_app.accounts.models import Role
    volunteer = make_user(Role.VOLUNTEER, assigned_school_ids=[world.a.id], pseudonym="晨跑者")
    covert = make_visit(volunteer, world.a, template="covert", mode="covert", fail=("V1", "V3"))
    leader = login_as("leader")
    sheet_url = _issue(leader, covert.id)
    real, pseudonym = _name(app, volunteer.id)
    leader_name, _ = _name(app, world.leader.id)
    officer = login_as("officer")
    page = officer.get(sheet_url).get_data(as_text=True)
    text, _ = _pdf_text(officer.get(sheet_url + ".pdf"))
    for secret in (real, pseudonym, leader_name, "暗访", "志愿者", "督查人员"):
        assert secret not in page, secret
        assert "".join(secret.split()) not in text, secret


def test_a_sheet_not_signed_for_after_a_working_day_shows_on_the_dashboard(db, world, login_as, make_visit, templates):
    visit = make_visit(world.inspector, world.a, fail=("G1",))
    _issue(login_as("inspector"), visit.id)
    leader = login_as("leader")
    board = leader.get("/reports/").get_data(as_text=True)
    assert "每份交办单都已按时签收" in board  # just issued: not late yet
    from inspect_app.tickets.models import HandOver
    sheet = db.session.scalar(sa.select(HandOver))
    sheet.issued_at = datetime.now(UTC) - timedelta(days=5)  # at least one working day ago
    db.session.commit()
    sheet_id = sheet.id
    board = leader.get("/reports/").get_data(as_text=True)
    assert f"/tickets/hand-overs/{sheet_id}" in board and "每份交办单都已按时签收" not in board
    assert login_as("officer").form_post(f"/tickets/hand-overs/{sheet_id}/acknowledge").status_code == 302
    assert "每份交办单都已按时签收" in leader.get("/reports/").get_data(as_text=True)


def test_the_working_day_edge(db):
    from inspect_app.i18n import working_days_back
    shanghai = timezone(timedelta(hours=8))
        # Monday 2026-03-09 10:00: one working day back is the start of Friday the 6th.
    assert working_days_back(datetime(2026, 3, 9, 10, tzinfo=shanghai), 1) == \
        datetime(2026, 3, 6, tzinfo=shanghai)
    assert working_days_back(datetime(2026, 3, 10, 0, 0, tzinfo=shanghai), 1) == \
        datetime(2026, 3, 9, tzinfo=shanghai)


def test_the_visit_page_offers_the_sheet(app, world, login_as, make_visit, templates):
    visit = make_visit(world.inspector, world.a, fail=("G1",))
    inspector = login_as("inspector")
    assert "下发交办单" in inspector.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "交办单" not in login_as("officer").get(f"/visits/{visit.id}").get_data(as_text=True)  # none yet
    sheet_url = _issue(inspector, visit.id)
    for who in ("inspector", "officer"):
        page = login_as(who).get(f"/visits/{visit.id}").get_data(as_text=True)
        assert sheet_url in page and "下发交办单" not in page
    covert = make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V3",))
    assert "交办" not in login_as("volunteer").get(f"/visits/{covert.id}").get_data(as_text=True)


def test_the_rectification_feedback_gathers_the_schools_reports(db, world, login_as, make_visit, templates):
    visit = make_visit(world.inspector, world.a, fail=("G1", "G2"))
    sheet_url = _issue(login_as("inspector"), visit.id)
    from inspect_app.accounts.models import User
    from inspect_app.tickets.models import Ticket
    ticket = db.session.get(Ticket, visit.tickets[0])
    ticket.respond(db.session.get(User, world.officer.id), "已清理通道并加装指示牌 <b>")
    db.session.commit()
    for who in ("officer", "leader"):
        text, _ = _pdf_text(login_as(who).get(sheet_url + "/feedback.pdf"))
        for words in ("整改反馈", "已清理通道并加装指示牌<b>", "待核查", "学校尚未反馈该问题的整改情况", "甲校"):
            assert words in text, words
    assert login_as("officer_b").get(sheet_url + "/feedback.pdf").status_code == 404


def test_a_number_drawn_twice_is_a_409_not_a_500(db, world, login_as, make_visit, templates):
    """Two sheets issued at the same moment count the same sheets before them: the unique number
    refuses the second. Staged here with a sheet that already holds the next number."""
    first = make_visit(world.inspector, world.a, fail=("G1",))
    _issue(login_as("inspector"), first.id)
    from inspect_app.tickets.models import HandOver
    sheet = db.session.scalar(sa.select(HandOver))
    year = sheet.number.split("-")[0]
    sheet.number = f"{year}-2"  # as if a concurrent issue had taken number 2 while we counted 1
    db.session.commit()
    second = make_visit(world.inspector, world.a, fail=("G2",))
    refused = login_as("inspector").form_post(f"/tickets/hand-overs/visit/{second.id}")
    assert refused.status_code == 409 and "请重试" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(HandOver)) == 1
