"""Invitations to join the programme, and each volunteer's accepted agreement."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from inspect_app.accounts.models import User
from inspect_app.dbtypes import LabelledEnum, UTCDateTime, utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db


class InvitationState(LabelledEnum):
    UNUSED = "unused", _l("Not used yet")
    USED = "used", _l("Used")
    EXPIRED = "expired", _l("Expired")
    WITHDRAWN = "withdrawn", _l("Withdrawn")


class InvitationGone(DomainError):
    """A used, expired or withdrawn invitation: the link existed, it no longer works (410)."""

    status = 410
    code = "invitation_gone"


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class VolunteerInvitation(db.Model):
    """A single-use code that lets one parent register. Only its SHA-256 is stored: the code is shown
    once, on the coordinator's screen and its printout, so a copy of the database opens no account."""

    __tablename__ = "volunteer_invitations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    used_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), unique=True)
    withdrawn_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Optimistic lock: two phones racing on one code, the second write is a 409, never a second account.
    version: so.Mapped[int] = so.mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    used_by: so.Mapped[User | None] = so.relationship(foreign_keys=[used_by_id])

    @classmethod
    def issue(cls, by: User, expires_at: datetime) -> tuple["VolunteerInvitation", str]:
        code = secrets.token_urlsafe(12)  # 96 bits: unguessable, short enough for a QR code
        invitation = cls(code_hash=code_digest(code), created_by_id=by.id, expires_at=expires_at)
        db.session.add(invitation)
        return invitation, code

    def state_at(self, now: datetime) -> InvitationState:
        if self.used_at is not None:
            return InvitationState.USED
        if self.withdrawn_at is not None:
            return InvitationState.WITHDRAWN
        if self.expires_at <= now:
            return InvitationState.EXPIRED
        return InvitationState.UNUSED

    @property
    def state(self) -> InvitationState:
        return self.state_at(utcnow())

    def check_usable(self) -> None:
        state = self.state
        if state is InvitationState.USED:
            raise InvitationGone(_l("This invitation has been used already. Ask the programme coordinator for a new one."))
        if state is InvitationState.WITHDRAWN:
            raise InvitationGone(_l("This invitation was withdrawn. Ask the programme coordinator for a new one."))
        if state is InvitationState.EXPIRED:
            raise InvitationGone(_l("This invitation has expired. Ask the programme coordinator for a new one."))

    def use(self, user: User) -> None:
        self.check_usable()
        self.used_at, self.used_by = utcnow(), user

    def withdraw(self) -> None:
        if self.state is not InvitationState.UNUSED:
            raise DomainError(_l("Only an unused invitation can be withdrawn."), 409)
        self.withdrawn_at = utcnow()


class VolunteerAgreement(db.Model):
    """The agreement a volunteer accepted, by version: what they were told is part of the record."""

    __tablename__ = "volunteer_agreements"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    version: so.Mapped[str] = so.mapped_column(sa.String(20))
    accepted_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    user: so.Mapped[User] = so.relationship()
