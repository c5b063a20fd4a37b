"""Signing in and out, shared by the HTML pages and the JSON API."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from inspect_app.accounts.models import AuthSession, SessionKind, SignInAttempt, User
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db


class SignInThrottled(Exception):
    """Too many failed attempts for this username or address; try again later."""

    def __init__(self, retry_after_s: int):
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s


@dataclass
class SignInResult:
    user: User | None
    raw_key: str | None = None


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def _failures_since(column, value: str, since: datetime) -> tuple[int, datetime | None]:
    count, oldest = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(SignInAttempt.at))
        .where(column == value, SignInAttempt.succeeded.is_(False), SignInAttempt.at >= since)
    ).one()
    return count, oldest


def check_throttle(username: str, ip: str) -> None:
    """Raise SignInThrottled when recent failures for the username or the address reach the limit."""
    cfg = current_app.config
    window = cfg["SIGNIN_WINDOW"]
    since = utcnow() - window
    for column, value, limit in (
        (SignInAttempt.username, username, cfg["SIGNIN_MAX_FAILURES_PER_USER"]),
        (SignInAttempt.ip, ip, cfg["SIGNIN_MAX_FAILURES_PER_IP"]),
    ):
        count, oldest = _failures_since(column, value, since)
        if count >= limit:
            # The oldest failure in the window is the first one to age out.
            retry = int((oldest + window - utcnow()).total_seconds()) + 1
            raise SignInThrottled(max(retry, 1))


def authenticate(username: str, password: str, ip: str, kind: SessionKind) -> SignInResult:
    """Check a password under the throttle; on success issue a session or token (caller commits)."""
    username = normalise_username(username)[:64]
    check_throttle(username, ip)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    ok = user is not None and user.check_password(password or "") and user.active
    db.session.add(SignInAttempt(username=username, ip=ip[:45], succeeded=ok))
    if not ok:
        return SignInResult(user=None)
    lifetime = current_app.config["WEB_SESSION_LIFETIME" if kind is SessionKind.WEB
                                  else "API_TOKEN_LIFETIME"]
    _, raw_key = AuthSession.issue(user, kind, lifetime)
    user.session_key = raw_key
    return SignInResult(user=user, raw_key=raw_key)


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
