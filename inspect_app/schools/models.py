"""Schools and the QR tokens printed on their posters."""
from __future__ import annotations

import functools
import secrets
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from inspect_app.accounts.models import User
from inspect_app.dbtypes import LabelledEnum, UTCDateTime, utcnow
from inspect_app.extensions import db


class SchoolKind(LabelledEnum):
    KINDERGARTEN = "kindergarten", _l("Kindergarten")
    PRIMARY = "primary", _l("Primary school")
    JUNIOR_HIGH = "junior_high", _l("Junior high school")
    NINE_YEAR = "nine_year", _l("Nine-year school")
    SENIOR_HIGH = "senior_high", _l("Senior high school")
    VOCATIONAL = "vocational", _l("Vocational school")
    SPECIAL = "special", _l("Special education school")
    TRAINING = "training", _l("Training institution")


def new_qr_token() -> str:
    # 128 bits: unguessable, and short enough to keep the printed code easy to scan.
    return secrets.token_urlsafe(16)


# Who is assigned to a school: its responsible inspectors (责任督学) and assigned volunteers.
school_assignments = sa.Table(
    "school_assignments",
    db.metadata,
    sa.Column("school_id", sa.ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)


# Schools where a volunteer's own child studies: never theirs to check (a conflict of interest).
volunteer_child_schools = sa.Table(
    "volunteer_child_schools",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("school_id", sa.ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True, index=True),
)


def child_school_ids(user: User) -> set[int]:
    return set(db.session.scalars(sa.select(volunteer_child_schools.c.school_id)
                                  .where(volunteer_child_schools.c.user_id == user.id)))


class School(db.Model):
    __tablename__ = "schools"
    __table_args__ = (
        sa.UniqueConstraint("district", "name", name="uq_schools_district_name"),
        sa.CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="coords"),
        sa.CheckConstraint("radius_m > 0", name="radius_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    district: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(128))
    kind: so.Mapped[SchoolKind] = so.mapped_column(
        sa.Enum(SchoolKind, native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e]))
    address: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    lat: so.Mapped[float]
    lon: so.Mapped[float]
    radius_m: so.Mapped[int] = so.mapped_column(default=200)
    qr_token: so.Mapped[str] = so.mapped_column(sa.String(43), unique=True, default=new_qr_token)
    qr_issued_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    duty_officers: so.Mapped[list[User]] = so.relationship(
        back_populates="school", foreign_keys=[User.school_id])
    assigned_users: so.Mapped[list[User]] = so.relationship(
        secondary=school_assignments, order_by=User.username)
    retired_tokens: so.Mapped[list["RetiredQrToken"]] = so.relationship(
        back_populates="school", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<School {self.id} {self.name}>"

    @property
    def responsible_inspectors(self) -> list[User]:
        return [u for u in self.assigned_users if u.role.value == "inspector"]

    def rotate_qr(self) -> None:
        """Issue a new token; the old one keeps answering 'replaced' (410), never the school."""
        self.retired_tokens.append(RetiredQrToken(token=self.qr_token, retired_at=utcnow()))
        self.qr_token = new_qr_token()
        self.qr_issued_at = utcnow()


class RetiredQrToken(db.Model):
    """A token from a replaced poster, kept so a scan of it says 'replaced' rather than 'unknown'."""

    __tablename__ = "retired_qr_tokens"

    token: so.Mapped[str] = so.mapped_column(sa.String(43), primary_key=True)
    school_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("schools.id", ondelete="CASCADE"),
                                                 index=True)
    retired_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    school: so.Mapped[School] = so.relationship(back_populates="retired_tokens")


class Recusal(db.Model):
    """An inspector recused (回避) from a school: a relative works there, a past complaint, a conflict
    the bureau knows of. Neither the draw nor the visit start sends them there; lifting it deletes the
    row (the audit chain keeps both the recusal and its lifting)."""

    __tablename__ = "recusals"
    __table_args__ = (sa.UniqueConstraint("user_id", "school_id", name="uq_recusals_user_school"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    school_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])
    created_by: so.Mapped[User] = so.relationship(foreign_keys=[created_by_id])


def recused_school_ids(user_id: int) -> set[int]:
    return set(db.session.scalars(_recused_from(), {"user_id": user_id}))


def is_recused(user_id, school_id) -> sa.Exists:
    """Whether a person is recused from a school (回避), as a clause: for a query that reads the school
    anyway, and answers this in the same round trip (issue 18)."""
    return sa.exists().where(Recusal.user_id == user_id, Recusal.school_id == school_id)


@functools.cache
def _recused_from() -> sa.Select:
    """Built once: every visit started asks it, and building and keying a select cost about as much of
    the app's time as running it (issue 18)."""
    return sa.select(Recusal.school_id).where(Recusal.user_id == sa.bindparam("user_id"))


def recusals_by_user() -> dict[int, set[int]]:
    """Every recusal, by person: one query for a whole draw."""
    found: dict[int, set[int]] = {}
    for user_id, school_id in db.session.execute(sa.select(Recusal.user_id, Recusal.school_id)):
        found.setdefault(user_id, set()).add(school_id)
    return found
