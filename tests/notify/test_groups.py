"""A work-messaging group hears of notices through its robot: DingTalk (signed) and WeCom, one post per
step and school, checked by a local receiver the way the vendors check them."""
from __future__ import annotations

import io
from datetime import datetime, time, timedelta
from urllib.parse import unquote

from inspect_app.dbtypes import utcnow
from inspect_app.i18n import local_zone
from inspect_app.notify import deliver_due
from inspect_app.notify.channels import dingtalk_signed
from inspect_app.notify.models import Channel, Delivery, DeliveryStatus
from tests.conftest import jpeg_bytes

SECRET = "SECb6a1c0ffee0123456789abcdef0123456789abcdef0123456789abcdef01"


def _run(app, now):
    with app.app_context():
        return deliver_due(now)


def _respond(login_as, ticket_id):
    return login_as("officer").form_post(
        f"/tickets/{ticket_id}/respond", {"text": "已整改", "photos": [(io.BytesIO(jpeg_bytes()), "a.jpg")]},
        content_type="multipart/form-data")


def test_a_notice_reaches_a_dingtalk_group_signed(app, world, make_visit, login_as, make_robot, monkeypatch):
    robot = make_robot(secret=SECRET)
    monkeypatch.setitem(app.config, "DINGTALK_WEBHOOK_URL", f"{robot.base}/robot/send?access_token=tok123")
    monkeypatch.setitem(app.config, "DINGTALK_SECRET", SECRET)
    ticket_id = make_visit(world.inspector, world.a, fail=("G2",)).tickets[0]
    assert _respond(login_as, ticket_id).status_code == 302

    assert _run(app, utcnow())["sent"] == 1
    [post] = robot.posts
    assert post["path"] == "/robot/send" and post["query"]["access_token"] == ["tok123"]
    assert post["content_type"].startswith("application/json")
    # The signature travels URL-encoded: base64's + / = never appear raw in the query.
    raw_sign = post["raw_query"].split("sign=", 1)[1].split("&", 1)[0]
    assert not set("+/=") & set(raw_sign) and unquote(raw_sign) == post["query"]["sign"][0]
    assert abs(int(post["query"]["timestamp"][0]) / 1000 - utcnow().timestamp()) < 60
    content = post["body"]["text"]["content"]
    assert post["body"]["msgtype"] == "text"
    assert content.startswith("【校园防控督查】学校提交整改情况 · 甲校\n1. ")  # the keyword a robot may require
    assert content.endswith("http://localhost/")


def test_a_wrong_dingtalk_secret_is_retried_and_its_errcode_kept(app, db, world, make_visit, login_as, make_robot,
                                                                 monkeypatch):
    robot = make_robot(secret=SECRET)
    monkeypatch.setitem(app.config, "DINGTALK_WEBHOOK_URL", f"{robot.base}/robot/send?access_token=tok123")
    monkeypatch.setitem(app.config, "DINGTALK_SECRET", SECRET[:-1] + "0")
    _respond(login_as, make_visit(world.inspector, world.a, fail=("G2",)).tickets[0])
    assert _run(app, utcnow()) == {"sent": 0, "retrying": 1, "failed": 0}
        # The ticket's opening waits for the morning; the school's report was tried at once.
    row = db.session.query(Delivery).filter(Delivery.attempts == 1).one()
    assert row.status is DeliveryStatus.PENDING and row.last_error == "errcode 310000: sign not match"
    assert "tok123" not in row.last_error


def test_a_visits_findings_are_one_wecom_post_sent_the_next_morning(app, db, world, make_visit, make_robot, monkeypatch):
    robot = make_robot()
    monkeypatch.setitem(app.config, "WECOM_WEBHOOK_URL", f"{robot.base}/cgi-bin/webhook/send?key=693a91f6-7xxx")
    before = utcnow()
    make_visit(world.inspector, world.a, fail=("G1", "G2", "G3"))
    [row] = db.session.query(Delivery).all()  # three tickets, one officer: one post for the group
    assert row.channel is Channel.WECOM
    morning = datetime.combine(before.astimezone(local_zone()).date() + timedelta(days=1), time(7, 30),
                               tzinfo=local_zone())
    assert row.next_try_at == morning  # a bureau step: the group may include the school
    assert _run(app, utcnow())["sent"] == 0 and robot.posts == []
    assert _run(app, morning)["sent"] == 1
    [post] = robot.posts
    assert post["query"] == {"key": ["693a91f6-7xxx"]}
    lines = post["body"]["text"]["content"].splitlines()
    assert lines[0] == "【校园防控督查】交办学校 · 甲校"
    assert [line[:3] for line in lines[1:4]] == ["1. ", "2. ", "3. "]
    assert set(post["body"]) == {"msgtype", "text"} and set(post["body"]["text"]) == {"content"}


def test_a_dingtalk_signature_matches_the_documented_example_shape():
    signed = dingtalk_signed("https://oapi.dingtalk.com/robot/send?access_token=abc", "this is secret", 1700000000000)
    # base64(HMAC-SHA256("this is secret", "1700000000000\nthis is secret")), URL-encoded
    import base64
    import hashlib
    import hmac
    from urllib.parse import quote_plus
    expected = quote_plus(base64.b64encode(hmac.new(b"this is secret", b"1700000000000\nthis is secret",
                                                    hashlib.sha256).digest()))
    assert signed == f"https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign={expected}"
    assert dingtalk_signed("https://x.example/send", None) == "https://x.example/send"
