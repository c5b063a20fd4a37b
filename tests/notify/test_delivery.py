"""Notices leave the app through the outbox: written with the step, sent after commit, retried with
backoff, and never able to fail the step that caused them."""
from __future__ import annotations

import io
import logging
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from inspect_app.accounts.models import User
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.i18n import local_zone
from inspect_app.notify import deliver_due
from inspect_app.notify.models import Channel, Delivery, DeliveryStatus
from inspect_app.notify.outbox import retry_after
from tests.conftest import jpeg_bytes


def _set_email(app, user_id: int, email: str) -> None:
    with app.app_context():
        db.session.get(User, user_id).email = email
        db.session.commit()


def _deliveries(app, **where) -> list[Delivery]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Delivery).filter_by(**where).order_by(Delivery.id)).all()
        db.session.expunge_all()
        return rows


def _run(app, now: datetime) -> dict[str, int]:
    with app.app_context():
        return deliver_due(now)


def _respond(login_as, ticket_id: int):
    return login_as("officer").form_post(
        f"/tickets/{ticket_id}/respond",
        {"text": "已安排专人值守校门", "photos": [(io.BytesIO(jpeg_bytes()), "after.jpg")]},
        content_type="multipart/form-data")


def test_a_dead_smtp_server_does_not_fail_the_step_and_a_later_retry_delivers(
        app, world, make_visit, login_as, smtp_server, mail_to, caplog):
    mail_to(smtp_server)  # configured, but nothing listens on its port yet
    _set_email(app, world.inspector.id, "inspector@bureau.example")
    ticket_id = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]

    assert _respond(login_as, ticket_id).status_code == 302  # the school's report is in, mail or not
    [row] = _deliveries(app, channel=Channel.EMAIL, address="inspector@bureau.example")
    assert row.status is DeliveryStatus.PENDING and row.attempts == 0

    now = utcnow()
    with caplog.at_level(logging.WARNING):
        assert _run(app, now) == {"sent": 0, "retrying": 1, "failed": 0}
    [row] = _deliveries(app, id=row.id)
    assert row.attempts == 1 and "Connection refused" in row.last_error
    assert row.next_try_at == now + retry_after(1)
    assert any(f"notice delivery {row.id} (email) failed at attempt 1" in r.getMessage() for r in caplog.records)
    assert _run(app, now + timedelta(seconds=30)) == {"sent": 0, "retrying": 0, "failed": 0}  # still waiting

    smtp_server.start()
    assert _run(app, now + retry_after(1)) == {"sent": 1, "retrying": 0, "failed": 0}
    [row] = _deliveries(app, id=row.id)
    assert row.status is DeliveryStatus.SENT and row.attempts == 2 and row.last_error is None
    [message] = smtp_server.inbox.messages
    assert message["To"] == "inspector@bureau.example"
    assert message["From"] == "督查 <notices@bureau.example>"
    assert message["Subject"] == "校园防控督查: 学校提交整改情况 · 甲校"
    body = message.get_content()
    assert "问题：" in body and "http://localhost/tickets/notifications" in body
    assert _run(app, now + timedelta(hours=1))["sent"] == 0  # sent once


def test_a_delivery_is_given_up_after_the_last_attempt_and_logged(
        app, world, make_visit, login_as, smtp_server, mail_to, monkeypatch, caplog):
    mail_to(smtp_server)
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 2)
    _set_email(app, world.inspector.id, "inspector@bureau.example")
    _respond(login_as, make_visit(world.inspector, world.a, fail=("G2",)).tickets[0])
    now = utcnow()
    assert _run(app, now)["retrying"] == 1
    with caplog.at_level(logging.ERROR):
        assert _run(app, now + retry_after(1))["failed"] == 1
    [row] = _deliveries(app, channel=Channel.EMAIL)
    assert row.status is DeliveryStatus.FAILED and row.attempts == 2
    assert any("given up after 2 attempts" in r.getMessage() for r in caplog.records)
    assert _run(app, now + timedelta(days=1))["failed"] == 0  # never tried again


def test_a_school_hears_of_a_bureau_step_outside_the_app_the_next_morning_not_at_its_hour(
        app, db, world, make_visit, smtp_server, mail_to):
    mail_to(smtp_server.start())
    _set_email(app, world.officer.id, "officer@school.example")
    _set_email(app, world.inspector.id, "inspector@bureau.example")
    before = utcnow()
    make_visit(world.inspector, world.a, fail=("G2",))
    [row] = _deliveries(app, address="officer@school.example")
    tomorrow = before.astimezone(local_zone()).date() + timedelta(days=1)
    morning = datetime.combine(tomorrow, time(7, 30), tzinfo=local_zone())
    assert row.next_try_at == morning
    assert _run(app, utcnow())["sent"] == 0 and smtp_server.inbox.messages == []
    assert _run(app, morning)["sent"] == 1
    [message] = smtp_server.inbox.messages
    assert message["To"] == "officer@school.example" and "交办学校" in message["Subject"]
    assert "整改期限：" in message.get_content()
    # The inbox always had it; the bureau's own people get their notices at once (none here: the
    # inspector opened the ticket and is not told of it).
    assert _deliveries(app, address="inspector@bureau.example") == []


def test_with_deadlines_to_the_hour_nothing_is_held_back(app, world, make_visit, smtp_server, mail_to, monkeypatch):
    mail_to(smtp_server.start())
    monkeypatch.setitem(app.config, "TICKET_DEADLINE_ROUNDING", "hour")
    _set_email(app, world.officer.id, "officer@school.example")
    make_visit(world.inspector, world.a, fail=("G2",))
    assert _run(app, utcnow())["sent"] == 1


def test_nothing_is_queued_when_no_channel_is_configured_or_nobody_gave_an_address(
        app, world, make_visit, login_as, smtp_server, mail_to):
    make_visit(world.inspector, world.a, fail=("G2",))
    assert _deliveries(app) == []
    mail_to(smtp_server)
    make_visit(world.inspector, world.a, fail=("G3",))  # the officer has no address
    assert _deliveries(app) == []


def test_a_line_break_in_a_school_name_neither_breaks_the_mail_nor_adds_a_header(
        app, world, make_school, make_user, make_visit, smtp_server, mail_to, monkeypatch):
    mail_to(smtp_server.start())
    monkeypatch.setitem(app.config, "TICKET_DEADLINE_ROUNDING", "hour")
    school = make_school(name="江阴市\n实验小学\r\nBcc: everyone@evil.example")
    make_user("duty_officer", school_id=school.id, email="officer@school.example")
    make_visit(world.inspector, school, fail=("G2",))
    assert _run(app, utcnow())["sent"] == 1
    [message] = smtp_server.inbox.messages
    assert message["Subject"].endswith("江阴市 实验小学 Bcc: everyone@evil.example")
    assert message["Bcc"] is None
    assert smtp_server.inbox.envelopes == [("notices@bureau.example", ["officer@school.example"])]


def test_a_rolled_back_step_sends_nothing(app, db, world, smtp_server, mail_to):
    from inspect_app.tickets.models import EventKind, Notification
    mail_to(smtp_server.start())
    _set_email(app, world.inspector.id, "inspector@bureau.example")
    db.session.add(Notification(user_id=world.inspector.id, kind=EventKind.REPORT_MISSING,
                                school_id=world.a.id, day=utcnow().date()))
    db.session.flush()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 1
    db.session.rollback()
    assert _deliveries(app) == [] and _run(app, utcnow())["sent"] == 0


def test_a_row_is_claimed_by_one_run_only(app, db, world, smtp_server, mail_to):
    from inspect_app.notify.outbox import _claim
    from inspect_app.tickets.models import EventKind, Notification
    mail_to(smtp_server)
    _set_email(app, world.inspector.id, "inspector@bureau.example")
    db.session.add(Notification(user_id=world.inspector.id, kind=EventKind.REPORT_MISSING,
                                school_id=world.a.id, day=utcnow().date()))
    db.session.commit()
    now = utcnow()
    row_id = db.session.scalar(sa.select(Delivery.id))
    # Two machines see the row due; the first takes it (and its lease moves it on), the second finds it gone.
    assert _claim(row_id, now) is True
    assert _claim(row_id, now) is False
    db.session.commit()
    [row] = _deliveries(app)
    assert row.attempts == 1 and row.next_try_at > now


@pytest.mark.parametrize("config, expected", [
    ({"SMTP_URL": "smtp://mail.example"}, ("mail.example", 25, None, None, False, False)),
    ({"SMTP_URL": "smtp://u%40x:p%3Ass@mail.example?starttls=1"}, ("mail.example", 587, "u@x", "p:ss", True, False)),
    ({"SMTP_URL": "smtps://u:p@mail.example"}, ("mail.example", 465, "u", "p", False, True)),
    ({"SMTP_HOST": "mail.example", "SMTP_PORT": "2525", "SMTP_USER": "u", "SMTP_PASSWORD": "p",
      "SMTP_STARTTLS": True}, ("mail.example", 2525, "u", "p", True, False)),
])
def test_smtp_settings_from_a_url_or_separate_variables(config, expected):
    from inspect_app.notify.channels import smtp_settings
    smtp = smtp_settings({**config, "MAIL_FROM": "notices@bureau.example"})
    assert (smtp.host, smtp.port, smtp.user, smtp.password, smtp.starttls, smtp.ssl) == expected


@pytest.mark.parametrize("config, says", [
    ({"SMTP_URL": "http://mail.example", "MAIL_FROM": "a@b.example"}, "SMTP_URL must look like"),
    ({"SMTP_URL": "smtp://mail.example:port", "MAIL_FROM": "a@b.example"}, "SMTP_URL must look like"),
    ({"SMTP_HOST": "mail.example"}, "MAIL_FROM must be set"),
    ({"SMTP_URL": "smtps://mail.example?starttls=1", "MAIL_FROM": "a@b.example"}, "not both"),
    ({"WECOM_WEBHOOK_URL": "qyapi.weixin.qq.com/cgi-bin/webhook/send"}, "WECOM_WEBHOOK_URL must be"),
    ({"DINGTALK_SECRET": "SEC1"}, "without DINGTALK_WEBHOOK_URL"),
])
def test_a_setting_that_could_never_deliver_stops_the_app_at_start(config, says):
    from inspect_app import create_app
    from inspect_app.config import TestConfig
    with pytest.raises(RuntimeError, match=says):
        create_app(TestConfig, **{"SMTP_URL": None, "SMTP_HOST": None, "MAIL_FROM": None, **config})


def _one_notice(app, world, days_ago: int = 0) -> None:
    from inspect_app.tickets.models import EventKind, Notification
    _set_email(app, world.inspector.id, "inspector@bureau.example")
    with app.app_context():
        db.session.add(Notification(user_id=world.inspector.id, kind=EventKind.REPORT_MISSING,
                                    school_id=world.a.id, day=utcnow().date() - timedelta(days=days_ago)))
        db.session.commit()


def test_mail_goes_over_starttls_with_a_password_and_the_servers_certificate_checked(
        app, world, submission_server, loopback_certificate, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://notices%40bureau.example:p%40ss%3Aw0rd@127.0.0.1:"
                                                f"{submission_server.port}?starttls=1")
    monkeypatch.setitem(app.config, "MAIL_FROM", "notices@bureau.example")
    _one_notice(app, world)
    # A certificate nobody vouches for is refused (smtplib alone would have accepted it).
    assert _run(app, utcnow())["retrying"] == 1
    [row] = _deliveries(app)
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error and submission_server.inbox.messages == []
    # Trusted (as a bureau's CA would be), the same row goes through after its wait.
    monkeypatch.setenv("SSL_CERT_FILE", str(loopback_certificate[0]))
    assert _run(app, utcnow() + retry_after(1))["sent"] == 1
    assert submission_server.logins and len(submission_server.inbox.messages) == 1
    assert submission_server.inbox.messages[0]["Subject"] == "校园防控督查: 日报告未报送 · 甲校"


def test_an_escalation_from_the_command_line_reaches_the_school_at_once(
        app, db, world, make_visit, smtp_server, mail_to):
    from inspect_app.tickets.models import Ticket
    from inspect_app.tickets.services import escalate_overdue
    mail_to(smtp_server.start())
    _set_email(app, world.officer.id, "officer@school.example")
    ticket_id = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    late = db.session.get(Ticket, ticket_id).deadline + timedelta(hours=1)
    assert escalate_overdue(late) == 1
    db.session.commit()
    reminder = [row for row in _deliveries(app, address="officer@school.example") if "逾期" in row.subject]
    assert len(reminder) == 1 and reminder[0].next_try_at < utcnow() + timedelta(seconds=5)
    assert "整改期限：" in reminder[0].body


def test_notices_about_several_schools_in_one_flush_each_name_their_own_school(
        app, db, world, make_visit, smtp_server, mail_to):
    """Notices about tickets at schools A and B written together: each mail names its own school."""
    from inspect_app.tickets.models import EventKind, Ticket
    from inspect_app.tickets.services import notify
    mail_to(smtp_server.start())
    _set_email(app, world.officer.id, "officer@a.example")
    _set_email(app, world.officer_b.id, "officer@b.example")
    tickets = [make_visit(world.inspector, school, fail=("G2",)).tickets[0] for school in (world.a, world.b)]
    with app.test_request_context("/"):
        for ticket in db.session.scalars(sa.select(Ticket).where(Ticket.id.in_(tickets))).all():
            notify(ticket, EventKind.REMINDER)
        db.session.commit()
    for address, school in (("officer@a.example", "甲校"), ("officer@b.example", "乙校")):
        [reminder] = [row for row in _deliveries(app, address=address) if "逾期" in row.subject]
        assert reminder.subject.endswith(f" · {school}"), reminder.subject


def test_flask_notify_send_sends_what_is_due_and_says_so(app, world, smtp_server, mail_to):
    mail_to(smtp_server.start())
    _one_notice(app, world)
    result = app.test_cli_runner().invoke(args=["notify", "send"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 sent, 0 to retry, 0 given up"
    assert len(smtp_server.inbox.messages) == 1


def test_rows_done_with_are_deleted_after_thirty_days_and_waiting_ones_never(app, db, world, smtp_server, mail_to):
    mail_to(smtp_server.start())
    _one_notice(app, world)
    assert _run(app, utcnow())["sent"] == 1
    _one_notice(app, world, days_ago=1)  # a second notice, never sent: its server is gone by then
    smtp_server.stop()
    later = utcnow() + timedelta(days=31)
    db.session.execute(sa.update(Delivery).where(Delivery.status == DeliveryStatus.PENDING)
                       .values(next_try_at=later + timedelta(days=1)))
    db.session.commit()
    assert _run(app, utcnow() + timedelta(days=29)) == {"sent": 0, "retrying": 0, "failed": 0}
    assert [r.status for r in _deliveries(app)] == [DeliveryStatus.SENT, DeliveryStatus.PENDING]
    _run(app, later)
    assert [r.status for r in _deliveries(app)] == [DeliveryStatus.PENDING]


def test_the_worker_sends_a_due_notice_within_its_minute(app, db, world, make_visit, login_as, smtp_server, mail_to):
    """No cron: the worker's every-minute job is what takes a notice out of the app."""
    from inspect_app.worker import jobs
    mail_to(smtp_server.start())
    _set_email(app, world.inspector.id, "inspector@bureau.example")
    _respond(login_as, make_visit(world.inspector, world.a, fail=("G2",)).tickets[0])
    assert jobs.JOBS["deliver-notices"].cron == {"minute": "*"}
    now = utcnow()
    assert jobs.run("deliver-notices", now) is True
    assert jobs.run("deliver-notices", now) is False  # the same minute, on a second machine: nothing
    [message] = smtp_server.inbox.messages
    assert message["To"] == "inspector@bureau.example"
    [row] = _deliveries(app, channel=Channel.EMAIL)
    assert row.status is DeliveryStatus.SENT
