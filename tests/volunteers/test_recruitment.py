"""Recruitment (issue 13): single-use invitations with an expiry, shown as QR codes and listed by state;
a parent registers on a phone from one, accepts the agreement, and gets an app-given pseudonym."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from inspect_app.accounts.models import User
from inspect_app.dbtypes import utcnow
from inspect_app.volunteers.models import VolunteerAgreement, VolunteerInvitation
from inspect_app.volunteers.services import AGREEMENT_VERSION
from tests.conftest import PASSWORD


def _body(code, **overrides):
    body = {"code": code, "username": "li.mama", "password": PASSWORD, "real_name": "李秘密", "phone": "13800001234",
            "child_school_ids": [], "agreement_version": AGREEMENT_VERSION}
    body.update(overrides)
    return body


def _issue(client, headers, days=7):
    response = client.post("/api/v1/volunteer-invitations", json={"expires_in_days": days}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_invited_parent_registers_once_through_the_api(app, db, world, api_token):
    client = app.test_client()
    issued = _issue(client, api_token("admin"))
    assert issued["url"].startswith("http://localhost/programme/join/") and issued["url"].endswith(issued["code"])
    assert "+08:00" in issued["expires_at"]
    created = client.post("/api/v1/volunteers", json=_body(issued["code"], child_school_ids=[world.b.id]))
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["pseudonym"].startswith("志愿者") and "李秘密" not in created.get_data(as_text=True)
    again = client.post("/api/v1/volunteers", json=_body(issued["code"], username="li.baba"))
    assert again.status_code == 410
    user = db.session.scalar(sa.select(User).where(User.username == "li.mama"))
    assert [s.id for s in user.child_schools] == [world.b.id] and not user.must_change_password
    agreement = db.session.scalars(sa.select(VolunteerAgreement)).one()
    assert (agreement.user_id, agreement.version) == (user.id, AGREEMENT_VERSION)
    token = client.post("/api/v1/auth/token", json={"username": "li.mama", "password": PASSWORD})
    assert token.status_code == 200


def test_expired_withdrawn_unknown_and_hostile_codes_are_refused(app, db, world, api_token, login_as):
    client = app.test_client()
    expired = _issue(client, api_token("admin"))
    withdrawn = _issue(client, api_token("admin"))
    for invitation in db.session.scalars(sa.select(VolunteerInvitation)):
        if invitation.id == min(i.id for i in db.session.scalars(sa.select(VolunteerInvitation))):
            invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    withdrawn_id = max(db.session.scalars(sa.select(VolunteerInvitation.id)))
    assert login_as("admin").form_post(f"/programme/invitations/{withdrawn_id}/withdraw").status_code == 302
    assert client.post("/api/v1/volunteers", json=_body(expired["code"])).status_code == 410
    assert client.post("/api/v1/volunteers", json=_body(withdrawn["code"])).status_code == 410
    assert client.get(f"/programme/join/{expired['code']}").status_code == 410
    for code in ("no-such-invitation-code", "x" * 64, "' OR 1=1 --"):
        assert client.post("/api/v1/volunteers", json=_body(code)).status_code == 404
    assert client.post("/api/v1/volunteers", json=_body("x" * 65)).status_code == 422  # over its length
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == "volunteer")) == 1


def test_registration_follows_the_account_rules_and_the_agreement(app, world, api_token):
    client = app.test_client()
    code = _issue(client, api_token("admin"))["code"]
    for overrides, status in (({"password": "password123"}, 422), ({"agreement_version": "1999-01"}, 422),
                              ({"username": world.leader.username}, 422), ({"real_name": ""}, 422),
                              ({"phone": "call me"}, 422), ({"child_school_ids": [99999]}, 422),
                              ({"extra": 1}, 422), ({"child_school_ids": "1"}, 400)):
        response = client.post("/api/v1/volunteers", json=_body(code, **overrides))
        assert response.status_code == status, (overrides, response.get_json())
    assert client.post("/api/v1/volunteers", json=_body(code)).status_code == 201  # the code was not spent


def test_only_the_coordinator_issues_invitations(app, world, api_token, make_user):
    client = app.test_client()
    for who in ("leader", "inspector", "volunteer", "officer"):
        assert client.post("/api/v1/volunteer-invitations", json={"expires_in_days": 7},
                           headers=api_token(who)).status_code == 403
    assert client.post("/api/v1/volunteer-invitations", json={"expires_in_days": 0},
                       headers=api_token("admin")).status_code == 422
    assert client.post("/api/v1/volunteer-invitations", json={"expires_in_days": 7}).status_code == 401


def test_the_coordinator_prints_qr_codes_and_lists_invitations_by_state(app, world, login_as, make_browser):
    coordinator = login_as("admin")
    sheet = coordinator.form_post("/programme/invitations", {"count": "3", "expires_in_days": "10"})
    page = sheet.get_data(as_text=True)
    assert sheet.status_code == 200 and page.count("<svg") == 3 and sheet.headers["Cache-Control"] == "no-store"
    code = page.split("/programme/join/")[1].split("<")[0].strip()
    parent = make_browser()
    form = parent.get(f"/programme/join/{code}")
    assert form.status_code == 200 and "从不拍摄" not in form.get_data(as_text=True)
    assert "不得拍摄儿童面部" in form.get_data(as_text=True) and "不得暗中进入校园" in form.get_data(as_text=True)
    refused = parent.form_post(f"/programme/join/{code}", {"username": "wang.parent", "password": PASSWORD,
                                                            "real_name": "王秘密", "phone": "13800005678"})
    assert refused.status_code == 422 and "请先阅读并同意协议" in refused.get_data(as_text=True)
    joined = parent.form_post(f"/programme/join/{code}", {"username": "wang.parent", "password": PASSWORD,
                                                           "real_name": "王秘密", "phone": "13800005678",
                                                           "agreement": "y"})
    assert joined.status_code == 302
    home = parent.get("/").get_data(as_text=True)
    assert "wang.parent" in home and "随手记" in home  # signed in, and the disguise is on
    listing = coordinator.get("/programme/invitations").get_data(as_text=True)
    assert listing.count("已使用") == 1 and listing.count("未使用") == 2
    assert "王秘密" not in listing and "13800005678" not in listing
    assert coordinator.form_post("/programme/invitations", {"count": "0", "expires_in_days": "10"}).status_code == 422
    assert coordinator.form_post("/programme/invitations", {"count": "1", "expires_in_days": "91"}).status_code == 422


def test_guessing_invitation_codes_is_limited_per_client_and_logged(app, db, world, api_token, caplog):
    """Unknown codes cost the client one of its misses, on the page and in the API alike; past the
    limit even a real code waits (429, in Chinese, with Retry-After), and another client is not held up."""
    import logging
    client = app.test_client()
    real = _issue(client, api_token("admin"))["code"]
    app.config["INVITATION_CODE_MISSES_PER_HOUR"] = 3
    try:
        with caplog.at_level(logging.WARNING):
            assert client.get("/programme/join/no-such-invitation-code").status_code == 404
            assert client.post("/api/v1/volunteers", json=_body("another-wrong-code")).status_code == 404
            assert client.get("/programme/join/short").status_code == 404  # malformed: counted too
            page = client.get(f"/programme/join/{real}")
            assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
            assert "邀请链接错误次数过多" in page.get_data(as_text=True)
            api = client.post("/api/v1/volunteers", json=_body(real))
            assert api.status_code == 429 and int(api.headers["Retry-After"]) > 0
        assert sum("invitation code miss" in r.getMessage() for r in caplog.records) == 3
        other = app.test_client()
        assert other.get(f"/programme/join/{real}", environ_base={"REMOTE_ADDR": "10.7.7.8"}).status_code == 200
        # The complaints' own budget is separate: this client may still look up tracking codes.
        assert client.get("/c/JY-2222-2222-2222").status_code == 404
    finally:
        app.config["INVITATION_CODE_MISSES_PER_HOUR"] = 10
    assert db.session.scalar(sa.select(User.id).where(User.username == "li.mama")) is None
