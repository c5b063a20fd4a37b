"""Users and the server-side sessions that make sign-out and disabling real."""
from __future__ import annotations

import enum
import functools
import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin

from inspect_app.dbtypes import LabelledEnum, UTCDateTime, utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db


class Role(LabelledEnum):
    ADMIN = "admin", _l("Administrator")
    LEADER = "leader", _l("Bureau leader")
    INSPECTOR = "inspector", _l("Inspector")
    VOLUNTEER = "volunteer", _l("Parent volunteer")
    DUTY_OFFICER = "duty_officer", _l("School duty officer")


# The bureau's people: they see every school and the full record (a school's officer and a volunteer
# see less). The one list every access rule takes this from.
BUREAU_ROLES = (Role.ADMIN, Role.LEADER, Role.INSPECTOR)
# Its people in the field: they verify a rectification, issue a hand-over sheet and triage a
# complaint; an administrator runs the system and does none of these.
FIELD_ROLES = frozenset({Role.INSPECTOR, Role.LEADER})
# Who goes to schools to check them: their own visits, and schools kept on the phone for offline use.
VISITOR_ROLES = FIELD_ROLES | {Role.VOLUNTEER}
# Who is assigned schools and checks to make (a plan's or a complaint's tasks).
ASSIGNEE_ROLES = frozenset({Role.INSPECTOR, Role.VOLUNTEER})
# Who runs the bureau's desk: plans, recusals, the audit trail.
MANAGER_ROLES = frozenset({Role.ADMIN, Role.LEADER})
# Who is told of a ticket's steps (the notices page): the bureau's people in the field and the schools.
NOTIFIED_ROLES = FIELD_ROLES | {Role.DUTY_OFFICER}
# Everyone but a volunteer: the bureau and the schools' officers (a school's ticket counts, the circular).
STAFF_ROLES = frozenset(BUREAU_ROLES) | {Role.DUTY_OFFICER}


class AccountError(DomainError):
    """An account change that the rules forbid; the message is shown to the user."""

    status = 422


class PasswordChangeRequired(AccountError):
    """The password was right but an admin chose it: the owner must pick their own on the web first.
    The API's machine code tells the phone app to send its user there."""

    status = 403
    code = "password_change_required"

    def __init__(self):
        super().__init__(_l("Choose a new password on the web sign-in page first; then sign in here again."))


def _hasher() -> PasswordHasher:
    return PasswordHasher(
        time_cost=current_app.config["ARGON2_TIME_COST"],
        memory_cost=current_app.config["ARGON2_MEMORY_COST"],
        parallelism=current_app.config["ARGON2_PARALLELISM"],
    )


def _digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # A duty officer belongs to exactly one school; nobody else is bound to one.
        sa.CheckConstraint(
            "(role = 'duty_officer' AND school_id IS NOT NULL) OR "
            "(role <> 'duty_officer' AND school_id IS NULL)",
            name="school_only_for_duty_officer",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # A volunteer's is their pseudonym: their real name is only ever in identity_sealed.
    display_name: so.Mapped[str] = so.mapped_column(sa.String(100))
    # What everyone sees of a volunteer (志愿者 + a number for a self-registered one).
    pseudonym: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    # A volunteer's real name and phone, encrypted with a key outside the database (accounts/escrow.py);
    # opened only by the programme coordinator's logged reveal.
    identity_sealed: so.Mapped[str | None] = so.mapped_column(sa.Text)
    role: so.Mapped[Role] = so.mapped_column(sa.Enum(Role, native_enum=False, length=20,
                                                     values_callable=lambda e: [m.value for m in e]))
    school_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("schools.id"), index=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    email: so.Mapped[str | None] = so.mapped_column(sa.String(255))  # for notices when SMTP is set up
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Only the volunteer programme admin may see who a volunteer really is.
    manages_volunteers: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    disabled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Failed sign-ins before this moment no longer count against the account (an admin cleared them).
    signin_cleared_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Set for a new account and after an admin's reset: the password is one someone else chose (and
    # may have written down), so the owner must pick their own before doing anything else.
    must_change_password: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    password_changed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    school: so.Mapped["School | None"] = so.relationship(  # noqa: F821
        foreign_keys=[school_id], back_populates="duty_officers")
    # Schools a volunteer's own children attend (the table is schools.models.volunteer_child_schools).
    # Changed through this collection, so each link is an audit entry like any other change.
    child_schools: so.Mapped[list["School"]] = so.relationship(  # noqa: F821
        secondary="volunteer_child_schools")

    # Set on the instance by the session loader; Flask-Login stores get_id() in the cookie.
    session_key = None  # str | None
    auth_session = None  # AuthSession | None

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str | None:
        # Flask-Login's "alternative token" pattern: the cookie holds a revocable session key,
        # never the user id, so signing out or disabling the account ends every copied cookie.
        return self.session_key

    def set_password(self, password: str) -> None:
        self.password_hash = _hasher().hash(password)

    def check_password(self, password: str) -> bool:
        try:
            ok = _hasher().verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if ok and _hasher().check_needs_rehash(self.password_hash):
            self.set_password(password)
        return ok

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def name_for(self, viewer: "User | None") -> str:
        """The name a viewer may see: a volunteer is known by pseudonym to everyone else, and by the
        username they chose to themself (their screens must not say 志愿者 at the gate). Nobody, the
        programme coordinator included, gets the real name here: only through a logged reveal."""
        if self.role is Role.VOLUNTEER:
            if viewer is not None and viewer.id == self.id:
                return self.username
            return self.pseudonym or self.display_name
        return self.display_name

    def seal_identity(self, real_name: str, phone: str | None) -> None:
        """Keep a volunteer's real name and phone encrypted only; the plain columns carry nothing of them."""
        from inspect_app.accounts.escrow import Identity, seal
        self.identity_sealed = seal(Identity(real_name=real_name, phone=phone))
        self.display_name, self.phone = self.pseudonym or self.display_name, None

    def identity(self):
        """The unsealed identity (escrow.Identity), or None; for the logged reveal only."""
        from inspect_app.accounts.escrow import unseal
        return unseal(self.identity_sealed) if self.identity_sealed else None

    def disable(self) -> None:
        """Disable the account and end all of its sessions and tokens."""
        if not self.active:
            raise AccountError(_l("This account is already disabled."), 409)
        self.active = False
        self.disabled_at = utcnow()
        AuthSession.revoke_all_for(self)

    def clear_signin_failures(self) -> None:
        """Forget this account's failed sign-ins (the rows stay, for the record)."""
        self.signin_cleared_at = utcnow()

    def enable(self) -> None:
        if self.active:
            raise AccountError(_l("This account is already enabled."), 409)
        self.active = True
        self.disabled_at = None


class SessionKind(enum.StrEnum):
    WEB = "web"
    API = "api"


class AuthSession(db.Model):
    """One signed-in browser or one API token; only a hash of its key is stored."""

    __tablename__ = "auth_sessions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"),
                                               index=True)
    kind: so.Mapped[SessionKind] = so.mapped_column(
        sa.Enum(SessionKind, native_enum=False, length=8,
                values_callable=lambda e: [m.value for m in e]))
    key_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship()

    @classmethod
    def issue(cls, user: User, kind: SessionKind, lifetime: timedelta) -> tuple["AuthSession", str]:
        raw_key = secrets.token_urlsafe(32)
        session = cls(user=user, kind=kind, key_hash=_digest(raw_key),
                      expires_at=utcnow() + lifetime)
        db.session.add(session)
        return session, raw_key

    @classmethod
    def find_valid(cls, raw_key: str, kind: SessionKind) -> "AuthSession | None":
        # With its user in the same query: every signed-in request asks for both.
        session = db.session.scalar(_session_by_key(), {"key_hash": _digest(raw_key), "kind": kind})
        if session is None or not session.is_valid():
            return None
        return session

    @classmethod
    def revoke_all_for(cls, user: User) -> None:
        db.session.execute(sa.update(cls).where(cls.user_id == user.id, cls.revoked_at.is_(None))
                           .values(revoked_at=utcnow()))

    def is_valid(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow() and self.user.active

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = utcnow()


@functools.cache
def _session_by_key() -> sa.Select:
    """The one statement every signed-in request runs, built once: building and keying a select cost
    about as much of the app's time as running it (issue 18)."""
    return (sa.select(AuthSession).where(AuthSession.key_hash == sa.bindparam("key_hash"),
                                         AuthSession.kind == sa.bindparam("kind"))
            .options(so.joinedload(AuthSession.user)))


class SignInAttempt(db.Model):
    """Every sign-in attempt, kept so throttling works across processes and hosts."""

    __tablename__ = "signin_attempts"
    __table_args__ = (
        sa.Index("ix_signin_attempts_username_at", "username", "at"),
        sa.Index("ix_signin_attempts_ip_at", "ip", "at"),
        sa.Index("ix_signin_attempts_username_device_at", "username", "device", "at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64))
    ip: so.Mapped[str] = so.mapped_column(sa.String(45))
    # The device cookie's id when the browser had signed in to this account before; None otherwise.
    device: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    succeeded: so.Mapped[bool]
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class IdentityReveal(db.Model):
    """The volunteer programme admin looked behind a pseudonym: who, whom, when and why."""

    __tablename__ = "identity_reveals"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    volunteer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    revealed_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
