"""The ticket page as the school and the verifier live it (issue 10): what to fix and by when, errors
under the form with what was typed kept, before and after side by side, no second verification of a
ticket sent back until the school answers."""
import io
import re
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.tickets.models import Ticket, TicketStatus
from inspect_app.visits.models import Finding
from tests.conftest import jpeg_bytes

SHANGHAI = timezone(timedelta(hours=8))
HTMX = {"HX-Request": "true"}


def _ticket(app, ticket_id) -> Ticket:
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        ticket.finding, ticket.events  # noqa: B018 - loaded before the session closes
        return ticket


def _photos(n=1, start=0):
    return [(io.BytesIO(jpeg_bytes(color=(10 * i, 100, 50))), f"after{i}.jpg") for i in range(start, start + n)]


def _main(html: str) -> str:
    return html.split("<main")[1].split("</main>")[0]


def test_the_school_sees_the_photos_the_requirement_the_place_and_the_exact_deadline(
        db, login_as, world, templates, make_visit):
    done = make_visit(world.inspector, world.a, fail=("G1",))
    ticket_id = done.tickets[0]
        # The inspector's own words replace the checklist's: the requirement must still be there.
    db.session.execute(sa.update(Finding).values(description="体温点无人值守", lat=31.9003, lon=120.2801,
                                                 accuracy_m=9))
    db.session.commit()
    ticket = db.session.get(Ticket, ticket_id)
    requirement = ticket.requirement.text_zh
    local = ticket.deadline.astimezone(SHANGHAI)
    page = _main(login_as("officer").get(f"/tickets/{ticket_id}").get_data(as_text=True))
    assert f"/photos/{done.photos[0]}/thumb" in page
    assert "检查要求" in page and requirement in page
    assert "距学校定位点约" in page and "（定位精度 ±9 米）" in page and 'href="geo:31.90030,120.28010"' in page
    assert f"整改期限：{local.month}月{local.day}日 {local:%H:%M}" in page


def test_an_empty_report_says_what_to_write(app, login_as, world, templates, make_visit):
    ticket_id = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    response = login_as("officer").form_post(f"/tickets/{ticket_id}/respond", {"text": "  "})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请说明整改情况。" in page and "该字段是必填字段" not in page


def test_a_pdf_among_the_photos_is_an_error_under_the_field_and_the_text_stays(
        app, login_as, world, templates, make_visit):
    ticket_id = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    officer = login_as("officer")
    files = [*_photos(1), (io.BytesIO(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"), "整改报告.pdf")]
    response = officer.form_post(f"/tickets/{ticket_id}/respond", {"text": "已安排专人值守校门", "photos": files},
                                 content_type="multipart/form-data")
    page = _main(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "整改报告.pdf：" in page and "无法识别该照片" in page
    # The form again, with the text as typed: no page of its own with only a way home.
    assert re.search(r"<textarea[^>]*>\s*已安排专人值守校门</textarea>", page)
    assert 'class="card error"' not in page and "返回首页" not in page
    assert _ticket(app, ticket_id).status is TicketStatus.OPEN


def test_eleven_big_photos_past_the_limit_get_a_chinese_answer_not_a_server_error(
        app, login_as, world, templates, make_visit):
    ticket_id = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    officer = login_as("officer")
    # Raw bytes, as a phone sends them (a dict of files would spool to a file the app never reads).
    parts = [("csrf_token", None, officer.csrf().encode()), ("text", None, "已整改".encode())]
    parts += [("photos", f"IMG_{i}.jpg", b"\xff\xd8" + bytes(2_150_000)) for i in range(11)]  # 23.6 MB
    body = b"".join(b"--B\r\nContent-Disposition: form-data; name=\"%s\"%s\r\n\r\n%s\r\n" % (
        name.encode(), b'; filename="%s"' % filename.encode() if filename else b"", value)
        for name, filename, value in parts) + b"--B--\r\n"
    response = officer.post(f"/tickets/{ticket_id}/respond", data=body,
                            content_type="multipart/form-data; boundary=B")
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "上传的文件太大" in page and "Internal Server Error" not in page


def test_after_reporting_the_form_gives_way_to_the_report_and_the_new_status(
        app, login_as, world, templates, make_visit):
    ticket_id = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    officer = login_as("officer")
    # As the page's script sends it: the answer is the ticket as it now is, to swap in.
    swapped = officer.form_post(f"/tickets/{ticket_id}/respond", {"text": "已安排专人值守校门", "photos": _photos(2)},
                                content_type="multipart/form-data", headers=HTMX)
    fragment = swapped.get_data(as_text=True)
    assert swapped.status_code == 200 and 'id="ticket-work"' in fragment and "<main" not in fragment
    for html in (fragment, _main(officer.get(f"/tickets/{ticket_id}").get_data(as_text=True))):
        assert "当前状态：待核查" in html and "已安排专人值守校门" in html
        assert "tickets/%s/respond" % ticket_id not in html
        assert html.count("整改后照片") == 2


def test_the_verifier_sees_before_and_after_side_by_side_with_the_requirement(
        db, login_as, world, templates, make_visit):
    done = make_visit(world.inspector, world.a, template="plans27", fail=("D01",))  # a document: its close-out is offered here
    ticket_id = done.tickets[0]
    login_as("officer").form_post(f"/tickets/{ticket_id}/respond", {"text": "已整改", "photos": _photos(1)},
                                  content_type="multipart/form-data")
    ticket = db.session.get(Ticket, ticket_id)
    evidence = ticket.latest_response.photos[0].photo_id
    requirement = ticket.requirement.text_zh
    page = _main(login_as("leader").get(f"/tickets/{ticket_id}").get_data(as_text=True))
    pair = page.split('class="before-after"')[1].split("</section>")[0]
    before, after = pair.split('class="after"')
    assert f"/photos/{done.photos[0]}/thumb" in before and f"/photos/{evidence}/thumb" in after
    assert requirement in page.split('class="before-after"')[0]
    # Closing out cannot be undone: the button asks first.
    assert re.search(r'value="close"[^>]*data-confirm="确认销号？销号后不能撤销。"', page)


def test_a_reopen_without_a_future_deadline_keeps_the_note_under_the_field(
        app, login_as, world, templates, make_visit):
    ticket_id = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    leader = login_as("leader")
    page = _main(leader.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    assert re.search(r'<input class="big" id="new_deadline" name="new_deadline" type="datetime-local"', page)
    for deadline in ("", "2020-01-01T09:00"):
        response = leader.form_post(f"/tickets/{ticket_id}/verify",
                                    {"outcome": "reopen", "note": "消毒记录不全", "new_deadline": deadline})
        page = _main(response.get_data(as_text=True))
        assert response.status_code == 422
        assert re.search(r"<textarea[^>]*>\s*消毒记录不全</textarea>", page)
        field = page.split('id="new_deadline"')[1].split("</div>")[0]
        assert "退回时须设定一个未来的新期限。" in field
        assert "请检查填写内容" not in page


def test_a_reopen_takes_the_date_and_time_as_picked_where_the_school_is(
        app, login_as, world, templates, make_visit):
    ticket_id = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    day = (datetime.now(SHANGHAI) + timedelta(days=3)).date()
    response = login_as("leader").form_post(f"/tickets/{ticket_id}/verify", {
        "outcome": "reopen", "note": "消毒记录不全", "new_deadline": f"{day.isoformat()}T17:00"})
    assert response.status_code == 302
    ticket = _ticket(app, ticket_id)
    assert ticket.status is TicketStatus.REOPENED
    assert ticket.deadline.astimezone(SHANGHAI) == datetime(day.year, day.month, day.day, 17, 0, tzinfo=SHANGHAI)


def test_after_a_reopen_no_verification_until_the_school_reports_again(
        app, login_as, world, templates, make_visit):
    ticket_id = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    leader = login_as("leader")
    future = (datetime.now(SHANGHAI) + timedelta(days=3)).date().isoformat()
    assert leader.form_post(f"/tickets/{ticket_id}/verify", {"outcome": "reopen", "new_deadline": future,
                                                             "note": "消毒记录不全"}).status_code == 302
    page = _main(leader.get(f"/tickets/{ticket_id}").get_data(as_text=True))
    assert f"/tickets/{ticket_id}/verify" not in page and "学校再次报送整改情况后" in page
    again = leader.form_post(f"/tickets/{ticket_id}/verify", {"outcome": "close", "photos": _photos(1)},
                             content_type="multipart/form-data")
    assert again.status_code == 409 and _ticket(app, ticket_id).status is TicketStatus.REOPENED

    login_as("officer").form_post(f"/tickets/{ticket_id}/respond", {"text": "已补全消毒记录", "photos": _photos(1, 5)},
                                  content_type="multipart/form-data")
    assert f"/tickets/{ticket_id}/verify" in leader.get(f"/tickets/{ticket_id}").get_data(as_text=True)


def test_the_place_of_a_covert_finding_stays_with_the_bureau(db, login_as, world, templates, make_visit):
    ticket_id = make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V3",)).tickets[0]
    db.session.execute(sa.update(Finding).values(lat=31.9003, lon=120.2801, accuracy_m=9))
    db.session.commit()
    school = _main(login_as("officer").get(f"/tickets/{ticket_id}").get_data(as_text=True))
    assert "geo:" not in school and "距学校定位点" not in school and "31.900" not in school
    assert 'href="geo:31.90030,120.28010"' in login_as("leader").get(f"/tickets/{ticket_id}").get_data(as_text=True)


def test_evidence_sent_while_the_photo_store_is_down_is_a_503_in_words_and_changes_nothing(
        app, db, login_as, world, templates, make_visit, monkeypatch):
    from inspect_app.photos.models import Photo
    from inspect_app.photos.storage import S3Storage
    from tests.storage_server import free_ports
    ticket_id = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    photos_before = db.session.scalar(sa.select(sa.func.count()).select_from(Photo))
    monkeypatch.setitem(app.extensions, "storage", S3Storage(
        "inspect-test", endpoint_url=f"http://127.0.0.1:{free_ports(1)[0]}", access_key="a", secret_key="b",
        attempts=1))
    response = login_as("officer").form_post(f"/tickets/{ticket_id}/respond",
                                             {"text": "已安排专人值守校门", "photos": _photos(2)},
                                             content_type="multipart/form-data", headers=HTMX)
    # static/js/ticket.js shows the fragment's alert under the form and keeps what was typed and picked.
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert re.search(r'role="alert".*照片存储暂时无法连接', response.get_data(as_text=True), re.S)
    ticket = _ticket(app, ticket_id)
    assert ticket.status is TicketStatus.OPEN and len(ticket.events) == 1  # only "opened"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == photos_before
