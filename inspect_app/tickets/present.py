"""What each viewer sees of a ticket, decided once for the pages and the API alike.

The bureau sees people, hours, and the visit and finding a ticket came from. A school sees its own
steps in full, but a bureau step only as "督查组" on a date: the hour or the person of a covert check
could point to the parent who made it. Where a finding was recorded it sees for an overt check only.
Each function gives plain values (enums, datetimes); the templates format them and the API
serialises them, and neither decides again what to leave out.
"""
from __future__ import annotations

from datetime import datetime

from inspect_app.accounts.models import Role, User
from inspect_app.tickets.access import shows_finding_place, shows_people
from inspect_app.tickets.handovers import SHEET_NOTICES, hand_over_of
from inspect_app.tickets.models import EventKind, HandOver, Notification, Ticket, TicketEvent, TicketStatus

INSPECTION_GROUP = "inspection_group"  # who took a bureau step, as a school is told it


def ticket_summary(ticket: Ticket, viewer: User, now: datetime) -> dict:
    """A ticket in a list: what, where, how urgent; for the bureau also the visit and the finding."""
    summary = {"id": ticket.id, "status": ticket.status, "school_id": ticket.school_id,
               "school_name": ticket.school.name, "severity": ticket.severity,
               "description": ticket.description, "deadline": ticket.deadline,
               # Only while the school owes the work do its days count down (and run over).
               "awaiting_school": ticket.status in TicketStatus.AWAITING_SCHOOL,
               "overdue": ticket.overdue_at(now), "escalation_level": ticket.escalation_level}
    if shows_people(viewer):
        summary.update(visit_id=ticket.visit_id, finding_id=ticket.finding_id)
    return summary


def ticket_detail(ticket: Ticket, viewer: User, now: datetime) -> dict:
    """A ticket on its own: the summary, what to fix and where, the latest report, the written record."""
    detail = ticket_summary(ticket, viewer, now)
    requirement = ticket.requirement
    response = ticket.latest_response
    bureau = shows_people(viewer)
    # What the viewer waits for, when it is the other side's turn.
    waiting = ("verification" if not bureau and ticket.status is TicketStatus.RESPONDED else
               "school_report" if bureau and ticket.status is TicketStatus.REOPENED else None)
    detail.update(requirement=requirement.text if requirement else None,
                  place=_place(ticket) if shows_finding_place(viewer, ticket) else None,
                  response=record_entry(response, viewer) if response else None,
                  record=[record_entry(event, viewer) for event in ticket.events], waiting=waiting,
                  document_evidence=ticket.document_evidence)
    return detail


def _place(ticket: Ticket) -> dict | None:
    distance = ticket.distance_from_school_m
    if distance is None:
        return None
    finding = ticket.finding
    return {"distance_m": distance, "accuracy_m": finding.accuracy_m, "lat": finding.lat, "lon": finding.lon}


def presence(event: TicketEvent) -> dict | None:
    """The follow-up visit's proof of presence on a verification made there (the bureau's to read)."""
    visit = event.visit
    if visit is None:
        return None
    return {"visit_id": visit.id, "distance_m": visit.distance_m, "accuracy_m": visit.accuracy_m,
            "clock_skew_s": visit.clock_skew_s, "qr_scanned": visit.qr_scanned}


def record_entry(event: TicketEvent, viewer: User) -> dict:
    """One step of the written record. `exact`: the time of day may be shown, not only the date.
    `actor`: a name, INSPECTION_GROUP, or None for a step the system took."""
    bureau = shows_people(viewer)
    exact = bureau or (event.actor is not None and event.actor.role is Role.DUTY_OFFICER)
    actor = None if event.actor is None else event.actor.name_for(viewer) if exact else INSPECTION_GROUP
    entry = {"kind": event.kind, "text": "" if event.kind is EventKind.OPENED else event.text,
             "actor": actor, "at": event.at, "exact": exact,
             "photo_ids": [event_photo.photo_id for event_photo in event.photos],
             # A close-out on the school's documents, without a follow-up visit: marked as such for all.
             "desk_review": event.desk_review}
    if bureau:
        entry["self_verified"] = event.self_verified
        entry["override_reason"] = event.override_reason
        entry["presence"] = presence(event)
    return entry


def notice(note: Notification, viewer: User, sheets: dict[str, HandOver] | None = None) -> dict:
    """An inbox entry: what happened to which problem, where and by when. Its time follows the rule of
    the record: a school is not told the hour a (covert) finding came in, only the date. `sheets`: the
    hand-over sheets by visit id, when a list looked them up at once (handovers.hand_overs_of)."""
    ticket = note.ticket
    if ticket is None:  # a school's day (the daily report's reminders): which school, which day
        return {"ticket_id": None, "kind": note.kind, "school_id": note.school_id, "day": note.day,
                "school_name": note.school.name if note.school else "", "at": note.created_at,
                "exact": True, "read": note.read_at is not None}
    if note.kind in SHEET_NOTICES:  # the sheet to sign for (or late), which lists this visit's tickets
        sheet = sheets.get(ticket.visit_id) if sheets is not None else hand_over_of(ticket.visit_id)
        return {"ticket_id": note.ticket_id, "kind": note.kind, "hand_over_id": sheet.id if sheet else None,
                "number": sheet.label if sheet else "", "school_name": ticket.school.name, "at": note.created_at,
                "exact": shows_people(viewer), "read": note.read_at is not None}
    return {"ticket_id": note.ticket_id, "kind": note.kind, "description": ticket.description,
            "school_name": ticket.school.name, "deadline": ticket.deadline, "at": note.created_at,
            "exact": shows_people(viewer), "read": note.read_at is not None}
