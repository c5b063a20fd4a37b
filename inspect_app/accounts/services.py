"""Signing in and out, shared by the HTML pages and the JSON API."""
from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from inspect_app.accounts import throttle
from inspect_app.accounts.models import AccountError, AuthSession, IdentityReveal, Role, SessionKind, User
from inspect_app.accounts.throttle import SignInThrottled
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db


@dataclass
class SignInResult:
    user: User | None
    raw_key: str | None = None
    # The password was right but someone else chose it: the owner must change it on the web first.
    must_change_password: bool = False


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


# NIST SP 800-63B (5.1.1.2): a length floor, a generous ceiling, any characters, no composition rules
# ("one digit, one capital…" only breeds "Password1!"), and a refusal of passwords that are common,
# breached, repetitive or made of the account's own details.
MIN_PASSWORD = 10
MAX_PASSWORD = 256
# The service's own names: a password made of them is the first guess at any of its accounts.
CONTEXT_WORDS = ("safecampus", "inspect", "xiaoyuan", "ducha", "duxue", "anquan", "jiaoyuju")
TEMPORARY_PASSWORD_LENGTH = 12


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords from breach corpora, as the zxcvbn package ships them
    (lower-case; the list is what attackers try first)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS
    return frozenset(FREQUENCY_LISTS["passwords"])


def _is_run(text: str) -> bool:
    """One character repeated, or a straight run up or down the character table ("abcdefghij",
    "9876543210"), or a short pattern repeated ("abcabcabcabc")."""
    if len(set(text)) <= 2:
        return True
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:])}
    if len(steps) == 1 and steps <= {1, -1}:
        return True
    return any(len(text) % n == 0 and text[:n] * (len(text) // n) == text for n in range(1, 5))


def password_problem(password: str, *, username: str = "", display_name: str = "") -> str | None:
    """Why this password may not be used, in words for its owner; None when it may. What is left once
    the account's own names and the service's are taken out must still be a password of its own."""
    if len(password) < MIN_PASSWORD:
        return _l("At least %(n)s characters. A few words in a row make a long password that is easy to remember.",
                 n=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        return _l("At most %(n)s characters.", n=MAX_PASSWORD)
    folded = password.casefold()
    bare = "".join(c for c in folded if c.isalnum())
    if folded in _common_passwords() or bare in _common_passwords() or _is_run(bare or folded):
        return _l("This password is on the lists that attackers try first. Choose another one.")
    own = [w for w in (normalise_username(username), (display_name or "").strip().casefold()) if len(w) >= 3]
    stripped = bare
    for word in own + list(CONTEXT_WORDS):
        stripped = stripped.replace("".join(c for c in word if c.isalnum()), "")
    if len(stripped) < 6:
        return _l("Do not build the password from your name, your username or the app's name.")
    return None


def _check_password(password: str, username: str, display_name: str, field: str = "password") -> None:
    problem = password_problem(password, username=username, display_name=display_name)
    if problem:
        raise AccountError(problem, field=field)


def temporary_password() -> str:
    """A password an admin hands over (read out, or on paper): unambiguous letters and digits only, and
    good for one sign-in, after which its owner must choose their own."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(TEMPORARY_PASSWORD_LENGTH))
        if password_problem(candidate) is None:
            return candidate


@dataclass(kw_only=True)
class AccountChange:
    """What the admin's edit form may change on an existing account (the username stays: it is the
    sign-in name and the audit trail's handle on the person)."""
    display_name: str
    role: Role
    school_id: int | None = None
    pseudonym: str | None = None
    manages_volunteers: bool = False
    child_school_ids: tuple[int, ...] = ()
    email: str | None = None
    phone: str | None = None


@dataclass(kw_only=True)
class NewAccount(AccountChange):
    """What the admin's form (or `flask users create-admin`) asks for a new account."""
    username: str
    password: str
    # Someone else chose this password: its owner picks their own at first sign-in. Only the command
    # line's first admin, who types their own, skips it.
    must_change_password: bool = True


EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s.]{2,63}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 -]{5,30}$")


def _contact(email: str | None, phone: str | None) -> tuple[str | None, str | None]:
    email = (email or "").strip() or None
    phone = (phone or "").strip() or None
    if email and (len(email) > 254 or not EMAIL_RE.match(email)):
        raise AccountError(_l("This is not an e-mail address (name@example.cn)."), field="email")
    if phone and not PHONE_RE.match(phone):
        raise AccountError(_l("A phone number has digits only (spaces, '-' and a leading '+' are fine)."),
                           field="phone")
    return email, phone


def _check_shape(role: Role, school_id: int | None, pseudonym: str | None, manages_volunteers: bool) -> None:
    """What an account of each role is: a duty officer belongs to exactly one school and nobody else does;
    a volunteer is known by a pseudonym; only an administrator runs the volunteer programme."""
    from inspect_app.schools.models import School  # schools import accounts: resolve at call time

    if role is Role.DUTY_OFFICER and not school_id:
        raise AccountError(_l("A duty officer must belong to a school."), field="school_id")
    if role is not Role.DUTY_OFFICER and school_id:
        raise AccountError(_l("Only duty officers belong to a school."), field="school_id")
    if role is Role.VOLUNTEER and pseudonym is None:
        raise AccountError(_l("A volunteer needs a pseudonym: schools and staff see only that."), field="pseudonym")
    if manages_volunteers and role is not Role.ADMIN:
        raise AccountError(_l("Only an administrator can run the volunteer programme."), field="manages_volunteers")
    if school_id and db.session.get(School, school_id) is None:
        raise AccountError(_l("This school does not exist."), field="school_id")


def _set_child_schools(user: User, school_ids: tuple[int, ...]) -> None:
    """A volunteer's children's schools, never one they are assigned to check (the conflict-of-interest
    rule, schools.services.conflicting_schools). Through the collection, so each link is audited."""
    from inspect_app.schools.models import School, school_assignments
    from inspect_app.schools.services import conflicting_schools

    wanted = set(school_ids) if user.role is Role.VOLUNTEER else set()
    schools = list(db.session.scalars(sa.select(School).where(School.id.in_(wanted)).order_by(School.id))) \
        if wanted else []
    if len(schools) != len(wanted):
        raise AccountError(_l("This school does not exist."), field="child_school_ids")
    if user.id is not None and schools:
        assigned = set(db.session.scalars(sa.select(school_assignments.c.school_id)
                                          .where(school_assignments.c.user_id == user.id)))
        clash = conflicting_schools(user.role, wanted, assigned)
        if clash:
            name = next(s.name for s in schools if s.id in clash)
            raise AccountError(_l("This volunteer is assigned to check %(school)s. Take them off that school's "
                                  "list first: nobody checks their own child's school.", school=name),
                               status=409, field="child_school_ids")
    if {s.id for s in user.child_schools} != wanted:
        user.child_schools = schools


def create_account(new: NewAccount) -> User:
    """The rules for an account, for every way one is made: a unique username, the role's shape
    (_check_shape), a password under the NIST rules, and a first sign-in that asks for the owner's own
    password. A refusal names its form field (AccountError.field). Caller commits."""
    username = normalise_username(new.username)
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise AccountError(_l("This username is taken."), field="username")
    pseudonym = (new.pseudonym or "").strip() or None
    _check_shape(new.role, new.school_id, pseudonym, new.manages_volunteers)
    email, phone = _contact(new.email, new.phone)
    _check_password(new.password, username, new.display_name)
    user = User(username=username, display_name=new.display_name.strip(), role=new.role,
                school_id=new.school_id or None, pseudonym=pseudonym, email=email, phone=phone,
                manages_volunteers=new.manages_volunteers, must_change_password=new.must_change_password)
    if new.role is Role.VOLUNTEER:
        # Sealed before the first flush: the plain real name never reaches a row or the audit chain.
        user.seal_identity(new.display_name.strip(), phone)
    user.set_password(new.password)
    _set_child_schools(user, new.child_school_ids)
    db.session.add(user)
    return user


def update_account(user: User, change: AccountChange, by: User) -> User:
    """Change an account under the same rules as creating one, and these: nobody changes their own role
    or their own volunteer-programme right (the last admin must not lock the bureau out); a volunteer
    stays a volunteer and nobody becomes one (their covert checks are signed with a pseudonym, which a
    change of role would swap for the real name on every past record: make a new account instead)."""
    pseudonym = (change.pseudonym or "").strip() or None
    if user.id == by.id and (change.role is not user.role or change.manages_volunteers != user.manages_volunteers):
        raise AccountError(_l("You cannot change your own role. Ask another administrator."), field="role")
    if change.role is not user.role and Role.VOLUNTEER in (change.role, user.role):
        raise AccountError(_l("A volunteer account cannot change role, and no account can become a volunteer's: "
                              "create a new account instead."), field="role")
    _check_shape(change.role, change.school_id, pseudonym, change.manages_volunteers)
    email, phone = _contact(change.email, change.phone)
    display_name = (change.display_name or "").strip()
    if user.role is Role.VOLUNTEER:
        _update_identity(user, display_name, phone, pseudonym)
    elif not display_name:
        raise AccountError(_l("This field is required."), field="display_name")
    else:
        user.display_name, user.phone = display_name, phone
    user.role, user.pseudonym = change.role, pseudonym
    user.school_id = change.school_id or None
    user.manages_volunteers, user.email = change.manages_volunteers, email
    _set_child_schools(user, change.child_school_ids)
    return user


def _update_identity(user: User, real_name: str, phone: str | None, pseudonym: str | None) -> None:
    """A volunteer's edit: the form never shows the sealed identity (that would be a reveal without a
    reason), so a blank real name or phone keeps what is sealed and a typed one replaces it."""
    user.pseudonym = pseudonym
    if real_name or phone:
        kept = user.identity() if user.identity_sealed else None
        user.seal_identity(real_name or (kept.real_name if kept else user.display_name),
                           phone or (kept.phone if kept else None))
    user.display_name, user.phone = pseudonym or user.display_name, None


def change_own_contact(user: User, email: str | None, phone: str | None) -> None:
    """The owner's own e-mail and phone, where notices reach them outside the app (inspect_app.notify),
    under the admin form's checks; blank clears. Not a volunteer's: their phone is sealed with their
    real name, and only the programme coordinator changes it. Caller commits."""
    if user.role is Role.VOLUNTEER:
        raise AccountError(_l("A volunteer's phone is kept sealed: ask the volunteer programme coordinator to "
                              "change it."), 403)
    user.email, user.phone = _contact(email, phone)


def reset_password(user: User) -> str:
    """An admin's reset: a temporary password (returned once, to hand over), every session and token of
    the account ended, and a change forced at the next sign-in. Caller commits."""
    temporary = temporary_password()
    user.set_password(temporary)
    user.must_change_password = True
    user.clear_signin_failures()  # the owner was probably locked out: the new password works at once
    AuthSession.revoke_all_for(user)
    return temporary


def change_own_password(user: User, current: str, new: str) -> None:
    """The owner's change: the current password first (a borrowed, still signed-in phone must not take
    the account over), then a new one under the NIST rules that is not the old one. Other sessions and
    tokens end; the one in use stays. Caller commits."""
    if not user.check_password(current or ""):
        raise AccountError(_l("This is not your current password."), field="current")
    if new == current:
        raise AccountError(_l("Choose a password different from the one you have now."), field="new")
    _check_password(new, user.username, user.display_name, field="new")
    user.set_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    keep = user.auth_session.id if user.auth_session is not None else None
    db.session.execute(sa.update(AuthSession).where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None),
                                                    AuthSession.id != (keep or -1))
                       .values(revoked_at=utcnow()))


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
    if kind is SessionKind.API and user.must_change_password:
        # No token: the phone app has no form to choose a password on; the web sign-in has one.
        return SignInResult(user=user, must_change_password=True)
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


def reveal(volunteer: User, by: User, reason: str):
    """Open a volunteer's sealed identity for the coordinator, recording who, whom, when and why first
    (the IdentityReveal row is chained like every change). Returns escrow.Identity. Caller commits."""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise AccountError(_l("Say why you need the real name (at least 4 characters)."), field="reason")
    db.session.add(IdentityReveal(volunteer_id=volunteer.id, revealed_by_id=by.id, reason=reason[:500]))
    return volunteer.identity()
