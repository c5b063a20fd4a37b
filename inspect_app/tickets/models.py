"""A ticket and its written record (书面交办): every step, who, when, what, with photos."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import ClassVar

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from geopy.distance import geodesic
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property

from inspect_app.accounts.models import FIELD_ROLES, Role, User
from inspect_app.checklists.models import ChecklistItem, Severity, VisitMode
from inspect_app.dbtypes import LabelledEnum, UTCDateTime, enum_column, utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.schools.models import School
from inspect_app.visits.models import Finding, Visit


class TicketStatus(LabelledEnum):
    OPEN = "open", _l("To rectify")
    RESPONDED = "responded", _l("Awaiting verification")
    CLOSED = "closed", _l("Closed out")
    REOPENED = "reopened", _l("Sent back")

    # Groups of states, assigned below once the members exist; every check and query names a group.
    AWAITING_SCHOOL: ClassVar[frozenset["TicketStatus"]]  # the school owes the work (and can be late)
    VERIFIABLE: ClassVar[frozenset["TicketStatus"]]  # a re-check may close or send back
    ACTIVE: ClassVar[frozenset["TicketStatus"]]  # not closed out


TicketStatus.AWAITING_SCHOOL = frozenset({TicketStatus.OPEN, TicketStatus.REOPENED})
# Sent back, a ticket waits for the school's next report before anyone checks it again.
TicketStatus.VERIFIABLE = frozenset({TicketStatus.OPEN, TicketStatus.RESPONDED})
TicketStatus.ACTIVE = frozenset(TicketStatus) - {TicketStatus.CLOSED}


class EventKind(LabelledEnum):
    OPENED = "opened", _l("Handed to the school")
    RESPONDED = "responded", _l("School reported rectification")
    CLOSED = "closed", _l("Verified and closed out")
    REOPENED = "reopened", _l("Sent back with a new deadline")
    REMINDER = "reminder", _l("Overdue: reminder sent")
    HEAD_NOTIFIED = "head_notified", _l("Overdue: school head notified")
    BUREAU_NOTICE = "bureau_notice", _l("Overdue: bureau notice issued")
    # Notices only, never a ticket's step: the school's daily report (duties) uses the same inbox.
    REPORT_DUE = "report_due", _l("Daily report due soon")
    REPORT_MISSING = "report_missing", _l("Daily report not filed")
    # The signed daily report circulated (reports): a school's notice leads to its own excerpt.
    CIRCULAR = "circular", _l("Daily circular")
    # A hand-over sheet (交办单) issued to the school: its notice leads to the sheet to sign for.
    HAND_OVER = "hand_over", _l("Hand-over sheet to sign for")
    # The sheet still not signed for after a working day: the school is reminded, its inspectors told.
    HAND_OVER_OVERDUE = "hand_over_overdue", _l("Hand-over sheet not signed for in time")
    # The worker's notices to the leaders about the bureau's day (no school, no ticket).
    REPORT_UNSIGNED = "report_unsigned", _l("Today's daily report awaits signature")
    TRIAGE_OVERDUE = "triage_overdue", _l("Complaints overdue for triage")


# Who re-checks a school's rectification: the bureau's people in the field, never an administrator.
VERIFIER_ROLES = FIELD_ROLES

# The escalation ladder: how long past the deadline each step is taken.
LADDER = [(EventKind.REMINDER, timedelta(0)), (EventKind.HEAD_NOTIFIED, timedelta(days=1)),
          (EventKind.BUREAU_NOTICE, timedelta(days=3))]


def recheck_blocks(*, close: bool | None = None, photos: bool = True, deadline_ahead: bool = True,
                   reason_needed: bool = False, reason_given: bool = False) -> list[str]:
    """What stops a re-check's verdict from being recorded, as kinds: a close-out (close=True) without a
    photo taken at the re-check, a sending-back (close=False) without a deadline in the future, a
    leader's own finding without the reason. The one statement of these rules: verify() and its guard
    refuse by it, each asking about what it holds, and a follow-up visit's phone is sent its table
    (tickets.follow_up.recheck_rule) to warn before it submits, offline too."""
    blocks = []
    if close and not photos:
        blocks.append("close_needs_photo")
    if close is False and not deadline_ahead:
        blocks.append("reopen_needs_deadline")
    if reason_needed and not reason_given:
        blocks.append("needs_reason")
    return blocks


class TicketError(DomainError):
    """A move the ticket's state does not allow; status 409 unless said otherwise. `field` names the
    form field the message belongs under, so a page can show it there and keep what was typed."""

    status = 409


class OverrideNeeded(TicketError):
    """The finder may not verify their own finding, except a leader who gives a reason: `field` names
    where that reason goes, so the page offers the field and the API names it. A missing field: 422."""

    status = 422


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (sa.Index("ix_tickets_school_status", "school_id", "status"),
                      sa.Index("ix_tickets_status_deadline", "status", "deadline"),
                      sa.Index("ix_tickets_opened_at", "opened_at"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # A ticket comes from a visit's finding, or (no finding, no visit) from a problem the bureau
    # hands over in its own words: a public complaint, whose link lives on the complaint's side.
    finding_id: so.Mapped[str | None] = so.mapped_column(sa.ForeignKey("findings.id"), unique=True)
    visit_id: so.Mapped[str | None] = so.mapped_column(sa.ForeignKey("visits.id"), index=True)
    problem_text: so.Mapped[str | None] = so.mapped_column(sa.String(2000))
    school_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("schools.id"))
    status: so.Mapped[TicketStatus] = so.mapped_column(enum_column(TicketStatus), default=TicketStatus.OPEN)
    severity: so.Mapped[Severity] = so.mapped_column(enum_column(Severity))
    deadline: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    opened_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    escalation_level: so.Mapped[int] = so.mapped_column(default=0)
    # Optimistic locking: of two people acting at once, the second gets a conflict, not a fork.
    version: so.Mapped[int] = so.mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    finding: so.Mapped[Finding | None] = so.relationship()
    visit: so.Mapped[Visit | None] = so.relationship()
    school: so.Mapped[School] = so.relationship()
    events: so.Mapped[list["TicketEvent"]] = so.relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan")

    @hybrid_method
    def overdue_at(self, now: datetime) -> bool:
        """Overdue (逾期) means the deadline passed while the school still owes the work: the ticket is
        open or sent back. A responded ticket awaits the bureau's re-check, which is not the school's
        lateness: it neither shows 逾期 nor escalates. The one definition, in Python and in SQL, for
        the pages, the API, the counts, the dashboard, the map, the daily report and escalation."""
        return self.status in TicketStatus.AWAITING_SCHOOL and self.deadline < now

    @overdue_at.expression
    def overdue_at(cls, now: datetime) -> sa.ColumnElement[bool]:
        return sa.and_(cls.status.in_(TicketStatus.AWAITING_SCHOOL), cls.deadline < now)

    @hybrid_property
    def overdue(self) -> bool:
        return self.overdue_at(utcnow())

    @overdue.inplace.expression
    @classmethod
    def _overdue_expression(cls) -> sa.ColumnElement[bool]:
        return cls.overdue_at(utcnow())

    @property
    def description(self) -> str:
        """What the school is to fix: the finding's words, or those the bureau handed over."""
        return self.finding.description if self.finding is not None else (self.problem_text or "")

    @property
    def requirement(self) -> "ChecklistItem | None":
        """The checklist item the finding failed (None for a problem added by hand or handed over)."""
        if self.finding is None or not self.finding.item_code:
            return None
        return self.visit.version.item(self.finding.item_code)

    @property
    def document_evidence(self) -> bool:
        """Whether rectification is shown by a document (ChecklistItem.document_evidence): the only
        tickets a verifier may close out from the desk, without a follow-up visit at the school."""
        requirement = self.requirement
        return requirement is not None and requirement.document_evidence

    @property
    def distance_from_school_m(self) -> float | None:
        """How far from the school's own point the finding was recorded, when the phone knew."""
        if self.finding is None or self.finding.lat is None or self.finding.lon is None:
            return None
        return geodesic((self.finding.lat, self.finding.lon), (self.school.lat, self.school.lon)).meters

    @property
    def latest_response(self) -> "TicketEvent | None":
        return next((e for e in reversed(self.events) if e.kind is EventKind.RESPONDED), None)

    def _record(self, kind: EventKind, actor: User | None, text: str = "", **extra) -> "TicketEvent":
        event = TicketEvent(kind=kind, actor=actor, text=text, **extra)
        self.events.append(event)
        return event

    def response_refused(self, officer: User) -> TicketError | None:
        """Why `officer` may not report rectification now, or None. The one rule: the transition
        raises it, and tickets.access.can_respond asks it for the routes, the pages and the API.
        The school reports once per round: after its report it waits for the re-check."""
        if officer.role is not Role.DUTY_OFFICER or officer.school_id != self.school_id:
            return TicketError(str(_l("Only the school's duty officer can respond.")), 403)
        if self.status is TicketStatus.CLOSED:
            return TicketError(str(_l("This ticket is already closed out.")))
        if self.status not in TicketStatus.AWAITING_SCHOOL:
            return TicketError(str(_l("The school has already reported its rectification: it awaits verification.")))
        return None

    def verification_refused(self, verifier: User, require_independent: bool,
                             override_reason: str = "", visit: Visit | None = None) -> TicketError | None:
        """Why `verifier` may not re-check now, or None: the one rule (tickets.access.can_verify asks it).
        Independence: the finder never verifies their own finding; a leader may, with a reason
        (an OverrideNeeded refusal until they give one). `visit`: the follow-up visit (回头看) the
        re-check was made on, whose proof of presence the step carries: the verifier's own, at this
        school, in a mode that may close tickets (VisitMode.MAY_CLOSE_TICKETS)."""
        if verifier.role not in VERIFIER_ROLES:
            return TicketError(str(_l("Only inspectors and leaders verify rectification.")), 403)
        if visit is not None and (visit.mode not in VisitMode.MAY_CLOSE_TICKETS or visit.author_id != verifier.id
                                  or visit.school_id != self.school_id):
            return TicketError(str(_l("Only your own follow-up visit at this ticket's school verifies it.")), 422)
        if self.status is TicketStatus.CLOSED:
            return TicketError(str(_l("This ticket is already closed out.")))
        if self.status not in TicketStatus.VERIFIABLE:
            return TicketError(str(_l("This was sent back: it can be verified again once the school reports "
                                      "its rectification.")))
        if require_independent and self.found_by(verifier):
            if verifier.role is not Role.LEADER:
                return TicketError(str(_l("Another inspector must verify this: you found the problem yourself.")), 403)
            if recheck_blocks(reason_needed=True, reason_given=bool((override_reason or "").strip())):
                return OverrideNeeded(str(_l("You found this problem yourself: say why you verify it rather than "
                                             "another inspector.")), 422, "override_reason")
        return None

    def found_by(self, user: User) -> bool:
        return self.visit is not None and user.id == self.visit.author_id

    def respond(self, officer: User, text: str) -> "TicketEvent":
        """The school reports what it did. It never closes the ticket."""
        if refusal := self.response_refused(officer):
            raise refusal
        self.status = TicketStatus.RESPONDED
        return self._record(EventKind.RESPONDED, officer, text)

    def verify(self, verifier: User, close: bool, note: str, new_deadline: datetime | None,
               require_independent: bool, override_reason: str = "", visit: Visit | None = None) -> "TicketEvent":
        """Close out (销号) or send back after a re-check by someone other than the school."""
        if refusal := self.verification_refused(verifier, require_independent, override_reason, visit):
            raise refusal
        own = self.found_by(verifier)
        # Kept only when it was needed: the reason is what the record (and the audit chain) answers for.
        reason = (override_reason or "").strip()[:500] if own and require_independent else None
        if close:
            if visit is None and not self.document_evidence:
                raise TicketError(str(_l("Only a problem shown rectified by a document can be closed out from the "
                                         "desk. Close this one on a follow-up visit at the school (回头看), with "
                                         "a photo taken there.")), 422, code="needs_follow_up_visit")
            self.status = TicketStatus.CLOSED
            self.closed_at = utcnow()
            return self._record(EventKind.CLOSED, verifier, note, self_verified=own, override_reason=reason,
                                visit=visit, desk_review=visit is None)
        if recheck_blocks(close=False, deadline_ahead=new_deadline is not None and new_deadline > utcnow()):
            raise TicketError(str(_l("Sending back needs a new deadline in the future.")), 422, "new_deadline")
        self.status = TicketStatus.REOPENED
        self.deadline = new_deadline
        self.escalation_level = 0
        return self._record(EventKind.REOPENED, verifier, note, self_verified=own, override_reason=reason,
                            visit=visit)

    def escalate(self, now: datetime) -> list["TicketEvent"]:
        """Climb the ladder as far as the time overdue calls for; each step once, each recorded."""
        if not self.overdue_at(now):
            return []
        events = []
        for level, (kind, after) in enumerate(LADDER, start=1):
            if self.escalation_level < level and now - self.deadline >= after:
                self.escalation_level = level
                events.append(self._record(kind, None, at=now))
        return events


class TicketEvent(db.Model):
    __tablename__ = "ticket_events"
    __table_args__ = (sa.UniqueConstraint("ticket_id", "client_id", name="uq_ticket_events_client"),
                      sa.Index("ix_ticket_events_kind_at", "kind", "at"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    ticket_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[EventKind] = so.mapped_column(enum_column(EventKind))
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))  # None: the system
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    text: so.Mapped[str] = so.mapped_column(sa.String(2000), default="")
    self_verified: so.Mapped[bool] = so.mapped_column(default=False)
    # A leader verifying their own finding says why (REQUIRE_INDEPENDENT_VERIFIER's override).
    override_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # The follow-up visit (回头看) a verification was made on: its check-in is the step's proof of presence.
    visit_id: so.Mapped[str | None] = so.mapped_column(sa.ForeignKey("visits.id"), index=True)
    # A close-out from the desk, on the school's documents, without a follow-up visit (marked as such).
    desk_review: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # The phone's UUID for responses and verifications, and a hash of what it sent (idempotent PUT).
    client_id: so.Mapped[str | None] = so.mapped_column(sa.String(36))
    body_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))

    ticket: so.Mapped[Ticket] = so.relationship(back_populates="events")
    actor: so.Mapped[User | None] = so.relationship()
    visit: so.Mapped[Visit | None] = so.relationship()
    photos: so.Mapped[list["EventPhoto"]] = so.relationship(cascade="all, delete-orphan")


class EventPhoto(db.Model):
    """Evidence on a step: the school's after-photos, or the verifier's."""

    __tablename__ = "ticket_event_photos"

    event_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("ticket_events.id", ondelete="CASCADE"),
                                                primary_key=True)
    photo_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("photos.id"), primary_key=True, index=True)


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),
                      # A day's reminder once per person (ticket notices have no day: NULLs never clash).
                      sa.UniqueConstraint("user_id", "kind", "school_id", "day", name="uq_notifications_day_notice"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    ticket_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: so.Mapped[EventKind] = so.mapped_column(enum_column(EventKind))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    read_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # A notice about a school's day rather than a ticket (the daily report's reminders): which
    # school and which of its days, so a reminder is sent once and its notice links to that day.
    school_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("schools.id", ondelete="CASCADE"))
    day: so.Mapped[date | None] = so.mapped_column(sa.Date)

    ticket: so.Mapped[Ticket | None] = so.relationship()
    school: so.Mapped[School | None] = so.relationship()


class HandOver(db.Model):
    """The written hand-over (书面交办, 交办单) of a visit's tickets: numbered per year, signed for by
    the school's duty officer in the app. Its problems are the visit's tickets, read when shown.

    Who signs: the duty officer's account only. There is no school-head role, and a name typed into a
    form would be a signature nobody can check; when the head signs the paper copy, the duty officer
    records the receipt in the app under their own account, and that account is what the bureau holds
    the school to (as the ticket ladder's "school head notified" also reaches the school's accounts)."""
    __tablename__ = "hand_overs"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    visit_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("visits.id"), unique=True)
    school_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("schools.id"), index=True)
    number: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)  # "2026-12": 〔2026〕第12号
    issued_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    issued_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    acknowledged_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    acknowledged_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # When the sheet, still not signed for after a working day, was escalated (once; NULL until then).
    escalated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    visit: so.Mapped[Visit] = so.relationship()
    school: so.Mapped[School] = so.relationship()
    issued_by: so.Mapped[User] = so.relationship(foreign_keys=[issued_by_id])
    acknowledged_by: so.Mapped[User | None] = so.relationship(foreign_keys=[acknowledged_by_id])

    @property
    def label(self) -> str:
        """The number as the document prints it: 〔2026〕第12号."""
        year, n = self.number.split("-", 1)
        return str(_l("[%(year)s] Hand-over No. %(n)s", year=year, n=n))

    def acknowledgement_refused(self, officer: User) -> TicketError | None:
        """Why `officer` may not sign for the sheet, or None: the school's own duty officer, once."""
        if officer.role is not Role.DUTY_OFFICER or officer.school_id != self.school_id:
            return TicketError(str(_l("Only the school's duty officer signs for a hand-over sheet.")), 403)
        if self.acknowledged_at is not None:
            return TicketError(str(_l("This hand-over sheet has already been signed for.")))
        return None

    def acknowledge(self, officer: User, now: datetime) -> None:
        if refusal := self.acknowledgement_refused(officer):
            raise refusal
        self.acknowledged_by, self.acknowledged_at = officer, now

    def escalate(self, now: datetime) -> bool:
        """Record the escalation of a sheet still not signed for; False when signed or already done.
        Whether it is late is `handovers.overdue_condition`, the dashboard's rule."""
        if self.acknowledged_at is not None or self.escalated_at is not None:
            return False
        self.escalated_at = now
        return True
