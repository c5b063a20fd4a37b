"""Checklist templates as data. A template has versions; a version's items never change once a
visit may have answered them, so an edit always makes a new version."""
from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from inspect_app.accounts.models import Role, User
from inspect_app.dbtypes import LabelledEnum, UTCDateTime, enum_column, utcnow
from inspect_app.extensions import db


class Severity(LabelledEnum):
    MINOR = "minor", _l("Minor")        # 一般
    MAJOR = "major", _l("Serious")        # 较重
    CRITICAL = "critical", _l("Critical")  # 严重


class VisitMode(LabelledEnum):
    OVERT = "overt", _l("Overt inspection")            # 明查
    COVERT = "covert", _l("Covert check")          # 暗访
    SELF_CHECK = "self_check", _l("Daily self-check")  # 自查
    FOLLOW_UP = "follow_up", _l("Follow-up visit")    # 回头看
    REMOTE = "remote", _l("Remote check")  # 电话督导 / 互联网督查: by phone, not at the school

    # Assigned below once the members exist; every rule about a remote check asks these.
    AT_THE_SCHOOL: ClassVar[frozenset["VisitMode"]]  # done at the school: location and QR prove presence
    MAY_CLOSE_TICKETS: ClassVar[frozenset["VisitMode"]]  # a re-check that can close out (销号)

    @property
    def remote(self) -> bool:
        return self not in VisitMode.AT_THE_SCHOOL


# A remote check (the Nanchang and Xuchang documents' daily phone checks) asks no location, QR code
# or photo of the site (none can exist), is marked as remote wherever a mode shows, and never closes
# a ticket: only someone who saw the rectification on site may (回头看).
VisitMode.AT_THE_SCHOOL = frozenset(VisitMode) - {VisitMode.REMOTE}
VisitMode.MAY_CLOSE_TICKETS = frozenset({VisitMode.FOLLOW_UP})
# A remote check is overt (the inspector says who calls) and answers the overt inspection's checklists;
# so does a follow-up (回头看), whose subject is the school's tickets: its items are answered as far as
# the inspector looks again, none is owed (visits.services.blockers).
TEMPLATE_MODE = {VisitMode.REMOTE: VisitMode.OVERT, VisitMode.FOLLOW_UP: VisitMode.OVERT}


# Who may run which kind of visit (PRODUCT.md, roles table).
MODES_BY_ROLE = {
    Role.LEADER: (VisitMode.OVERT, VisitMode.REMOTE, VisitMode.FOLLOW_UP),
    Role.INSPECTOR: (VisitMode.OVERT, VisitMode.COVERT, VisitMode.REMOTE, VisitMode.FOLLOW_UP),
    # Covert first: a task's default mode (plans.services.create_task), and the volunteers' usual check.
    # Overt (明查): the parent says at the gate who they are, and answers their own template below.
    Role.VOLUNTEER: (VisitMode.COVERT, VisitMode.OVERT),
    Role.DUTY_OFFICER: (VisitMode.SELF_CHECK,),
    Role.ADMIN: (),
}

# Templates bound to a role and mode (by code, as builtin.py ships them): in that mode the role gets
# these and no others, and no one else ever gets them. A parent's overt visit is not an inspector's
# on-site check (no records to audit, no rooms to open), and an inspector never answers a parent's list.
ROLE_TEMPLATES = {(Role.VOLUNTEER, VisitMode.OVERT): frozenset({"parent_overt"})}


def localised(zh: str, en: str) -> str:
    return en if str(get_locale()) == "en" and en else zh


class ChecklistTemplate(db.Model):
    __tablename__ = "checklist_templates"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name_zh: so.Mapped[str] = so.mapped_column(sa.String(100))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(100))
    # Space-separated VisitMode values this template serves.
    modes_text: so.Mapped[str] = so.mapped_column("modes", sa.String(64))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    versions: so.Mapped[list["TemplateVersion"]] = so.relationship(
        back_populates="template", order_by="TemplateVersion.number", cascade="all, delete-orphan")

    @property
    def name(self) -> str:
        return localised(self.name_zh, self.name_en)

    @property
    def modes(self) -> set[VisitMode]:
        return {VisitMode(m) for m in self.modes_text.split()}

    @modes.setter
    def modes(self, values) -> None:
        self.modes_text = " ".join(sorted(VisitMode(v).value for v in values))

    @property
    def current_version(self) -> "TemplateVersion | None":
        return self.versions[-1] if self.versions else None

    def new_version(self, items: list["ChecklistItem"], author: User | None, note: str = "") -> "TemplateVersion":
        """Publish a new version with these items; earlier versions stay as they were."""
        number = (self.current_version.number + 1) if self.current_version else 1
        version = TemplateVersion(template=self, number=number, created_by=author, note=note)
        for position, item in enumerate(items, start=1):
            item.position = position
            version.items.append(item)
        self.versions.append(version)
        return version


class TemplateVersion(db.Model):
    __tablename__ = "template_versions"
    __table_args__ = (sa.UniqueConstraint("template_id", "number", name="uq_template_versions_number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    template_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("checklist_templates.id"), index=True)
    number: so.Mapped[int]
    note: so.Mapped[str] = so.mapped_column(sa.String(255), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

    template: so.Mapped[ChecklistTemplate] = so.relationship(back_populates="versions")
    created_by: so.Mapped[User | None] = so.relationship()
    items: so.Mapped[list["ChecklistItem"]] = so.relationship(
        back_populates="version", order_by="ChecklistItem.position", cascade="all, delete-orphan")

    def item(self, code: str) -> "ChecklistItem | None":
        return next((i for i in self.items if i.code == code), None)

    def sections(self) -> list[tuple[str, list["ChecklistItem"]]]:
        grouped: dict[str, list[ChecklistItem]] = {}
        for item in self.items:
            grouped.setdefault(item.section, []).append(item)
        return list(grouped.items())


class ChecklistItem(db.Model):
    __tablename__ = "checklist_items"
    __table_args__ = (
        sa.UniqueConstraint("version_id", "code", name="uq_checklist_items_version_code"),
        sa.CheckConstraint("deadline_hours > 0", name="deadline_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    version_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("template_versions.id"), index=True)
    position: so.Mapped[int]
    code: so.Mapped[str] = so.mapped_column(sa.String(32))
    section_zh: so.Mapped[str] = so.mapped_column(sa.String(100))
    section_en: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    text_zh: so.Mapped[str] = so.mapped_column(sa.String(500))
    text_en: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    guidance_zh: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    guidance_en: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    severity: so.Mapped[Severity] = so.mapped_column(enum_column(Severity), default=Severity.MINOR)
    photo_required: so.Mapped[bool] = so.mapped_column(default=False)
    deadline_hours: so.Mapped[int] = so.mapped_column(default=72)
    # Rectification is shown by a document (a plan, a rule, a record): the only kind of ticket that may
    # be closed out from the desk; any other needs a follow-up visit at the school (回头看).
    document_evidence: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())

    version: so.Mapped[TemplateVersion] = so.relationship(back_populates="items")

    @property
    def section(self) -> str:
        return localised(self.section_zh, self.section_en)

    @property
    def text(self) -> str:
        return localised(self.text_zh, self.text_en)

    @property
    def guidance(self) -> str:
        return localised(self.guidance_zh, self.guidance_en)

    def copy(self) -> "ChecklistItem":
        return ChecklistItem(**{c: getattr(self, c) for c in COPIED_FIELDS})


COPIED_FIELDS = ("code", "section_zh", "section_en", "text_zh", "text_en", "guidance_zh",
                 "guidance_en", "severity", "photo_required", "deadline_hours", "document_evidence")
