"""Signing in and out, shared by the HTML pages and the JSON API."""
from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from inspect_app.accounts import throttle
from inspect_app.accounts.models import AccountError, AuthSession, Role, SessionKind, User
from inspect_app.accounts.throttle import SignInThrottled
from inspect_app.extensions import db


@dataclass
class SignInResult:
    user: User | None
    raw_key: str | None = None


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


MIN_PASSWORD = 10


@dataclass
class NewAccount:
    """What the admin's form (or `flask users create-admin`) asks for a new account."""
    username: str
    display_name: str
    role: Role
    password: str
    school_id: int | None = None
    pseudonym: str | None = None
    manages_volunteers: bool = False
    child_school_ids: tuple[int, ...] = ()


def create_account(new: NewAccount) -> User:
    """The rules for an account, for every way one is made: a unique username; a duty officer belongs to
    exactly one school and nobody else does; a volunteer is known by a pseudonym; only an administrator
    runs the volunteer programme. A refusal names its form field (AccountError.field). Caller commits."""
    from inspect_app.schools.models import School  # schools import accounts: resolve at call time

    username = normalise_username(new.username)
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise AccountError(_l("This username is taken."), field="username")
    if new.role is Role.DUTY_OFFICER and not new.school_id:
        raise AccountError(_l("A duty officer must belong to a school."), field="school_id")
    if new.role is not Role.DUTY_OFFICER and new.school_id:
        raise AccountError(_l("Only duty officers belong to a school."), field="school_id")
    pseudonym = (new.pseudonym or "").strip() or None
    if new.role is Role.VOLUNTEER and pseudonym is None:
        raise AccountError(_l("A volunteer needs a pseudonym: schools and staff see only that."), field="pseudonym")
    if new.manages_volunteers and new.role is not Role.ADMIN:
        raise AccountError(_l("Only an administrator can run the volunteer programme."), field="manages_volunteers")
    if len(new.password) < MIN_PASSWORD:
        raise AccountError(_l("At least %(n)s characters.", n=MIN_PASSWORD), field="password")
    if new.school_id and db.session.get(School, new.school_id) is None:
        raise AccountError(_l("This school does not exist."), field="school_id")
    user = User(username=username, display_name=new.display_name.strip(), role=new.role,
                school_id=new.school_id or None, pseudonym=pseudonym,
                manages_volunteers=new.manages_volunteers)
    user.set_password(new.password)
    if new.role is Role.VOLUNTEER and new.child_school_ids:
        user.child_schools = list(db.session.scalars(sa.select(School).where(School.id.in_(new.child_school_ids))))
    db.session.add(user)
    return user


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
