"""API views for tickets (API.md): role-scoped lists, the written record, idempotent steps."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from spectree import Response
from sqlalchemy.orm.exc import StaleDataError

from inspect_app.api import bp, schemas
from inspect_app.api.openapi import api, looked_up_first
from inspect_app.api.routes import json_body
from inspect_app.errors import api_error
from inspect_app.extensions import db
from inspect_app.i18n import local_day, local_iso
from inspect_app.idempotency import body_hash, first_writer_wins
from inspect_app.photos.models import Photo
from inspect_app.parsing import FieldError, parse_uuid
from inspect_app.tickets import services
from inspect_app.tickets.access import get_ticket_or_404, shows_people, visible_tickets
from inspect_app.tickets.models import Ticket, TicketError, TicketEvent
from inspect_app.visits.present import photo_json


def _iso(moment):
    return moment.isoformat() if moment else None


def ticket_json(ticket: Ticket, with_record: bool = False) -> dict:
    people = shows_people(current_user)
    data = {"id": ticket.id, "status": ticket.status.value, "school_id": ticket.school_id,
            "severity": ticket.severity.value, "deadline": local_iso(ticket.deadline), "overdue": ticket.overdue,
            "description": ticket.finding.description, "escalation_level": ticket.escalation_level}
    if people:
        data.update(visit_id=ticket.visit_id, finding_id=ticket.finding_id)
    if with_record:
        data["record"] = [event_json(e, people) for e in ticket.events]
    return data


def event_json(event: TicketEvent, people: bool) -> dict:
    school_side = event.actor is not None and event.actor.role.value == "duty_officer"
    data = {"kind": event.kind.value, "text": event.text if event.kind.value != "opened" else "",
            "photos": [photo_json(p_, with_metadata=False) for p_ in _photos(event)]}
    if people or school_side:
        data["at"] = _iso(event.at)
        data["actor"] = event.actor.name_for(current_user) if event.actor else None
        if people:
            data["self_verified"] = event.self_verified
    else:
        # The school learns the step and the day (its own, Asia/Shanghai), never the inspector or the hour.
        data["date"] = local_day(event.at)
        data["actor"] = "inspection_group" if event.actor else None
    return data


def _photos(event: TicketEvent):
    ids = [ep.photo_id for ep in event.photos]
    return db.session.scalars(sa.select(Photo).where(Photo.id.in_(ids))).all() if ids else []


@bp.get("/tickets")
@login_required
@api.validate(query=schemas.TicketQuery, resp=Response(HTTP_200=schemas.TicketList))
def list_tickets():
    """Tickets the user may see; ?status= filters (open, responded, closed, reopened)."""
    query = visible_tickets(current_user)
    status = request.context.query.status
    if status is not None:
        query = query.where(Ticket.status == status)
    tickets = db.session.scalars(query.order_by(Ticket.deadline, Ticket.id).limit(1000)).all()
    return jsonify(tickets=[ticket_json(t) for t in tickets])


@bp.get("/tickets/<int:ticket_id>")
@login_required
@api.validate(resp=Response(HTTP_200=schemas.Ticket))
def show_ticket(ticket_id: int):
    """One ticket with its written record."""
    return jsonify(ticket_json(get_ticket_or_404(ticket_id, current_user), with_record=True))


def _step(ticket_id: int, client_id: str, act) -> tuple:
    try:
        client_id = parse_uuid(client_id)
    except FieldError as error:
        return api_error(404, "not_found", str(error))
    ticket = get_ticket_or_404(ticket_id, current_user)
    body = json_body()
    digest = body_hash(body)

    def attempt() -> int:
        if services.replayed(ticket, client_id, digest) is not None:
            return 200
        act(ticket, body, client_id, digest)
        return 201
    try:
        status = first_writer_wins(attempt)
    except TicketError as error:
        db.session.rollback()
        code = {400: "bad_request", 403: "forbidden", 409: "conflict", 413: "too_large",
                422: "invalid"}[error.status]
        return api_error(error.status, code, error.message)
    except StaleDataError:
        db.session.rollback()
        return api_error(409, "conflict", _("Someone else acted on this ticket at the same moment. "
                                            "Reload to see what they did."))
    return jsonify(ticket_json(ticket, with_record=True)), status


def _step_answers(refusals: dict) -> Response:
    return Response(HTTP_201=(schemas.Ticket, "Recorded"), HTTP_200=(schemas.Ticket, "Replay"),
                    **{f"HTTP_{status}": (schemas.Error, why) for status, why in refusals.items()})


_visible_ticket = looked_up_first(lambda ticket_id, **_: get_ticket_or_404(ticket_id, current_user))


@bp.put("/tickets/<int:ticket_id>/responses/<client_id>")
@login_required
@_visible_ticket
@api.validate(json=schemas.TicketResponseInput, resp=_step_answers({
    403: "Not this school's officer", 409: "Closed, or the id was used for something else"}))
def put_response(ticket_id: int, client_id: str):
    """The school's rectification evidence (idempotent on the phone's UUID)."""
    sent = request.context.json

    def act(ticket, body, client_id, digest):
        services.respond(ticket, current_user, sent.text, sent.photo_ids, client_id, digest)
    return _step(ticket_id, client_id, act)


@bp.put("/tickets/<int:ticket_id>/verifications/<client_id>")
@login_required
@_visible_ticket
@api.validate(json=schemas.VerificationInput, resp=_step_answers({
    403: "Not a verifier",
    409: "Already closed, sent back and not yet answered by the school, or acted on concurrently"}))
def put_verification(ticket_id: int, client_id: str):
    """Close out or send back after a re-check (idempotent on the phone's UUID)."""
    sent = request.context.json

    def act(ticket, body, client_id, digest):
        services.verify(ticket, current_user, sent.outcome == "close", sent.note or "", sent.photo_ids,
                        sent.new_deadline, client_id, digest)
    return _step(ticket_id, client_id, act)

