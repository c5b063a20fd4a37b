"""What a follow-up visit (回头看) shows on the phone: the school's tickets a re-check may close or send
back, each with its before and after photos. Visits never import tickets; they ask through the
`follow_up_tickets` signal, which this module answers."""
from __future__ import annotations

from functools import cache
from itertools import product

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import url_for

from inspect_app.accounts.models import User
from inspect_app.extensions import db
from inspect_app.i18n import date_time
from inspect_app.photos.services import photos_for_findings
from inspect_app.schools.models import School
from inspect_app.tickets.access import needs_override_reason, verification_refused
from inspect_app.tickets.models import Ticket, TicketStatus, recheck_blocks
from inspect_app.visits.services import follow_up_tickets


def _thumbs(photo_ids) -> list[dict]:
    return [{"id": pid, "thumb_url": url_for("photos.serve_photo", photo_id=pid, size="thumb")} for pid in photo_ids]


@cache
def recheck_rule(reason_needed: bool) -> dict[str, list[str]]:
    """recheck_blocks as the phone looks it up for a ticket: "outcome|photo|deadline ahead|reason given"
    (1 or 0) → the kinds it blocks, only where something does. The phone applies the server's rule to
    the verdicts it holds, offline too, instead of writing it again."""
    table = {}
    for outcome, photos, ahead, given in product(("close", "reopen"), (0, 1), (0, 1), (0, 1)):
        if kinds := recheck_blocks(close=outcome == "close", photos=bool(photos), deadline_ahead=bool(ahead),
                                   reason_needed=reason_needed, reason_given=bool(given)):
            table[f"{outcome}|{photos}|{ahead}|{given}"] = kinds
    return table


def tickets_to_recheck(school: School, viewer: User) -> list[dict]:
    """The school's open and responded tickets (TicketStatus.VERIFIABLE), responded first, each with
    what was found (before), what the school reported (after), and whether this viewer may verify it
    (the finder may not: independent verification) — plain values for the page and the offline pack."""
    tickets = db.session.scalars(
        sa.select(Ticket).options(so.selectinload(Ticket.events), so.joinedload(Ticket.finding))
        .where(Ticket.school_id == school.id, Ticket.status.in_(TicketStatus.VERIFIABLE))
        .order_by((Ticket.status == TicketStatus.RESPONDED).desc(), Ticket.deadline, Ticket.id)).all()
    before = photos_for_findings([t.finding_id for t in tickets if t.finding_id])
    out = []
    for ticket in tickets:
        response = ticket.latest_response
        refusal = verification_refused(viewer, ticket)
        override = needs_override_reason(viewer, ticket)
        out.append({
            "id": ticket.id, "status": ticket.status.value, "status_label": str(ticket.status.label),
            "severity": ticket.severity.value, "description": ticket.description,
            "deadline": ticket.deadline.isoformat(), "deadline_label": date_time(ticket.deadline),
            "before": _thumbs(p.id for p in before.get(ticket.finding_id, [])),
            "response": response.text if response else "",
            "after": _thumbs(p.photo_id for p in response.photos) if response else [],
            # A leader's own finding: allowed once they say why (the override reason).
            "may_verify": refusal is None or override, "needs_reason": override, "blocks": recheck_rule(override),
            "refusal": "" if refusal is None or override else refusal.message,
        })
    return out


@follow_up_tickets.connect
def _answer(sender, school: School, viewer: User, **_extra) -> list[dict]:
    return tickets_to_recheck(school, viewer)
