"""The public side: from the poster to a tracking code, every bad input refused with nothing stored,
retries stored once, limits across requests, and the tracking page showing only what it may."""
from __future__ import annotations

import io
import logging

import sqlalchemy as sa

from inspect_app.complaints.models import Complaint, ComplaintPhoto
from inspect_app.extensions import db
from inspect_app.photos.models import Photo
from tests.conftest import jpeg_bytes


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_poster_leads_to_the_form_and_a_code_that_follows_the_complaint(db, browser, world, complain):
    landing = browser.get(f"/s/{world.a.qr_token}").get_data(as_text=True)
    assert f"/complaints/new?qr={world.a.qr_token}" in landing
    assert "正在开通" not in landing
    form = browser.get(f"/complaints/new?qr={world.a.qr_token}").get_data(as_text=True)
    assert "甲校" in form and "请描述您看到的问题" in form and "联系方式（选填，仅用于回复您）" in form
    assert "不会提供给学校" in form  # the one-sentence privacy note
    response, code, _ = complain(browser, qr=world.a.qr_token, contact="13800001111",
                                 photos=[(io.BytesIO(jpeg_bytes()), "a.jpg")])
    assert response.status_code == 200 and code, response.get_data(as_text=True)[:500]
    assert "请截图保存" in response.get_data(as_text=True)
    page = browser.get(f"/c/{code}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "已受理" in text and "甲校" in text
    assert "13800001111" not in text and "消毒柜" not in text  # the complaint's own words are not shown back
    complaint = db.session.scalar(sa.select(Complaint))
    assert complaint.contact == "13800001111" and complaint.school_id == world.a.id
    assert code.replace("-", "")[2:] not in str(complaint.code_hash)  # only a hash is kept
    photo = db.session.get(Photo, db.session.scalar(sa.select(ComplaintPhoto.photo_id)))
    assert photo.uploader_id is None


def test_a_code_is_found_however_it_is_typed(browser, world, complain):
    _, code, _ = complain(browser, school=world.a)
    for typed in (code.lower(), code.replace("-", ""), code[3:].replace("-", " ")):
        assert browser.get(f"/complaints/track?code={typed}").status_code == 302
        assert browser.get(f"/c/{typed}").status_code == 200


def test_a_retried_submission_is_stored_once_and_answers_with_the_same_code(app, browser, world, complain):
    photo = jpeg_bytes(color=(10, 200, 10))
    first, code, fields = complain(browser, school=world.a, photos=[(io.BytesIO(photo), "a.jpg")])
    again, same, _ = complain(browser, school=world.a, fields=fields, photos=[(io.BytesIO(photo), "a.jpg")])
    assert code and same == code
    assert "已经收到" in again.get_data(as_text=True)
    assert _count(app, Complaint) == 1 and _count(app, Photo) == 1
    # The same form with other words is not a retry.
    other, _, _ = complain(browser, school=world.a, fields=fields, text="另一件事")
    assert other.status_code == 409 and _count(app, Complaint) == 1


def test_a_store_that_is_down_keeps_the_form_and_stores_nothing_then_the_retry_goes_through(
        app, db, browser, world, complain, monkeypatch):
    from inspect_app.photos.storage import S3Storage, storage
    from tests.storage_server import free_ports
    working = storage()
    monkeypatch.setitem(app.extensions, "storage", S3Storage(
        "inspect-test", endpoint_url=f"http://127.0.0.1:{free_ports(1)[0]}", access_key="a", secret_key="b",
        attempts=1))
    photo = jpeg_bytes(color=(10, 20, 200))
    down, code, fields = complain(browser, school=world.a, photos=[(io.BytesIO(photo), "a.jpg")])
    assert down.status_code == 503 and code is None
    page = down.get_data(as_text=True)
    assert "照片存储暂时无法连接" in page and "食堂后门的消毒柜" in page  # what was typed is still there
    assert _count(app, Complaint) == 0 and _count(app, Photo) == 0

    monkeypatch.setitem(app.extensions, "storage", working)
    back, code, _ = complain(browser, school=world.a, fields=fields, photos=[(io.BytesIO(photo), "a.jpg")])
    assert back.status_code == 200 and code
    assert _count(app, Complaint) == 1 and _count(app, Photo) == 1


def test_each_bad_input_is_refused_in_chinese_with_nothing_stored(app, browser, world, complain):
    cases = [
        (dict(text="   "), 422, "请描述您看到的问题"),
        (dict(text="很" * 2001), 422, "最多 2000"),
        (dict(contact="1" * 101), 422, "联系方式"),
        (dict(photos=[(io.BytesIO(b"%PDF-1.4 not a photo"), "x.jpg")]), 415, "无法识别该照片"),
        (dict(photos=[(io.BytesIO(jpeg_bytes(color=(i, 0, 0))), f"{i}.jpg") for i in range(5)]), 413, "最多 4 张"),
        (dict(extra={"website": "http://spam.example"}), 400, "无法受理"),
    ]
    for kwargs, status, words in cases:
        response, code, _ = complain(browser, school=world.a, **kwargs)
        text = response.get_data(as_text=True)
        assert response.status_code == status, (kwargs.keys(), response.status_code, text[:300])
        assert words in text, (words, text[:2000])
        assert code is None
    assert _count(app, Complaint) == 0 and _count(app, Photo) == 0


def test_a_body_over_the_upload_limit_is_413_in_chinese(app, browser, world):
    # Past MAX_CONTENT_LENGTH the body is refused before it is read (raw bytes: no spooled file).
    raw = (b"--B\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"x.jpg\"\r\n\r\n"
           + b"\xff" * (21 * 1024 * 1024) + b"\r\n--B--\r\n")
    response = browser.post(f"/complaints/new?school_id={world.a.id}", data=raw,
                            content_type="multipart/form-data; boundary=B")
    assert response.status_code == 413
    assert "太大" in response.get_data(as_text=True)
    assert _count(app, Complaint) == 0


def test_an_unknown_school_or_a_replaced_poster_is_refused(app, browser, world, login_as):
    assert browser.get("/complaints/new?school_id=999999").status_code == 404
    assert "请从列表中选择学校" in browser.get("/complaints/new?school_id=999999").get_data(as_text=True)
    assert browser.get("/complaints/new?qr=not-ours").status_code == 404
    admin = login_as("admin")
    admin.form_post(f"/schools/{world.a.id}/rotate-qr")
    replaced = browser.get(f"/complaints/new?qr={world.a.qr_token}")
    assert replaced.status_code == 410 and "已更换" in replaced.get_data(as_text=True)
    token = browser.csrf()
    posted = browser.post(f"/complaints/new?qr={world.a.qr_token}", data={"csrf_token": token, "text": "x"})
    assert posted.status_code == 410
    assert _count(app, Complaint) == 0


def test_the_school_picker_finds_schools_by_name(browser, world):
    page = browser.get("/complaints/new?q=甲").get_data(as_text=True)
    assert f"/complaints/new?school_id={world.a.id}" in page and "乙校" not in page


def test_submissions_are_limited_per_address_with_retry_after(app, browser, world, complain, make_browser):
    app.config["COMPLAINTS_PER_ADDRESS_PER_HOUR"] = 2
    try:
        for n in range(2):
            assert complain(browser, school=world.a, text=f"问题 {n}")[1]
        response, code, _ = complain(make_browser(), school=world.b, text="第三件")
        assert response.status_code == 429 and code is None
        assert int(response.headers["Retry-After"]) > 0
        assert "请在" in response.get_data(as_text=True)
        other_address = make_browser()
        page = other_address.get(f"/complaints/new?school_id={world.b.id}",
                                 environ_base={"REMOTE_ADDR": "10.9.9.9"})
        assert page.status_code == 200
        from inspect_app.complaints import limits
        with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):  # the test client's address
            assert limits._submissions().count(limits.client_key()) == 2  # wherever they live (database, Redis)
    finally:
        app.config["COMPLAINTS_PER_ADDRESS_PER_HOUR"] = 5
    assert _count(app, Complaint) == 2


def test_submissions_are_limited_per_school(app, world, complain, make_browser):
    app.config["COMPLAINTS_PER_SCHOOL_PER_DAY"] = 1
    try:
        assert complain(make_browser(), school=world.a)[1]
        browser = make_browser()
        browser.environ_base["REMOTE_ADDR"] = "10.1.2.3"
        response, _, _ = complain(browser, school=world.a, text="又一件")
        assert response.status_code == 429 and "Retry-After" in response.headers
        assert complain(browser, school=world.b, text="别的学校")[1]
    finally:
        app.config["COMPLAINTS_PER_SCHOOL_PER_DAY"] = 30


def test_guessing_codes_is_limited_and_logged(app, browser, world, complain, caplog):
    _, code, _ = complain(browser, school=world.a)
    app.config["COMPLAINT_CODE_MISSES_PER_HOUR"] = 3
    try:
        with caplog.at_level(logging.WARNING):
            wrong = browser.get("/c/JY-2222-2222-2222")
            assert wrong.status_code == 404 and "没有这个跟踪码" in wrong.get_data(as_text=True)
            malformed = browser.get("/c/abc")
            assert malformed.status_code == 404 and "JY-" in malformed.get_data(as_text=True)
            assert browser.get("/api/v1/complaints/JY-3333-3333-3333").status_code == 404
            refused = browser.get(f"/c/{code}")  # even the right code waits once the address kept missing
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert sum("complaint code miss" in r.getMessage() for r in caplog.records) == 3
        other = app.test_client()
        assert other.get(f"/c/{code}", environ_base={"REMOTE_ADDR": "10.7.7.7"}).status_code == 200
    finally:
        app.config["COMPLAINT_CODE_MISSES_PER_HOUR"] = 20


def test_a_photo_over_its_own_limit_is_413_with_nothing_stored(app, browser, world, complain, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 1000)
    response, code, _ = complain(browser, school=world.a, photos=[(io.BytesIO(jpeg_bytes(size=(400, 400))), "a.jpg")])
    assert response.status_code == 413 and code is None
    assert "照片太大" in response.get_data(as_text=True)
    assert _count(app, Complaint) == 0 and _count(app, Photo) == 0
