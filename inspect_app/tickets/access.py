"""Who may see and act on a ticket: asked here and nowhere else. Acting is the ticket's own guard
(Ticket.response_refused / verification_refused, which its transitions raise); routes, pages and the
API ask it through can_respond / can_verify, so there is one rule, not a copy per layer."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app

from inspect_app.accounts.models import BUREAU_ROLES, Role, User
from inspect_app.checklists.models import VisitMode
from inspect_app.extensions import db
from inspect_app.photos.access import register_policy
from inspect_app.photos.models import Photo
from inspect_app.tickets.models import EventPhoto, OverrideNeeded, Ticket, TicketError, TicketEvent


def visible_tickets(user: User) -> sa.Select:
    query = sa.select(Ticket)
    if user.role in BUREAU_ROLES:
        return query
    if user.role is Role.DUTY_OFFICER:
        return query.where(Ticket.school_id == user.school_id)
    return query.where(sa.false())  # volunteers follow their findings through their visits


def can_view_ticket(user: User, ticket: Ticket) -> bool:
    if user.role in BUREAU_ROLES:
        return True
    return user.role is Role.DUTY_OFFICER and user.school_id == ticket.school_id


def get_ticket_or_404(ticket_id: int, user: User) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not can_view_ticket(user, ticket):
        abort(404)
    return ticket


def can_respond(user: User, ticket: Ticket) -> bool:
    return ticket.response_refused(user) is None


def independent_verifier_required() -> bool:
    """Whether the deployment forbids an inspector to close out a problem they found themselves."""
    return current_app.config["REQUIRE_INDEPENDENT_VERIFIER"]


def verification_refused(user: User, ticket: Ticket, override_reason: str = "") -> TicketError | None:
    return ticket.verification_refused(user, independent_verifier_required(), override_reason)


def can_verify(user: User, ticket: Ticket) -> bool:
    """May be offered the re-check: allowed now, or (a leader's own finding) once they give a reason."""
    return needs_override_reason(user, ticket) or verification_refused(user, ticket) is None


def needs_override_reason(user: User, ticket: Ticket) -> bool:
    return isinstance(verification_refused(user, ticket), OverrideNeeded)


def shows_finding_place(viewer: User, ticket: Ticket) -> bool:
    """Where a covert check's finding was recorded could point to the parent who made it (their
    doorstep, their car): the school gets the place of an overt finding only."""
    return viewer.role in BUREAU_ROLES or (ticket.visit is not None and ticket.visit.mode is not VisitMode.COVERT)


def shows_people(viewer: User) -> bool:
    """The school sees "督查组" and dates; the bureau sees names and times."""
    return viewer.role in BUREAU_ROLES


@register_policy
def evidence_photo_policy(user: User, photo: Photo) -> bool:
    ticket = db.session.scalar(sa.select(Ticket).join(TicketEvent).join(EventPhoto)
                               .where(EventPhoto.photo_id == photo.id).limit(1))
    return ticket is not None and can_view_ticket(user, ticket)
