"""The visit in the browser: start from the school page, answer, photograph, submit once."""
import io
import re

import sqlalchemy as sa

from inspect_app.checklists.models import ChecklistTemplate
from inspect_app.extensions import db
from inspect_app.visits.models import Finding, Visit, VisitStatus
from tests.conftest import form_fields, jpeg_bytes


def _start(browser, school, templates, mode="overt", template="onsite", **extra):
    data = {"school_id": school.id, "mode": mode, "template_id": templates[template].id,
            "lat": "31.9011", "lon": "120.2811", "accuracy_m": "12",
            "client_time": "2026-01-01T00:00:00+00:00"}
    data.update(extra)
    return browser.form_post("/visits/start", data)


def _visit(app, visit_id):
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        return visit, visit.school.radius_m


def _answer(browser, visit_id, code, result, token):
    return browser.post(f"/visits/{visit_id}/items/{code}", data={"result": result, "csrf_token": token})


def test_the_whole_loop_in_the_browser(login_as, world, templates, db):
    browser = login_as("inspector")
    start = _start(browser, world.a, templates, qr_token=world.a.qr_token)
    assert start.status_code == 302
    visit_id = start.headers["Location"].rsplit("/", 1)[1]
    visit = db.session.get(Visit, visit_id)
    assert visit.status is VisitStatus.IN_PROGRESS and visit.qr_scanned
    assert visit.distance_m is not None and visit.accuracy_m == 12
    assert visit.clock_skew_s > 3600  # the phone said 2026-01-01

    token = browser.csrf()
    codes = templates["onsite"].codes
    for code in codes:
        response = _answer(browser, visit_id, code, "fail" if code == "G1" else "pass", token)
        # Without the page's script the answer is a plain form: back to the checklist at that item.
        assert response.status_code == 302 and response.headers["Location"].endswith(f"#item-{code}")

    # A failed item that needs a photo blocks submission, and the page says which.
    page = browser.get(f"/visits/{visit_id}").get_data(as_text=True)
    last = page.split(f'id="item-{codes[-1]}"')[1].split("</article>")[0]
    assert re.search(r'choice-pass"\s+aria-pressed="true"', last)
    assert f"{len(codes)} / {len(codes)}" in page
    assert "第 1 项需要照片" in page and "disabled" in page
    refused = browser.form_post(f"/visits/{visit_id}/submit")
    assert refused.status_code == 422
    finding_id = db.session.scalar(sa.select(Finding.id).where(Finding.visit_id == visit_id))

    photo = browser.post(f"/visits/{visit_id}/findings/{finding_id}/photos",
                         data={"csrf_token": token, "file": (io.BytesIO(jpeg_bytes()), "p.jpg"),
                               "lat": "31.9", "lon": "120.28", "accuracy_m": "8"},
                         content_type="multipart/form-data")
    assert photo.status_code == 302 and photo.headers["Location"].endswith(f"#finding-{finding_id}")
    page = browser.get(f"/visits/{visit_id}").get_data(as_text=True)
    assert re.search(r'<img src="/photos/[0-9a-f-]{36}/thumb"', page)
    assert "第 1 项需要照片" not in page

    described = browser.post(f"/visits/{visit_id}/findings/{finding_id}", data={
        "csrf_token": token, "description": "校门无人测温", "severity": "critical"})
    assert described.status_code == 302
    assert "校门无人测温" in browser.get(f"/visits/{visit_id}").get_data(as_text=True)

    submitted = browser.form_post(f"/visits/{visit_id}/submit", {"client_time": ""})
    assert submitted.status_code == 302
    summary = browser.get(submitted.headers["Location"]).get_data(as_text=True)
    assert "已提交" in summary and "校门无人测温" in summary and "到场核验" in summary

    # Submitted means frozen.
    again = _answer(browser, visit_id, "G1", "pass", token)
    assert again.status_code == 409
    assert "不能再修改" in again.get_data(as_text=True)


def test_answers_survive_a_reload_and_a_change_of_mind_removes_the_finding(login_as, world, templates, db):
    browser = login_as("inspector")
    visit_id = _start(browser, world.a, templates).headers["Location"].rsplit("/", 1)[1]
    token = browser.csrf()
    _answer(browser, visit_id, "G2", "fail", token)
    page = browser.get(f"/visits/{visit_id}").get_data(as_text=True)
    item = page.split('id="item-G2"')[1].split("</article>")[0]
    assert re.search(r'choice-fail"\s+aria-pressed="true"', item)
    assert 'class="finding"' in item
    _answer(browser, visit_id, "G2", "pass", token)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Finding)
                             .where(Finding.visit_id == visit_id)) == 0


def test_the_start_page_offers_what_the_role_may_start(login_as, world, templates):
    inspector = login_as("inspector").get(f"/schools/{world.a.id}").get_data(as_text=True)
    assert "开始检查" in inspector and "开始暗访" in inspector
    volunteer = login_as("volunteer").get(f"/s/{world.a.qr_token}").get_data(as_text=True)
    # Covert first (the primary button), then the open visit as a parent (明查).
    assert 'name="mode" value="covert"' in volunteer and 'value="overt"' in volunteer
    assert volunteer.index('value="covert"') < volunteer.index('value="overt"')
    assert "暗访" not in volunteer.split("<main")[1].split("</main>")[0]  # nothing on screen says "covert"
    officer = login_as("officer").get(f"/schools/{world.a.id}").get_data(as_text=True)
    assert "今日自查" in officer and 'value="overt"' not in officer and 'value="covert"' not in officer
    admin = login_as("admin").get(f"/schools/{world.a.id}").get_data(as_text=True)
    assert "visits/start" not in admin


def test_duty_officers_self_check_only_their_own_school(login_as, world, templates):
    officer = login_as("officer")
    assert _start(officer, world.a, templates, mode="overt").status_code == 403
    assert _start(officer, world.a, templates, mode="covert", template="covert").status_code == 403
    assert _start(officer, world.b, templates, mode="self_check", template="selfcheck").status_code == 403
    started = _start(officer, world.a, templates, mode="self_check", template="selfcheck")
    assert started.status_code == 302
    # The self-check under way is continued from the school page, not started a second time.
    page = officer.get(f"/schools/{world.a.id}").get_data(as_text=True)
    assert "继续检查" in page and f'href="{started.headers["Location"]}"' in page and "今日自查" not in page


def test_volunteers_start_covert_checks_where_assigned_only(login_as, world, templates):
    volunteer = login_as("volunteer")
    assert _start(volunteer, world.a, templates, mode="covert", template="covert").status_code == 302
    assert _start(volunteer, world.b, templates, mode="covert", template="covert").status_code == 403
    # The poster adds nothing to the assignment (tests/visits/test_volunteer_access.py covers every path).
    assert _start(volunteer, world.b, templates, mode="covert", template="covert",
                  qr_token=world.b.qr_token).status_code == 403
    assert _start(volunteer, world.a, templates, mode="overt", template="onsite").status_code == 422
    assert _start(volunteer, world.b, templates, mode="overt", template="parent_overt").status_code == 403
    assert _start(volunteer, world.a, templates, mode="overt", template="parent_overt").status_code == 302
    # A template of another mode is refused even where the mode is allowed.
    assert _start(volunteer, world.a, templates, mode="covert", template="onsite").status_code == 422


def test_a_visit_in_progress_is_private_to_its_author(login_as, world, templates, make_visit):
    draft = make_visit(world.inspector, world.a, submit=False)
    for who in ("officer", "volunteer"):
        assert login_as(who).get(f"/visits/{draft.id}").status_code == 404
    other = login_as("leader")
    assert other.get(f"/visits/{draft.id}").status_code == 200
    assert other.form_post(f"/visits/{draft.id}/items/G1", {"result": "pass"}).status_code == 403


def test_the_school_sees_a_submitted_visit_without_its_source(login_as, world, templates, make_visit):
    done = make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V1",))
    page = login_as("officer").get(f"/visits/{done.id}").get_data(as_text=True)
    assert "督查组" in page
    assert "志愿者" not in page and "到场核验" not in page
    assert not re.search(r"\d{2}:\d{2}", page.split("<main")[1].split("</main>")[0])


def test_an_edited_template_makes_a_new_version_and_answered_visits_keep_theirs(
        login_as, world, templates, make_visit, db):
    done = make_visit(world.inspector, world.a)
    admin = login_as("admin")
    page = admin.get(f"/checklists/{templates['onsite'].id}/edit").get_data(as_text=True)
    data = form_fields(page, action=None)
    data["note"] = "改写第一项"
    data["items-0-text_zh"] = "校门测温点设置规范（新版）"
    response = admin.form_post(f"/checklists/{templates['onsite'].id}/edit", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    template = db.session.get(ChecklistTemplate, templates["onsite"].id)
    assert template.current_version.number == 2
    assert template.current_version.items[0].text_zh == "校门测温点设置规范（新版）"
    old = db.session.get(Visit, done.id)
    assert old.version.number == 1 and old.version.items[0].text_zh != "校门测温点设置规范（新版）"
    inspector_page = login_as("inspector").get(f"/visits/{done.id}").get_data(as_text=True)
    assert "校门测温点设置规范（新版）" not in inspector_page


def test_bad_photo_uploads_get_a_clear_message_and_leave_nothing_behind(login_as, world, templates, db):
    browser = login_as("inspector")
    visit_id = _start(browser, world.a, templates).headers["Location"].rsplit("/", 1)[1]
    token = browser.csrf()
    _answer(browser, visit_id, "G1", "fail", token)
    finding_id = db.session.scalar(sa.select(Finding.id).where(Finding.visit_id == visit_id))
    from inspect_app.photos.storage import storage
    store = storage()
    before = sorted(store.keys())
    for payload, status, message in [
        (b"<svg><script>alert(1)</script></svg>", 415, "无法识别该照片"),
        (b"", 422, None),
        (jpeg_bytes()[:200], 422, "照片文件已损坏"),
    ]:
        response = browser.post(f"/visits/{visit_id}/findings/{finding_id}/photos",
                                data={"csrf_token": token, "file": (io.BytesIO(payload), "x.jpg")},
                                content_type="multipart/form-data")
        assert response.status_code == status
        if message:
            assert message in response.get_data(as_text=True)
    assert sorted(store.keys()) == before


def test_a_volunteer_never_checks_the_school_their_child_attends(db, login_as, world, templates):
    import sqlalchemy as sa

    from inspect_app.schools.models import volunteer_child_schools
    db.session.execute(sa.insert(volunteer_child_schools), [{"user_id": world.volunteer.id,
                                                             "school_id": world.a.id}])
    db.session.commit()
    volunteer = login_as("volunteer")
    # Assigned and holding the poster: still refused, and the school is not in their list.
    assert _start(volunteer, world.a, templates, mode="covert", template="covert",
                  qr_token=world.a.qr_token).status_code == 403
    assert "甲校" not in volunteer.get("/schools/").get_data(as_text=True)
    assert 'value="covert"' not in volunteer.get(f"/s/{world.a.qr_token}").get_data(as_text=True)


def test_the_admin_records_a_volunteers_child_school(db, login_as, world):
    import sqlalchemy as sa

    from inspect_app.schools.models import volunteer_child_schools
    admin = login_as("admin")
    response = admin.form_post("/accounts/users/new", {
        "username": "parent7", "display_name": "王家长", "role": "volunteer", "pseudonym": "志愿者77",
        "school_id": "0", "child_school_ids": [str(world.b.id)], "password": "a-long-password"})
    assert response.status_code == 302
    rows = db.session.execute(sa.select(volunteer_child_schools.c.school_id)).scalars().all()
    assert rows == [world.b.id]
