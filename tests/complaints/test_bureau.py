"""The bureau's side: the queue and its duplicates, triage (each audited, each shown to the public),
the two roads to "resolved" (a ticket closed out, a planned check made), hotline logging, the
contact's retention, overdue triage; and the API that does the same."""
from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from inspect_app.audit.models import AuditEntry
from inspect_app.complaints.models import Complaint, ComplaintStatus
from inspect_app.extensions import db
from inspect_app.plans.models import Task, TaskStatus
from inspect_app.tickets.models import Ticket
from tests.conftest import form_fields, jpeg_bytes



def _file(client, school_id, text="食堂后门的消毒柜一直没开，餐具堆在外面。", contact=None, **extra):
    body = {"school_id": school_id, "text": text, "idempotency_key": str(uuid.uuid4()), **extra}
    if contact:
        body["contact"] = contact
    response = client.post("/api/v1/complaints", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["tracking_code"]


def _complaint(app, code=None) -> Complaint:
    with app.app_context():
        return db.session.scalars(sa.select(Complaint).order_by(Complaint.id.desc())).first()


def _public(client, code) -> dict:
    response = client.get(f"/api/v1/complaints/{code}")
    assert response.status_code == 200
    return response.get_json()


def test_the_api_files_a_complaint_once_per_key_and_answers_the_public_view(app, db, world):
    client = app.test_client()
    body = {"qr": world.a.qr_token, "text": "门卫不在岗", "idempotency_key": str(uuid.uuid4()),
            "contact": "parent@example.com"}
    first = client.post("/api/v1/complaints", json=body)
    assert first.status_code == 201 and first.get_json()["status"] == "received"
    again = client.post("/api/v1/complaints", json=body)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    code = first.get_json()["tracking_code"]
    view = _public(client, code)
    assert view == {"status": "received", "received_at": view["received_at"], "replies": []}
    assert len(view["received_at"]) == 10  # a day, not a time
    multipart = client.post("/api/v1/complaints", data={
        "school_id": str(world.b.id), "text": "操场有碎玻璃", "photo": [(io.BytesIO(jpeg_bytes()), "a.jpg"),
                                                                   (io.BytesIO(jpeg_bytes(color=(1, 2, 3))), "b.jpg")]},
        content_type="multipart/form-data")
    assert multipart.status_code == 201, multipart.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 2
    assert len(db.session.scalars(sa.select(Complaint).where(Complaint.school_id == world.b.id)).one().photos) == 2


def test_the_api_refuses_each_bad_input(app, db, world, login_as):
    client = app.test_client()
    cases = [({"school_id": world.a.id, "text": ""}, 422), ({"school_id": world.a.id, "text": "x" * 2001}, 422),
             ({"school_id": 999999, "text": "x"}, 404), ({"qr": "nope", "text": "x"}, 404),
             ({"school_id": world.a.id, "text": "x", "idempotency_key": "not-a-uuid"}, 422),
             ({"school_id": world.a.id, "text": "x", "contact": "1" * 101}, 422),
             ({"school_id": world.a.id, "text": "x", "extra": 1}, 422), ({"text": "x"}, 422)]
    for body, status in cases:
        response = client.post("/api/v1/complaints", json=body)
        assert response.status_code == status, (body, response.get_json())
        assert response.get_json()["error"]["message"]
    too_many = client.post("/api/v1/complaints", data={
        "school_id": str(world.a.id), "text": "x",
        "photo": [(io.BytesIO(jpeg_bytes(color=(i, 1, 1))), f"{i}.jpg") for i in range(5)]},
        content_type="multipart/form-data")
    assert too_many.status_code == 413 and "最多 4 张" in too_many.get_json()["error"]["message"]
    assert client.get("/api/v1/complaints/JY-0000").status_code == 404
    login_as("admin").form_post(f"/schools/{world.a.id}/rotate-qr")
    assert client.post("/api/v1/complaints", json={"qr": world.a.qr_token, "text": "x"}).status_code == 410
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 0


def test_duplicates_are_grouped_and_the_queue_filters(app, world, login_as, api_token):
    client = app.test_client()
    _file(client, world.a.id, "食堂后门的消毒柜一直没开，餐具堆在外面。")
    _file(client, world.a.id, "食堂后门消毒柜一直没有开，餐具都堆在外面")
    _file(client, world.a.id, "放学时校门口没有老师看护")
    _file(client, world.b.id, "食堂后门的消毒柜一直没开，餐具堆在外面。")
    listed = client.get("/api/v1/complaints", headers=api_token("inspector")).get_json()["complaints"]
    assert len(listed) == 4
    grouped = {c["text"]: c["duplicate_of_group"] for c in listed if c["school_id"] == world.a.id}
    assert len(grouped["食堂后门的消毒柜一直没开，餐具堆在外面。"]) == 1
    assert grouped["放学时校门口没有老师看护"] == []
    only_b = client.get(f"/api/v1/complaints?school_id={world.b.id}", headers=api_token("leader")).get_json()
    assert [c["school_id"] for c in only_b["complaints"]] == [world.b.id]
    page = login_as("inspector").get("/complaints/?status=received").get_data(as_text=True)
    assert "该校几天内有 2 件相似投诉" in page
    assert "乙校" not in login_as("inspector").get(f"/complaints/?school_id={world.a.id}").get_data(as_text=True)
    for who in ("officer", "volunteer"):
        assert client.get("/api/v1/complaints", headers=api_token(who)).status_code == 403


def test_only_triage_staff_see_the_contact(app, world, login_as, api_token):
    _file(app.test_client(), world.a.id, contact="13912345678")
    complaint = _complaint(app)
    assert "13912345678" in login_as("inspector").get(f"/complaints/{complaint.id}").get_data(as_text=True)
    assert "13912345678" not in login_as("admin").get(f"/complaints/{complaint.id}").get_data(as_text=True)
    listed = app.test_client().get("/api/v1/complaints", headers=api_token("admin")).get_json()["complaints"]
    assert "contact" not in listed[0]
    listed = app.test_client().get("/api/v1/complaints", headers=api_token("leader")).get_json()["complaints"]
    assert listed[0]["contact"] == "13912345678"


def test_a_complaint_handed_to_the_school_resolves_when_the_ticket_is_closed_out(app, db, world, templates, login_as,
                                                                                  api_token):
    public = app.test_client()
    code = _file(public, world.a.id, contact="13912345678")
    complaint = _complaint(app)
    inspector = login_as("inspector")
    page = inspector.get(f"/complaints/{complaint.id}").get_data(as_text=True)
    fields = form_fields(page, f"/complaints/{complaint.id}/triage")
    response = inspector.post(f"/complaints/{complaint.id}/triage", data=dict(
        fields, action="ticket", problem="食堂消毒柜未按规定使用", severity="major", reply=""))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    view = _public(public, code)
    assert view["status"] == "triaged" and "交学校整改" in view["replies"][0]["text"]
    assert "已交学校整改" in public.get(f"/c/{code}").get_data(as_text=True)
    ticket = db.session.scalar(sa.select(Ticket))
    ticket_id = ticket.id
    assert ticket.problem_text == "食堂消毒柜未按规定使用" and ticket.finding_id is None
    assert db.session.get(Complaint, complaint.id).ticket_id == ticket_id
    audited = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.object_type == "complaints")).all()
    assert any(e.action == "update" and "triaged" in e.data for e in audited)
    assert all("13912345678" not in e.data for e in audited)
    # The school's side of it: the problem in the bureau's words, never the complainant.
    officer = login_as("officer")
    ticket_page = officer.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "食堂消毒柜未按规定使用" in ticket_page and "13912345678" not in ticket_page
    assert "消毒柜一直没开" not in ticket_page
    headers = api_token("officer")
    assert public.put(f"/api/v1/tickets/{ticket_id}/responses/{uuid.uuid4()}", headers=headers,
                      json={"text": "已整改"}).status_code == 201
    verifier = api_token("leader")
    photo_id = str(uuid.uuid4())
    assert public.put(f"/api/v1/photos/{photo_id}", headers=verifier, content_type="multipart/form-data",
                      data={"file": (io.BytesIO(jpeg_bytes()), "p.jpg")}).status_code == 201
    # A problem at the school, not a document: not closed from the desk, but on a follow-up visit there.
    desk = public.put(f"/api/v1/tickets/{ticket_id}/verifications/{uuid.uuid4()}", headers=verifier,
                      json={"outcome": "close", "photo_ids": [photo_id]})
    assert desk.status_code == 422 and desk.get_json()["error"]["code"] == "needs_follow_up_visit"
    from tests.tickets.test_follow_up_visit import _follow_up
    closed = public.put(f"/api/v1/visits/{uuid.uuid4()}", headers=verifier, json=_follow_up(
        world, templates, [{"ticket_id": ticket_id, "outcome": "close", "photo_ids": [photo_id]}]))
    assert closed.status_code == 201, closed.get_json()
    view = _public(public, code)
    assert view["status"] == "resolved" and "已整改" in view["replies"][-1]["text"]
    assert "已办结" in public.get(f"/c/{code}").get_data(as_text=True)


def test_a_planned_check_is_sealed_from_the_school_and_resolves_the_complaint(
        app, db, world, login_as, api_token, make_visit):
    public = app.test_client()
    code = _file(public, world.a.id)
    complaint = _complaint(app)
    inspector = api_token("inspector")
    # The bureau's day when the test runs (not when the module was imported: a suite may cross midnight).
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    refused = public.post(f"/api/v1/complaints/{complaint.id}/triage", headers=inspector, json={
        "action": "visit", "assignee_id": world.volunteer.id, "window_start": today.isoformat(),
        "window_end": (today - timedelta(days=1)).isoformat()})
    assert refused.status_code == 422
    planned = public.post(f"/api/v1/complaints/{complaint.id}/triage", headers=inspector, json={
        "action": "visit", "assignee_id": world.volunteer.id, "window_start": today.isoformat(),
        "window_end": (today + timedelta(days=3)).isoformat(), "reply": "我们会尽快核查"})
    assert planned.status_code == 200, planned.get_json()
    assert _public(public, code)["status"] == "visit_planned"
    again = public.post(f"/api/v1/complaints/{complaint.id}/triage", headers=inspector,
                        json={"action": "reject", "reply": "重复"})
    assert again.status_code == 409
    tasks = public.get("/api/v1/tasks", headers=api_token("volunteer")).get_json()["tasks"]
    assert [(t["school_id"], t["mode"], t["status"]) for t in tasks] == [(world.a.id, "covert", "open")]
    assert public.get("/api/v1/tasks", headers=api_token("officer")).status_code == 403
    assert public.get("/api/v1/tasks", headers=inspector).get_json()["tasks"] == []
    home = login_as("volunteer").get("/").get_data(as_text=True)
    assert "我的任务" in home and "甲校" in home
    make_visit(world.volunteer, world.a, template="covert", mode="covert", fail=("V3",))
    task = db.session.scalar(sa.select(Task))
    assert task.status is TaskStatus.DONE and task.visit_id
    view = _public(public, code)
    assert view["status"] == "resolved"
    assert [r["text"] for r in view["replies"]][0] == "我们会尽快核查"


def test_rejecting_needs_a_public_reason_and_only_triage_staff_may(app, world, api_token, login_as):
    public = app.test_client()
    code = _file(public, world.a.id)
    complaint = _complaint(app)
    url = f"/api/v1/complaints/{complaint.id}/triage"
    assert public.post(url, headers=api_token("admin"), json={"action": "reject", "reply": "x"}).status_code == 403
    assert public.post(url, headers=api_token("officer"), json={"action": "reject", "reply": "x"}).status_code == 404
    assert public.post(url, headers=api_token("leader"), json={"action": "reject"}).status_code == 422
    page = login_as("leader")
    fields = form_fields(page.get(f"/complaints/{complaint.id}").get_data(as_text=True),
                         f"/complaints/{complaint.id}/triage")
    empty = page.post(f"/complaints/{complaint.id}/triage", data=dict(fields, action="reject", reply=""))
    assert empty.status_code == 422 and "请填写投诉人将看到的理由" in empty.get_data(as_text=True)
    done = public.post(url, headers=api_token("leader"), json={"action": "reject", "reply": "不属于教育部门职责"})
    assert done.status_code == 200 and "contact" in done.get_json()
    view = _public(public, code)
    assert view["status"] == "rejected" and view["replies"][0]["text"] == "不属于教育部门职责"
    assert "leader" not in str(view)  # never a staff name


def test_staff_log_a_hotline_complaint_and_read_the_code_back(app, db, world, login_as):
    inspector = login_as("inspector")
    page = inspector.get("/complaints/log").get_data(as_text=True)
    fields = form_fields(page)
    response = inspector.post("/complaints/log", data=dict(fields, source="phone", school=str(world.b.id),
                                                           text="来电反映校车超载", contact="13700000000"),
                              content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "请把跟踪码读给来电人" in text
    from tests.complaints.conftest import CODE_RE
    code = CODE_RE.search(text).group(0)
    assert app.test_client().get(f"/api/v1/complaints/{code}").get_json()["status"] == "received"
    complaint = db.session.scalar(sa.select(Complaint))
    assert complaint.source.value == "phone" and complaint.logged_by_id == world.inspector.id
    unknown = inspector.post("/complaints/log", data=dict(form_fields(inspector.get("/complaints/log").get_data(
        as_text=True)), school="", text="x"), content_type="multipart/form-data")
    assert unknown.status_code == 422 and "请从列表中选择学校" in unknown.get_data(as_text=True)


def test_contacts_are_erased_after_the_retention_period_by_the_command(app, db, world, api_token):
    public = app.test_client()
    _file(public, world.a.id, contact="13911112222")
    _file(public, world.a.id, text="另一件事：操场围栏破损", contact="13933334444")
    old, recent = [c.id for c in db_all(app)]
    for complaint_id in (old, recent):
        public.post(f"/api/v1/complaints/{complaint_id}/triage", headers=api_token("leader"),
                    json={"action": "reject", "reply": "不属于职责范围"})
    db.session.execute(sa.update(Complaint).where(Complaint.id == old).values(
        closed_at=datetime.now(timezone.utc) - timedelta(days=91)))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["complaints", "purge-contacts"])
    assert result.exit_code == 0 and "1" in result.output
    assert db.session.get(Complaint, old).contact is None
    assert db.session.get(Complaint, old).contact_erased_at is not None
    assert db.session.get(Complaint, recent).contact == "13933334444"
    chain = " ".join(e.data for e in db.session.scalars(sa.select(AuditEntry)))
    assert "13911112222" not in chain and "13933334444" not in chain


def db_all(app) -> list[Complaint]:
    with app.app_context():
        return db.session.scalars(sa.select(Complaint).order_by(Complaint.id)).all()


def test_untriaged_after_two_working_days_is_overdue(app, db, world, login_as):
    from inspect_app.complaints.services import triage_cutoff
    tz = timezone(timedelta(hours=8))
    # Received Thursday: Friday and Monday are its two working days; overdue from Tuesday.
    monday = datetime(2026, 1, 5, 10, tzinfo=tz)
    assert triage_cutoff(monday + timedelta(days=1)) == datetime(2026, 1, 2, tzinfo=tz)
    assert triage_cutoff(monday) == datetime(2026, 1, 1, tzinfo=tz)
    _file(app.test_client(), world.a.id)
    db.session.execute(sa.update(Complaint).values(received_at=datetime.now(timezone.utc) - timedelta(days=6)))
    db.session.commit()
    assert "超过两个工作日未处理" in login_as("leader").get("/complaints/").get_data(as_text=True)
    assert "超过两个工作日未处理" in login_as("leader").get("/reports/").get_data(as_text=True)
