"""Failed sign-ins are throttled per username and per address, counted in the database."""
from tests.conftest import PASSWORD


def _fail(browser, username):
    return browser.form_post("/accounts/sign-in", {"username": username, "password": "wrong-password"})


def test_the_sixth_attempt_after_five_failures_is_429_even_with_the_right_password(make_browser, world):
    for _ in range(5):
        # A fresh client each time: the limit must not live in the browser's cookie.
        assert _fail(make_browser(), world.inspector.username).status_code == 422
    browser = make_browser()
    response = browser.form_post("/accounts/sign-in", {"username": world.inspector.username,
                                                        "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "登录失败次数过多" in response.get_data(as_text=True)


def test_other_users_can_still_sign_in(make_browser, world):
    for _ in range(5):
        _fail(make_browser(), world.inspector.username)
    make_browser().sign_in(world.leader.username)


def test_the_api_shares_the_same_limit(make_browser, app, world):
    for _ in range(5):
        _fail(make_browser(), world.inspector.username)
    response = app.test_client().post("/api/v1/auth/token", json={
        "username": world.inspector.username, "password": PASSWORD})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in response.headers


def test_one_address_trying_many_usernames_is_throttled(make_browser, app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNIN_MAX_FAILURES_PER_IP", 3)
    for n in range(3):
        _fail(make_browser(), f"nobody{n}")
    response = make_browser().form_post("/accounts/sign-in", {"username": world.leader.username,
                                                               "password": PASSWORD})
    assert response.status_code == 429


def test_failures_older_than_the_window_no_longer_count(make_browser, app, world):
    from datetime import timedelta

    import sqlalchemy as sa

    from inspect_app.accounts.models import SignInAttempt
    from inspect_app.dbtypes import utcnow
    from inspect_app.extensions import db
    for _ in range(5):
        _fail(make_browser(), world.inspector.username)
    with app.app_context():
        db.session.execute(sa.update(SignInAttempt).values(
            at=utcnow() - app.config["SIGNIN_WINDOW"] - timedelta(seconds=1)))
        db.session.commit()
    make_browser().sign_in(world.inspector.username)
