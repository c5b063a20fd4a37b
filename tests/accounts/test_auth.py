import os
from datetime import timedelta

import pytest
import sqlalchemy as sa

from inspect_app.accounts.models import AuthSession, User
from inspect_app.dbtypes import utcnow
from tests.conftest import PASSWORD


def test_sign_in_lands_on_home_and_shows_the_role(login_as):
    browser = login_as("inspector")
    page = browser.get("/")
    assert page.status_code == 200
    assert "督学" in page.get_data(as_text=True)


def test_wrong_password_is_refused_in_chinese(browser, world):
    response = browser.form_post("/accounts/sign-in", {"username": world.inspector.username,
                                                        "password": "not-the-password"})
    assert response.status_code == 422
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert browser.get("/").status_code == 302


def test_sign_in_without_csrf_token_is_refused(browser, world):
    response = browser.post("/accounts/sign-in", data={"username": world.inspector.username,
                                                       "password": PASSWORD})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    assert browser.get("/").status_code == 302


def test_state_change_without_csrf_token_changes_nothing(login_as, world, db):
    admin = login_as("admin")
    response = admin.post(f"/schools/{world.a.id}/rotate-qr")
    assert response.status_code == 400
    assert db.session.get(User, world.admin.id) is not None
    from inspect_app.schools.models import School
    assert db.session.get(School, world.a.id).qr_token == world.a.qr_token


def test_htmx_sends_the_csrf_token_in_a_header(login_as, world):
    admin = login_as("admin")
    token = admin.csrf()
    response = admin.post(f"/accounts/users/{world.leader.id}/disable",
                          headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200
    assert 'id="user-%d"' % world.leader.id in response.get_data(as_text=True)
    assert "已停用" in response.get_data(as_text=True)


def test_a_copied_cookie_stops_working_after_sign_out(login_as):
    browser = login_as("inspector")
    stolen = browser.get_cookie("session").value
    assert browser.get("/").status_code == 200
    browser.form_post("/accounts/sign-out")
    assert browser.get("/").status_code == 302
    browser.set_cookie("session", stolen)
    response = browser.get("/")
    assert response.status_code == 302
    assert "/accounts/sign-in" in response.headers["Location"]


def test_disabling_an_account_ends_its_sessions_and_tokens(login_as, api_token, world):
    victim = login_as("inspector")
    headers = api_token("inspector")
    assert victim.get("/").status_code == 200
    admin = login_as("admin")
    assert admin.form_post(f"/accounts/users/{world.inspector.id}/disable").status_code == 302
    assert victim.get("/").status_code == 302
    assert victim.get("/api/v1/me", headers=headers).status_code == 401
    again = login_as(None)
    response = again.form_post("/accounts/sign-in", {"username": world.inspector.username,
                                                      "password": PASSWORD})
    assert response.status_code == 422


def test_an_expired_session_no_longer_signs_in(login_as, db):
    browser = login_as("leader")
    db.session.execute(sa.update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert browser.get("/").status_code == 302


def test_admin_cannot_disable_themselves(login_as, world):
    admin = login_as("admin")
    response = admin.form_post(f"/accounts/users/{world.admin.id}/disable")
    assert response.status_code == 409
    assert "不能停用自己的账号" in response.get_data(as_text=True)


def test_session_cookie_flags(app, world, make_browser):
    browser = make_browser()
    browser.sign_in(world.inspector.username)
    cookie = browser.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure

    secure = app.test_client()
    page = secure.get("/accounts/sign-in", base_url="https://inspect.test")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = secure.post("/accounts/sign-in", base_url="https://inspect.test",
                           data={"csrf_token": token, "username": world.inspector.username,
                                 "password": PASSWORD},
                           headers={"Referer": "https://inspect.test/accounts/sign-in"})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]
    assert "HttpOnly" in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in response.headers


def test_next_parameter_cannot_send_the_user_elsewhere(browser, world):
    token = browser.csrf()
    response = browser.post("/accounts/sign-in?next=//evil.example/x",
                            data={"csrf_token": token, "username": world.inspector.username,
                                  "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_the_stored_password_is_an_argon2_hash(db, world):
    user = db.session.get(User, world.inspector.id)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_a_hash_made_with_other_argon2_settings_still_signs_in_and_is_redone_with_the_current_ones(
        app, db, world, browser):
    """ARGON2_* are settings (an operator may change them): each hash carries its own parameters, so
    one made under production's still verifies under the tests' cheap ones, and the sign-in stores it
    again with the current ones (check_needs_rehash)."""
    from argon2 import PasswordHasher
    production = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD)
    db.session.get(User, world.inspector.id).password_hash = production
    db.session.commit()
    assert browser.form_post("/accounts/sign-in", {"username": world.inspector.username,
                                                   "password": "not-the-password"}).status_code == 422
    assert db.session.get(User, world.inspector.id).password_hash == production  # a wrong one changes nothing
    assert browser.form_post("/accounts/sign-in", {"username": world.inspector.username,
                                                   "password": PASSWORD}).status_code == 302
    stored = db.session.get(User, world.inspector.id).password_hash
    config = app.config
    assert stored.startswith(f"$argon2id$v=19$m={config['ARGON2_MEMORY_COST']},t={config['ARGON2_TIME_COST']},"
                             f"p={config['ARGON2_PARALLELISM']}$")
    assert PasswordHasher().verify(stored, PASSWORD)


def test_the_argon2_settings_come_from_the_environment():
    import subprocess
    import sys
    read = "from inspect_app.config import Config as C; print(C.ARGON2_TIME_COST, C.ARGON2_MEMORY_COST, C.ARGON2_PARALLELISM)"
    env = {**os.environ, "ARGON2_TIME_COST": "2", "ARGON2_MEMORY_COST": "1024", "ARGON2_PARALLELISM": "1"}
    assert subprocess.run([sys.executable, "-c", read], env=env, capture_output=True, text=True,
                          check=True).stdout.split() == ["2", "1024", "1"]
    for name in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM"):
        env.pop(name)
    assert subprocess.run([sys.executable, "-c", read], env=env, capture_output=True, text=True,
                          check=True).stdout.split() == ["3", "65536", "4"]


@pytest.mark.parametrize("costs", [dict(ARGON2_TIME_COST=0), dict(ARGON2_PARALLELISM=0),
                                   dict(ARGON2_MEMORY_COST=15, ARGON2_PARALLELISM=2)])
def test_argon2_settings_argon2_refuses_stop_the_app_at_start(tmp_path, costs):
    from inspect_app import create_app
    from inspect_app.config import TestConfig
    with pytest.raises(RuntimeError, match="ARGON2_TIME_COST=.*ARGON2_MEMORY_COST=.*ARGON2_PARALLELISM="):
        create_app(TestConfig, STORAGE_DIR=str(tmp_path), **costs)


@pytest.mark.parametrize("costs, warned", [
    (dict(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8, ARGON2_PARALLELISM=1), True),  # the test servers'
    (dict(ARGON2_TIME_COST=3, ARGON2_MEMORY_COST=12 * 1024, ARGON2_PARALLELISM=1), True),
    (dict(ARGON2_TIME_COST=2, ARGON2_MEMORY_COST=19 * 1024, ARGON2_PARALLELISM=1), False),  # OWASP's least
    (dict(ARGON2_TIME_COST=3, ARGON2_MEMORY_COST=65536, ARGON2_PARALLELISM=4), False),  # the default
])
def test_argon2_costs_too_cheap_for_production_are_said_in_the_log(tmp_path, caplog, costs, warned):
    from inspect_app import create_app
    from inspect_app.config import TestConfig
    with caplog.at_level("WARNING"):
        create_app(TestConfig, STORAGE_DIR=str(tmp_path), TESTING=False, **costs)
    assert any("OWASP" in record.getMessage() for record in caplog.records) is warned


def test_the_csrf_token_from_before_sign_in_is_void_after_it(browser, world):
    before = browser.csrf()
    response = browser.post("/accounts/sign-in", data={"csrf_token": before, "username": world.inspector.username,
                                                       "password": PASSWORD})
    assert response.status_code == 302
    # A token read (or planted) before sign-in no longer carries a signed-in user's form.
    stale = browser.post("/accounts/sign-out", data={"csrf_token": before})
    assert stale.status_code == 400
    assert browser.get("/").status_code == 200
    assert browser.form_post("/accounts/sign-out").status_code == 302


def test_sign_out_everywhere_ends_every_session_and_token_of_the_user(login_as, api_token, world, app):
    laptop = login_as("inspector")
    phone = login_as("inspector")
    token = api_token("inspector")
    colleague = login_as("leader")
    page = laptop.get("/").get_data(as_text=True)
    assert "在所有设备上退出" in page
    response = laptop.form_post("/accounts/sign-out", {"everywhere": "1"})
    assert response.status_code == 302
    assert "在所有设备上退出登录" in laptop.get(response.headers["Location"]).get_data(as_text=True)
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 302
    assert app.test_client().get("/api/v1/me", headers=token).status_code == 401
    assert colleague.get("/schools/").status_code == 200  # (a leader's "/" is the dashboard)


def test_plain_sign_out_ends_only_this_browser(login_as, api_token, app):
    laptop = login_as("inspector")
    phone = login_as("inspector")
    token = api_token("inspector")
    laptop.form_post("/accounts/sign-out")
    assert phone.get("/").status_code == 200
    assert app.test_client().get("/api/v1/me", headers=token).status_code == 200


@pytest.mark.parametrize("url", [
    "/", "/schools/", "/tickets/", "/reports/", "/reports/daily/2026-01-05",
    "/reports/daily/2026-01-05.pdf", "/reports/daily/2026-01-05.xlsx",
    "/reports/exports/tickets.csv", "/reports/exports/tickets.xlsx", "/audit/",
])
def test_a_revoked_token_answers_401_in_the_api_shape_on_every_route(app, api_token, url):
    headers = api_token("leader")
    client = app.test_client()
    assert client.get(url, headers=headers).status_code in (200, 302)
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    response = client.get(url, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "not_signed_in"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
