"""The school's daily report (日报告/零报告): filing in one tap or with numbers, late across the
deadline, corrections as versions, idempotent retries, refused input, the bureau's day view with its
fever-jump warning, the reminders, and a school never seeing another school's report."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from inspect_app.accounts.models import User
from inspect_app.duties import services
from inspect_app.duties.models import SelfReport
from inspect_app.extensions import db
from inspect_app.idempotency import first_writer_wins

SHANGHAI = timezone(timedelta(hours=8))


def today() -> date:
    return datetime.now(SHANGHAI).date()


def file(app, who, day: date, now: datetime | None = None, client_id: str | None = None, **fields):
    """File through the service as `who` (a world user) at `now`: (version, created, late)."""
    with app.test_request_context("/"):
        user = db.session.get(User, who.id)
        report, created = first_writer_wins(lambda: services.file_report(
            user, day, services.ReportFields(**fields), client_id, now))
        return report.version, created, report.late


def rows(app, school_id: int) -> list[SelfReport]:
    with app.app_context():
        return list(db.session.scalars(sa.select(SelfReport).where(SelfReport.school_id == school_id)
                                       .order_by(SelfReport.version)))


def due(app, day: date) -> datetime:
    with app.test_request_context("/"):
        return services.deadline(day)


# Filing on the phone's page

def test_zero_report_in_one_tap_then_the_page_says_filed(app, login_as, world):
    officer = login_as("officer")
    assert officer.get("/").headers["Location"].endswith("/duties/")  # the first screen until filed
    page = officer.get("/duties/").get_data(as_text=True)
    assert "零报告（今日无异常）" in page and "11:30 前报送" in page
    response = officer.form_post("/duties/zero", {"client_id": str(uuid.uuid4()), "day": today().isoformat()})
    assert response.status_code == 302
    [report] = rows(app, world.a.id)
    assert report.zero and report.version == 1 and report.counts() == dict.fromkeys(report.counts(), 0)
    page = officer.get("/duties/").get_data(as_text=True)
    assert "已报送" in page and "更正" in page and "零报告（今日无异常）" not in page
    assert officer.get("/").headers["Location"].endswith(f"/schools/{world.a.id}")


def test_numbers_from_the_form_and_a_correction_keeps_the_old_version(app, login_as, world):
    officer = login_as("officer")
    data = {"client_id": str(uuid.uuid4()), "day": today().isoformat(), "absent": "12", "absent_illness": "5",
            "fever": "2", "isolated": "1", "staff_absent": "0", "note": "二年级发热两人已送医"}
    assert officer.form_post("/duties/", data).status_code == 302
    officer.form_post("/duties/", data)  # the same form sent twice (a double tap): stored once
    assert [r.version for r in rows(app, world.a.id)] == [1]
    correction = dict(data, client_id=str(uuid.uuid4()), fever="3")
    assert officer.form_post("/duties/", correction).status_code == 302
    first, second = rows(app, world.a.id)
    assert (first.version, first.fever, second.version, second.fever) == (1, 2, 2, 3)
    page = officer.get("/duties/").get_data(as_text=True)
    assert "更正后版本：第 2 版" in page and "此前版本" in page


@pytest.mark.parametrize("field, value, message", [
    ("absent", "-1", "0 到 50000"), ("fever", "50001", "0 到 50000"), ("isolated", "三", "整数"),
    ("absent_illness", "13", "因病缺勤（13）不能多于缺勤总数（12）"), ("staff_absent", "", "请填写数字")])
def test_bad_numbers_on_the_page_are_said_under_their_field(app, login_as, world, field, value, message):
    officer = login_as("officer")
    data = {"client_id": str(uuid.uuid4()), "day": today().isoformat(), "absent": "12", "absent_illness": "5",
            "fever": "0", "isolated": "0", "staff_absent": "0", "note": ""}
    data[field] = value
    response = officer.form_post("/duties/", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page
    assert rows(app, world.a.id) == []


# Late across the deadline

def test_on_the_deadline_is_on_time_and_a_second_after_is_late(app, world):
    day = today()
    deadline = due(app, day)
    assert deadline.astimezone(SHANGHAI).strftime("%H:%M") == "11:30"
    assert file(app, world.officer, day, now=deadline, absent=1) == (1, True, False)
    assert file(app, world.officer_b, day, now=deadline + timedelta(seconds=1), zero=True) == (1, True, True)
    # A correction after the deadline is late itself, but the school's day stays on time.
    assert file(app, world.officer, day, now=deadline + timedelta(hours=1), absent=2) == (2, True, True)
    with app.test_request_context("/"):
        view = services.day_view(day, now=deadline + timedelta(hours=2))
    states = {s["school"]: s["state"] for s in view["schools"]}
    assert states == {"甲校": "on_time", "乙校": "late"}


def test_the_deadline_is_configurable_and_a_missed_day_can_be_filed_late(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SELF_REPORT_DEADLINE", "09:00")
    day = today()
    assert due(app, day).astimezone(SHANGHAI).strftime("%H:%M") == "09:00"
    yesterday = day - timedelta(days=1)
    assert file(app, world.officer, yesterday, zero=True)[2] is True


def test_a_bad_deadline_setting_stops_the_app(app):
    from inspect_app import create_app
    from inspect_app.config import TestConfig
    with pytest.raises(RuntimeError, match="SELF_REPORT_DEADLINE"):
        create_app(TestConfig, SELF_REPORT_DEADLINE="11h30")


# The API: idempotent PUT per the school's day

def test_put_is_idempotent_and_a_correction_is_a_new_version(app, api_token, world):
    client = app.test_client()
    officer = api_token("officer")
    url = f"/api/v1/self-reports/{today().isoformat()}"
    body = {"absent": 3, "absent_illness": 1, "fever": 1, "note": "  一人发热  "}
    first = client.put(url, headers=officer, json=body)
    assert first.status_code == 201, first.get_json()
    answer = first.get_json()
    assert answer["version"] == 1 and answer["note"] == "一人发热" and answer["counts"]["fever"] == 1
    assert answer["deadline"].endswith("+08:00") and "filed_by" not in answer
    assert client.put(url, headers=officer, json=body).status_code == 200  # a retry stores once
    corrected = client.put(url, headers=officer, json=dict(body, fever=2))
    assert corrected.status_code == 201 and corrected.get_json()["version"] == 2
    assert [r.fever for r in rows(app, world.a.id)] == [1, 2]


def test_a_late_replay_of_an_earlier_filing_does_not_undo_the_correction(app, api_token, world):
    client = app.test_client()
    officer = api_token("officer")
    url = f"/api/v1/self-reports/{today().isoformat()}"
    first_id, second_id = str(uuid.uuid4()), str(uuid.uuid4())
    assert client.put(url, headers=officer, json={"zero": True, "client_id": first_id}).status_code == 201
    assert client.put(url, headers=officer, json={"fever": 4, "absent": 4, "absent_illness": 4,
                                                  "client_id": second_id}).status_code == 201
    replay = client.put(url, headers=officer, json={"zero": True, "client_id": first_id})
    assert replay.status_code == 200 and replay.get_json()["version"] == 1
    assert len(rows(app, world.a.id)) == 2
    reused = client.put(url, headers=officer, json={"fever": 9, "absent": 9, "client_id": first_id})
    assert reused.status_code == 409


@pytest.mark.parametrize("body, status, words", [
    ({"absent": -1}, 422, "absent"), ({"absent": 50_001}, 422, "50000"), ({"fever": "3"}, 400, "fever"),
    ({"fever": True}, 400, "fever"), ({"fever": 1.5}, 400, "fever"),
    ({"absent": 2, "absent_illness": 3}, 422, "不能多于"), ({"zero": True, "fever": 1}, 422, "零报告"),
    ({"feaver": 1}, 422, "feaver"), ({"note": "字" * 1001}, 422, "note"), ({"client_id": "x"}, 422, "client_id"),
])
def test_bad_input_over_the_api(app, api_token, world, body, status, words):
    response = app.test_client().put(f"/api/v1/self-reports/{today().isoformat()}", headers=api_token("officer"),
                                     json=body)
    assert response.status_code == status, response.get_json()
    assert words in response.get_json()["error"]["message"]
    assert rows(app, world.a.id) == []


def test_days_that_cannot_be_filed(app, api_token, world):
    client = app.test_client()
    officer = api_token("officer")
    tomorrow = (today() + timedelta(days=1)).isoformat()
    refused = client.put(f"/api/v1/self-reports/{tomorrow}", headers=officer, json={"zero": True})
    assert refused.status_code == 422 and "还没有到" in refused.get_json()["error"]["message"]
    old = (today() - timedelta(days=40)).isoformat()
    assert client.put(f"/api/v1/self-reports/{old}", headers=officer, json={"zero": True}).status_code == 422
    assert client.put("/api/v1/self-reports/2026-13-01", headers=officer, json={"zero": True}).status_code == 404
    assert rows(app, world.a.id) == []


@pytest.mark.parametrize("who", ["admin", "leader", "inspector", "volunteer"])
def test_only_a_duty_officer_files(app, api_token, who):
    response = app.test_client().put(f"/api/v1/self-reports/{today().isoformat()}", headers=api_token(who),
                                     json={"zero": True})
    assert response.status_code == 403


# The bureau's day

def test_the_bureau_sees_reported_late_missing_totals_and_jumps(app, world, make_school, make_user, api_token,
                                                                 login_as, monkeypatch):
    c = make_school(name="丙校", district="南闸街道")
    officer_c = make_user("duty_officer", school_id=c.id)
    day = today()
    deadline = due(app, day)
    for back, fever in ((1, 1), (2, 0), (3, 2)):  # 甲校's week: an average of 1
        file(app, world.officer, day - timedelta(days=back), now=deadline - timedelta(days=back), fever=fever,
             absent=fever, absent_illness=fever)
    file(app, world.officer, day, now=deadline - timedelta(hours=1), absent=6, absent_illness=5, fever=4)
    file(app, officer_c, day, now=deadline + timedelta(minutes=5), absent=1, absent_illness=1, fever=1)
    with app.test_request_context("/"):
        view = services.day_view(day, now=deadline + timedelta(hours=1))
    by_name = {s["school"]: s for s in view["schools"]}
    assert by_name["甲校"]["state"] == "on_time" and by_name["甲校"]["jump"] and by_name["甲校"]["average"] == 1.0
    assert by_name["乙校"]["state"] == "missing" and not by_name["乙校"]["jump"]
    assert by_name["丙校"]["state"] == "late" and not by_name["丙校"]["jump"]  # 1 above nothing is no jump
    districts = {d["district"]: d for d in view["districts"]}
    assert (districts["澄江街道"]["reported"], districts["澄江街道"]["missing"], districts["澄江街道"]["fever"]) == (1, 1, 4)
    assert (districts["南闸街道"]["late"], districts["南闸街道"]["fever"]) == (1, 1)
    # Before the deadline a school without a report is still in time, not missing.
    with app.test_request_context("/"):
        early = services.day_view(day, now=deadline - timedelta(minutes=1))
    assert {s["school"]: s["state"] for s in early["schools"]}["乙校"] == "pending"
    # A higher threshold: no jump.
    monkeypatch.setitem(app.config, "SELF_REPORT_FEVER_JUMP", 4)
    with app.test_request_context("/"):
        assert services.day_view(day, now=deadline)["jumps"] == []
    monkeypatch.setitem(app.config, "SELF_REPORT_FEVER_JUMP", 3)

    listed = app.test_client().get(f"/api/v1/self-reports?date={day.isoformat()}", headers=api_token("leader"))
    assert listed.status_code == 200, listed.get_json()
    data = listed.get_json()
    assert {r["school"]: r["jump"] for r in data["reports"]} == {"甲校": True, "丙校": False}
    assert [m["school"] for m in data["missing"]] == ["乙校"]
    assert data["reports"][0]["report"]["filed_by"]  # the bureau sees who filed
    page = login_as("inspector").get(f"/duties/day?date={day.isoformat()}").get_data(as_text=True)
    assert "甲校" in page and "发热 4（近 7 日平均 1.0）" in page and "未报送" in page
    assert login_as("leader").get("/duties/day?date=2026-02-30").status_code == 400


def test_a_school_never_sees_another_schools_report(app, login_as, api_token, world):
    file(app, world.officer_b, today(), absent=7, absent_illness=7, fever=7, note="乙校的秘密备注")
    officer = login_as("officer")
    for url in ("/duties/", f"/duties/?date={today().isoformat()}", "/tickets/notifications", "/"):
        response = officer.get(url, follow_redirects=True)
        assert "乙校的秘密备注" not in response.get_data(as_text=True)
    assert officer.get("/duties/day").status_code == 403
    token = api_token("officer")
    assert app.test_client().get("/api/v1/self-reports", headers=token).status_code == 403
    assert login_as("volunteer").get("/duties/").status_code == 403


def test_the_daily_report_carries_the_section(app, world, api_token):
    day = today()
    file(app, world.officer, day, zero=True)
    response = app.test_client().get(f"/api/v1/reports/daily/{day.isoformat()}", headers=api_token("leader"))
    assert response.status_code == 200, response.get_json()
    section = response.get_json()["self_reports"]
    assert section["reported"] == 1 and section["jumps"] == []


# Reminders

def test_reminders_go_to_the_school_before_and_to_its_inspector_at_the_deadline(app, db, world, login_as):
    from inspect_app.tickets.models import EventKind, Notification
    day = today()
    deadline = due(app, day)
    file(app, world.officer_b, day, now=deadline - timedelta(hours=2), zero=True)  # 乙校 has filed

    def remind(at):
        with app.test_request_context("/"):
            return first_writer_wins(lambda: services.remind(at))
    assert remind(deadline - timedelta(minutes=31)) == 0  # too early
    assert remind(deadline - timedelta(minutes=20)) == 1  # 甲校's officer
    assert remind(deadline - timedelta(minutes=10)) == 0  # once
    assert remind(deadline + timedelta(minutes=1)) == 1  # 甲校's responsible inspector
    assert remind(deadline + timedelta(minutes=6)) == 0
    sent = db.session.execute(sa.select(Notification.user_id, Notification.kind, Notification.school_id)).all()
    assert sorted(sent) == sorted([(world.officer.id, EventKind.REPORT_DUE, world.a.id),
                                   (world.inspector.id, EventKind.REPORT_MISSING, world.a.id)])
    officer = login_as("officer")
    officer_page = officer.get("/tickets/notifications").get_data(as_text=True)
    assert "日报告即将截止" in officer_page and 'href="/duties/"' in officer_page
    officer.get("/duties/")  # opening the report reads its reminder
    assert db.session.scalar(sa.select(Notification.read_at).where(Notification.user_id == world.officer.id))
    inspector_page = login_as("inspector").get("/tickets/notifications").get_data(as_text=True)
    assert "日报告未报送" in inspector_page and f"/duties/day?date={day.isoformat()}" in inspector_page
