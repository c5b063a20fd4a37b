"""A school's name reaches the notice e-mail's subject as one line of text."""
import csv
import io
from types import SimpleNamespace

from inspect_app.accounts.models import Role
from inspect_app.extensions import db
from inspect_app.schools.models import School

NAME = "江阴市\n实验小学\r\nBcc: everyone@evil.example"


def test_a_line_break_in_a_school_name_neither_breaks_the_notice_nor_adds_a_header(
        app, world, templates, make_user, make_visit, login_as, monkeypatch):
    register = io.StringIO()
    csv.writer(register).writerows([["区县", "学校名称", "类型", "纬度", "经度", "责任督学"],
                                    ["澄江街道", NAME, "小学", "31.9", "120.28", world.inspector.username]])
    imported = login_as("admin").form_post(
        "/schools/import", {"file": (io.BytesIO(register.getvalue().encode("utf-8-sig")), "schools.csv")},
        content_type="multipart/form-data")
    assert imported.status_code == 302
    with app.app_context():
        school_id = db.session.query(School).filter_by(name=NAME).one().id
    make_user(Role.DUTY_OFFICER, school_id=school_id, email="officer@school.example")
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent.append(message)

    import inspect_app.tickets.services as ticket_services
    monkeypatch.setattr(ticket_services.smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "mail.example")
    make_visit(world.inspector, SimpleNamespace(id=school_id), fail=("G2",))
    assert len(sent) == 1
    message = sent[0]
    assert message["Subject"].endswith("江阴市 实验小学 Bcc: everyone@evil.example")
    assert message["Bcc"] is None


def test_mail_goes_out_after_the_commit_and_never_for_a_rolled_back_step(app, world, templates, make_visit,
                                                                         monkeypatch):
    """A mail server's 10 s timeout must not hold the transaction open; an undone step sends nothing."""
    from inspect_app.accounts.models import User
    from inspect_app.extensions import db
    from inspect_app.tickets.models import EventKind, Ticket
    import inspect_app.tickets.services as ticket_services
    sent = []

    class FakeSMTP:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent.append(message["Subject"])

    monkeypatch.setattr(ticket_services.smtplib, "SMTP", FakeSMTP)
    ticket_id = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    monkeypatch.setitem(app.config, "MAIL_SERVER", "mail.example")
    with app.test_request_context("/"):
        db.session.get(User, world.officer.id).email = "officer@school.example"
        db.session.commit()
        ticket_services.notify(db.session.get(Ticket, ticket_id), EventKind.REMINDER)
        db.session.flush()
        assert sent == []  # written, not sent while the transaction is open
        db.session.rollback()
        assert sent == []
        ticket_services.notify(db.session.get(Ticket, ticket_id), EventKind.REMINDER)
        db.session.commit()
        assert len(sent) == 1
