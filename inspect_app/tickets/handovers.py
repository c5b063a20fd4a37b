"""The written hand-over (书面交办, 交办单): a visit's tickets on one numbered sheet that the school
signs for in the app; a PDF under the daily report's letterhead, downloadable by both sides.

A covert check's sheet names no inspector (as its tickets say "督查组" to the school) and no sheet
gives the hour of a visit: the school learns what to fix, how serious, against which requirement
and by when.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import abort, current_app, render_template
from flask_babel import gettext as _

from inspect_app.accounts.models import BUREAU_ROLES, FIELD_ROLES, Role, User
from inspect_app.checklists.models import VisitMode
from inspect_app.documents import html_pdf
from inspect_app.extensions import db
from inspect_app.i18n import local_zone, working_days_back
from inspect_app.photos.models import Photo
from inspect_app.photos.services import thumbnails
from inspect_app.schools.models import school_assignments
from inspect_app.tickets.models import EventKind, HandOver, Notification, Ticket, TicketError
from inspect_app.visits.models import Visit, VisitStatus

# Who issues a sheet: the bureau's people in the field (as for verifying), never a volunteer.
ISSUER_ROLES = FIELD_ROLES
# A sheet not signed for within this many working days shows for the bureau as overdue, and escalates.
ACKNOWLEDGE_WITHIN_WORKING_DAYS = 1
# Its notices, on the visit's first ticket (as `present.notice` finds the sheet from it).
SHEET_NOTICES = (EventKind.HAND_OVER, EventKind.HAND_OVER_OVERDUE)


def hand_over_of(visit_id: str) -> HandOver | None:
    return db.session.scalar(sa.select(HandOver).where(HandOver.visit_id == visit_id))


def hand_overs_of(visit_ids: set[str]) -> dict[str, HandOver]:
    """The sheets of many visits in one query (an inbox names one per notice)."""
    if not visit_ids:
        return {}
    return {sheet.visit_id: sheet for sheet in db.session.scalars(
        sa.select(HandOver).where(HandOver.visit_id.in_(visit_ids)))}


def can_view(user: User, sheet: HandOver) -> bool:
    return user.role in BUREAU_ROLES or (user.role is Role.DUTY_OFFICER and user.school_id == sheet.school_id)


def get_or_404(hand_over_id: int, user: User) -> HandOver:
    sheet = db.session.get(HandOver, hand_over_id)
    if sheet is None or not can_view(user, sheet):
        abort(404)
    return sheet


def _tickets(visit_id: str) -> list[Ticket]:
    return list(db.session.scalars(sa.select(Ticket).where(Ticket.visit_id == visit_id, Ticket.finding_id.is_not(None))
                                   .order_by(Ticket.id)))


def issue(visit: Visit, issuer: User, now: datetime) -> HandOver:
    """Number the visit's hand-over sheet and tell the school's duty officers (the caller commits).
    Issuing again answers with the sheet already issued."""
    if issuer.role not in ISSUER_ROLES:
        raise TicketError(_("Only an inspector or a leader issues a hand-over sheet."), 403)
    if visit.status is not VisitStatus.SUBMITTED:
        raise TicketError(_("The visit must be submitted before its problems are handed over."))
    if (existing := hand_over_of(visit.id)) is not None:
        return existing
    tickets = _tickets(visit.id)
    if not tickets:
        raise TicketError(_("This visit opened no tickets: there is nothing to hand over."))
    year = now.astimezone(local_zone()).year
    issued = db.session.scalar(sa.select(sa.func.count()).select_from(HandOver).where(
        HandOver.number.like(f"{year}-%"))) or 0
    sheet = HandOver(visit_id=visit.id, school_id=visit.school_id, number=f"{year}-{issued + 1}",
                     issued_by=issuer, issued_at=now)
    db.session.add(sheet)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # Two sheets issued at the same moment drew the same number (or one visit's sheet was issued
        # twice at once): the unique constraints hold, and the second is asked to try again.
        db.session.rollback()
        raise TicketError(_("Another hand-over sheet was issued at the same moment. Please try again."), 409) from None
    db.session.add_all(Notification(user_id=user_id, ticket=tickets[0], kind=EventKind.HAND_OVER)
                       for user_id in db.session.scalars(_officers(visit.school_id)))
    return sheet


def acknowledge(sheet: HandOver, officer: User, now: datetime) -> None:
    """The school signs for the sheet; its notices of it are read (the caller commits)."""
    sheet.acknowledge(officer, now)
    first = sa.select(Ticket.id).where(Ticket.visit_id == sheet.visit_id)
    for note in db.session.scalars(sa.select(Notification).where(
            Notification.user_id == officer.id, Notification.kind.in_(SHEET_NOTICES),
            Notification.ticket_id.in_(first), Notification.read_at.is_(None))):
        note.read_at = now


def overdue_condition(now: datetime) -> sa.ColumnElement[bool]:
    """The one rule for a late sheet, for the dashboard and escalation alike: issued before the last
    working day began (a Friday's sheet is late from Tuesday 00:00) and still not signed for."""
    return sa.and_(HandOver.acknowledged_at.is_(None),
                   HandOver.issued_at < working_days_back(now, ACKNOWLEDGE_WITHIN_WORKING_DAYS))


def unacknowledged_overdue(now: datetime, limit: int = 200) -> tuple[int, list[HandOver]]:
    """Sheets issued before the last working day began and still not signed for: for the bureau."""
    condition = overdue_condition(now)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(HandOver).where(condition)) or 0
    rows = db.session.scalars(sa.select(HandOver).where(condition).order_by(HandOver.issued_at).limit(limit))
    return total, list(rows)


def escalate_unacknowledged(now: datetime) -> int:
    """Escalate each late sheet once, like an overdue ticket (`flask tickets escalate`, from cron): a
    reminder to the school's duty officers, a notice to its responsible inspectors. The sheet records
    the step (`HandOver.escalate`), so an hourly cron never repeats it; the caller commits. Returns
    how many sheets were escalated."""
    # Rows another run holds are skipped (PostgreSQL), not notified twice; it escalates them itself.
    late = db.session.scalars(sa.select(HandOver).where(overdue_condition(now), HandOver.escalated_at.is_(None))
                              .order_by(HandOver.id).with_for_update(skip_locked=True)).all()
    escalated = 0
    for sheet in late:
        tickets = _tickets(sheet.visit_id)
        if not tickets or not sheet.escalate(now):
            continue
        db.session.add_all(Notification(user_id=user_id, ticket=tickets[0], kind=EventKind.HAND_OVER_OVERDUE)
                           for user_id in _concerned(sheet.school_id))
        escalated += 1
    return escalated


def _concerned(school_id: int) -> set[int]:
    """The school's active duty officers and the inspectors responsible for it: nobody else's school."""
    inspectors = (sa.select(User.id).join(school_assignments, school_assignments.c.user_id == User.id)
                  .where(school_assignments.c.school_id == school_id, User.role == Role.INSPECTOR,
                         User.active.is_(True)))
    return set(db.session.scalars(_officers(school_id))) | set(db.session.scalars(inspectors))


def _officers(school_id: int) -> sa.Select:
    return sa.select(User.id).where(User.role == Role.DUTY_OFFICER, User.active.is_(True), User.school_id == school_id)


def _checked_by(visit: Visit, viewer: User) -> str | None:
    """Who the sheet says found the problems: nobody for a covert check; for a parent volunteer's open
    check, what they came as (家长监督员), never their pseudonym, which would tie them to covert checks."""
    if visit.mode is VisitMode.COVERT:
        return None
    if visit.author.role is Role.VOLUNTEER:
        return _("Parent supervisor")
    return visit.author.name_for(viewer)


def sheet_view(sheet: HandOver, viewer: User) -> dict:
    """What the sheet shows: each problem with its requirement, first photo, severity and deadline;
    the issuing inspector only for an overt check. The same for the page and the PDF, and for both
    sides: the signed sheet is one document."""
    visit = sheet.visit
    problems = []
    tickets = _tickets(sheet.visit_id)
    firsts = {}
    if tickets:
        for photo_id, finding_id in db.session.execute(
                sa.select(Photo.id, Photo.finding_id).where(Photo.finding_id.in_([t.finding_id for t in tickets]))
                .order_by(Photo.created_at.desc())):
            firsts[finding_id] = photo_id  # ordered newest first: the first photo is written last
    for n, ticket in enumerate(tickets, 1):
        requirement = ticket.requirement
        response = ticket.latest_response
        problems.append({"n": n, "ticket_id": ticket.id, "description": ticket.description,
                         "requirement": requirement.text if requirement else None,
                         "severity": ticket.severity, "deadline": ticket.deadline,
                         "photo_id": firsts.get(ticket.finding_id), "status": ticket.status,
                         # The school's own latest report (整改反馈): its words, when, its first photo.
                         "response": {"text": response.text, "at": response.at,
                                      "photo_id": response.photos[0].photo_id if response.photos else None}
                         if response else None})
    return {"id": sheet.id, "number": sheet.number, "label": sheet.label, "school": sheet.school.name,
            "issued_on": sheet.issued_at, "inspector": _checked_by(visit, viewer),
            "acknowledged_by": sheet.acknowledged_by.display_name if sheet.acknowledged_by else None,
            "acknowledged_at": sheet.acknowledged_at, "problems": problems}


def pdf(sheet: HandOver, viewer: User, feedback: bool = False) -> bytes:
    """The sheet under the daily report's letterhead (WeasyPrint); the thumbnails are its only files.
    With `feedback`, the rectification feedback (整改反馈) instead: the school's latest report on each
    problem, gathered for the bureau's archive (the after-photo in place of the finding's)."""
    view = sheet_view(sheet, viewer)
    if feedback:
        wanted = [p["response"]["photo_id"] for p in view["problems"] if p["response"] and p["response"]["photo_id"]]
    else:
        wanted = [p["photo_id"] for p in view["problems"] if p["photo_id"]]
    photos = thumbnails(wanted)
    html = render_template("tickets/hand_over_pdf.html", sheet=view, feedback=feedback,
                           bureau=current_app.config["BUREAU_NAME"],
                           photo_src=lambda photo_id: f"resource:{photo_id}" if photo_id in photos else None)
    return html_pdf(html, photos)

