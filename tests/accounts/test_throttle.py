"""Sign-in throttling per (account, client), counted through inspect_app/ratelimit.py (here on its
database storage, whose clock the tests drive): guessing stays bounded, yet a stranger's guesses
never lock the owner out, nor a colleague behind the same address."""
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from inspect_app import ratelimit
from inspect_app.accounts import throttle
from inspect_app.accounts.models import SignInAttempt, User
from inspect_app.audit.models import AuditEntry
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from tests.conftest import PASSWORD

STRANGER = "203.0.113.9"
OWNER = "198.51.100.7"
NAT = "192.0.2.1"


def _try(browser, username, password="wrong-password", ip=STRANGER):
    return browser.form_post("/accounts/sign-in", {"username": username, "password": password},
                             environ_base={"REMOTE_ADDR": ip})


def _failures(app, username, ip, n):
    """What a hammering leaves behind (quicker than n requests through the delays)."""
    with app.test_request_context():
        for _ in range(n):
            throttle.record(username, throttle.Client(ip=ip), succeeded=False)
        db.session.commit()


class _Clock:
    """The rate-limit storage's clock, moved forward instead of waiting."""

    def __init__(self):
        self.offset = timedelta(0)

    def advance(self, by: timedelta) -> None:
        self.offset += by


@pytest.fixture
def clock(monkeypatch):
    driven = _Clock()
    monkeypatch.setattr(ratelimit.DatabaseStorage, "now", staticmethod(lambda: utcnow() + driven.offset))
    return driven


@pytest.fixture
def no_delay(app, monkeypatch):
    """Only the hard bounds: the progressive delay has its own test."""
    monkeypatch.setitem(app.config, "SIGNIN_FIRST_DELAY", timedelta(0))


@pytest.mark.database_clock
def test_after_a_few_failures_each_attempt_from_that_client_waits_twice_as_long(
        make_browser, app, world, monkeypatch, clock):
    # A first delay long enough that a slow machine cannot outwait it between two requests.
    monkeypatch.setitem(app.config, "SIGNIN_FIRST_DELAY", timedelta(seconds=30))
    for _ in range(3):
        # A fresh client each time: the limit must not live in the browser's cookie.
        assert _try(make_browser(), world.inspector.username).status_code == 422
    refused = _try(make_browser(), world.inspector.username, PASSWORD)
    assert refused.status_code == 429
    assert 20 < int(refused.headers["Retry-After"]) <= 30
    assert "登录失败次数过多" in refused.get_data(as_text=True)
    clock.advance(timedelta(seconds=31))
    assert _try(make_browser(), world.inspector.username).status_code == 422
    again = _try(make_browser(), world.inspector.username)
    assert again.status_code == 429
    assert 50 < int(again.headers["Retry-After"]) <= 60


def test_the_owner_at_another_address_signs_in_while_a_stranger_hammers_the_account(
        make_browser, app, world, no_delay):
    statuses = [_try(make_browser(), world.inspector.username).status_code for _ in range(15)]
    limit = app.config["SIGNIN_MAX_FAILURES_PER_CLIENT"]
    assert statuses == [422] * limit + [429] * (15 - limit)
    owner = _try(make_browser(), world.inspector.username, PASSWORD, ip=OWNER)
    assert owner.status_code == 302
    # The stranger stays refused even with the right password: a 429 must not become an oracle.
    assert _try(make_browser(), world.inspector.username, PASSWORD).status_code == 429


def test_a_recognised_phone_signs_in_while_strangers_everywhere_exhaust_the_account(make_browser, app, world):
    phone = make_browser()
    assert _try(phone, world.inspector.username, PASSWORD, ip=NAT).status_code == 302
    phone.form_post("/accounts/sign-out")
    # A stranger behind the same school NAT, and many more elsewhere, use up every bound there is.
    _failures(app, world.inspector.username, NAT, app.config["SIGNIN_MAX_FAILURES_PER_CLIENT"])
    for n in range(app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT"]):
        _failures(app, world.inspector.username, f"10.9.{n // 200}.{n % 200}", 1)
    assert _try(make_browser(), world.inspector.username, PASSWORD, ip=NAT).status_code == 429
    assert _try(make_browser(), world.inspector.username, PASSWORD, ip=OWNER).status_code == 429
    assert _try(phone, world.inspector.username, PASSWORD, ip=NAT).status_code == 302


def test_a_nat_address_with_30_failures_for_one_user_lets_another_user_behind_it_in(make_browser, app, world):
    _failures(app, world.inspector.username, NAT, 30)
    assert _try(make_browser(), world.leader.username, PASSWORD, ip=NAT).status_code == 302
    assert _try(make_browser(), world.inspector.username, PASSWORD, ip=NAT).status_code == 429


def test_one_client_gets_a_bounded_number_of_guesses_per_hour(make_browser, app, world, no_delay):
    for _ in range(app.config["SIGNIN_MAX_FAILURES_PER_CLIENT"]):
        assert _try(make_browser(), world.inspector.username).status_code == 422
    refused = _try(make_browser(), world.inspector.username, PASSWORD)
    assert refused.status_code == 429
    # Counted over the hour: the first of those failures ages out of it.
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    assert "登录失败次数过多" in refused.get_data(as_text=True)
    api = app.test_client().post("/api/v1/auth/token", json={
        "username": world.inspector.username, "password": PASSWORD}, environ_base={"REMOTE_ADDR": STRANGER})
    assert api.status_code == 429
    assert api.get_json()["error"]["code"] == "rate_limited"
    assert "登录失败次数过多" in api.get_json()["error"]["message"]
    assert 3500 < int(api.headers["Retry-After"]) <= 3600


def test_all_clients_together_get_a_bounded_number_of_guesses_per_hour(make_browser, app, world):
    # Many addresses, each below its own bound.
    for n in range(app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT"]):
        _failures(app, world.inspector.username, f"10.8.{n // 200}.{n % 200}", 1)
    refused = _try(make_browser(), world.inspector.username, PASSWORD, ip=OWNER)
    assert refused.status_code == 429
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    api = app.test_client().post("/api/v1/auth/token", json={
        "username": world.inspector.username, "password": PASSWORD}, environ_base={"REMOTE_ADDR": OWNER})
    assert api.status_code == 429
    assert api.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in api.headers
    # Another account is not touched.
    assert _try(make_browser(), world.leader.username, PASSWORD, ip=OWNER).status_code == 302


def test_one_address_failing_on_many_accounts_is_throttled(make_browser, app, world, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNIN_MAX_ACCOUNTS_PER_ADDRESS", 3)
    for n in range(3):
        assert _try(make_browser(), f"nobody{n}").status_code == 422
    response = _try(make_browser(), world.leader.username, PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.database_clock
def test_a_success_starts_the_clients_count_afresh(make_browser, app, world, clock):
    for _ in range(3):
        _try(make_browser(), world.inspector.username)
    clock.advance(timedelta(seconds=5))
    assert _try(make_browser(), world.inspector.username, PASSWORD).status_code == 302
    assert _try(make_browser(), world.inspector.username).status_code == 422
    assert _try(make_browser(), world.inspector.username).status_code == 422


def test_a_forged_device_cookie_is_just_an_address(make_browser, app, world):
    _failures(app, world.inspector.username, STRANGER, app.config["SIGNIN_MAX_FAILURES_PER_CLIENT"])
    browser = make_browser()
    browser.set_cookie("signin_device", "eyJkIjoieCIsInUiOlsiaW5zcGVjdG9yMyJdfQ.forged")
    assert _try(browser, world.inspector.username, PASSWORD).status_code == 429


@pytest.mark.database_clock
def test_failures_older_than_the_window_no_longer_count(make_browser, app, world, clock):
    _failures(app, world.inspector.username, STRANGER, 60)
    assert _try(make_browser(), world.inspector.username, PASSWORD).status_code == 429
    clock.advance(app.config["SIGNIN_WINDOW"])
    assert _try(make_browser(), world.inspector.username, PASSWORD).status_code == 302


def test_an_admin_clears_a_locked_out_users_failures_and_the_trail_says_who(login_as, make_browser, app, db, world):
    _failures(app, world.inspector.username, STRANGER, app.config["SIGNIN_MAX_FAILURES_PER_CLIENT"])
    for n in range(app.config["SIGNIN_MAX_FAILURES_PER_ACCOUNT"]):
        _failures(app, world.inspector.username, f"10.7.{n // 200}.{n % 200}", 1)
    assert _try(make_browser(), world.inspector.username, PASSWORD).status_code == 429
    admin = login_as("admin")
    assert "清除登录失败记录" in admin.get("/accounts/users").get_data(as_text=True)
    response = admin.form_post(f"/accounts/users/{world.inspector.id}/clear-sign-in-failures")
    assert response.status_code == 302
    assert _try(make_browser(), world.inspector.username, PASSWORD).status_code == 302
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.object_type == "users", AuditEntry.object_id == str(world.inspector.id),
        AuditEntry.action == "update")).one()
    assert entry.actor_id == world.admin.id
    assert "signin_cleared_at" in json.loads(entry.data)
    # The failures themselves stay on record.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SignInAttempt)
                             .where(SignInAttempt.succeeded.is_(False))) >= 60


def test_the_cli_clears_a_users_failures(app, db, make_browser, world):
    _failures(app, world.admin.username, STRANGER, app.config["SIGNIN_MAX_FAILURES_PER_CLIENT"])
    assert _try(make_browser(), world.admin.username, PASSWORD).status_code == 429
    result = app.test_cli_runner().invoke(args=["users", "clear-sign-in-failures", world.admin.username])
    assert result.exit_code == 0, result.output
    assert db.session.get(User, world.admin.id).signin_cleared_at is not None
    assert _try(make_browser(), world.admin.username, PASSWORD).status_code == 302
