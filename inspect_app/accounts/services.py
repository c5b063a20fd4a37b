"""Signing in and out, shared by the HTML pages and the JSON API."""
from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from inspect_app.accounts import throttle
from inspect_app.accounts.models import AuthSession, SessionKind, User
from inspect_app.accounts.throttle import SignInThrottled
from inspect_app.extensions import db


@dataclass
class SignInResult:
    user: User | None
    raw_key: str | None = None


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def authenticate(username: str, password: str, ip: str, device_cookie: str | None,
                 kind: SessionKind) -> SignInResult:
    """Check a password under the throttle; on success issue a session or token (caller commits)."""
    username = normalise_username(username)[:64]
    client = throttle.client_for(username, ip, device_cookie)
    throttle.check(username, client)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    ok = user is not None and user.check_password(password or "") and user.active
    throttle.record(username, client, ok)
    if not ok:
        return SignInResult(user=None)
    lifetime = current_app.config["WEB_SESSION_LIFETIME" if kind is SessionKind.WEB
                                  else "API_TOKEN_LIFETIME"]
    _, raw_key = AuthSession.issue(user, kind, lifetime)
    user.session_key = raw_key
    return SignInResult(user=user, raw_key=raw_key)


def throttled_message(throttled: SignInThrottled) -> str:
    """What the sign-in form and the API say when a client must wait."""
    if throttled.retry_after_s < 90:
        return _("Too many failed sign-ins. Please wait %(n)s seconds and try again.",
                 n=throttled.retry_after_s)
    return _("Too many failed sign-ins. Please wait %(n)s minutes and try again.",
             n=math.ceil(throttled.retry_after_s / 60))


def load_session_user(raw_key: str, kind: SessionKind) -> User | None:
    """The user behind a session key or API token, if it is still valid."""
    if not raw_key:
        return None
    session = AuthSession.find_valid(raw_key, kind)
    if session is None:
        return None
    user = session.user
    user.session_key = raw_key
    user.auth_session = session
    return user
