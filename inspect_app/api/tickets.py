"""API views for tickets (API.md): role-scoped lists, the written record, idempotent steps."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from inspect_app.api import bp
from inspect_app.api.routes import json_body
from inspect_app.errors import api_error
from inspect_app.extensions import db
from inspect_app.i18n import local_day, local_iso
from inspect_app.idempotency import body_hash, first_writer_wins
from inspect_app.photos.models import Photo
from inspect_app.parsing import FieldError, parse_text, parse_time, parse_uuid
from inspect_app.tickets import services
from inspect_app.tickets.access import get_ticket_or_404, shows_people, visible_tickets
from inspect_app.tickets.models import Ticket, TicketError, TicketEvent, TicketStatus
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
def list_tickets():
    """Tickets the user may see; ?status= filters (open, responded, closed, reopened)."""
    query = visible_tickets(current_user)
    status = request.args.get("status")
    if status is not None:
        if status not in set(TicketStatus):
            return api_error(400, "bad_request", _("status must be open, responded, closed or reopened."))
        query = query.where(Ticket.status == status)
    tickets = db.session.scalars(query.order_by(Ticket.deadline, Ticket.id).limit(1000)).all()
    return jsonify(tickets=[ticket_json(t) for t in tickets])


@bp.get("/tickets/<int:ticket_id>")
@login_required
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


def _text(value, name: str) -> str:
    try:
        return parse_text(value, name, current_app.config["DESCRIPTION_MAX_CHARS"])
    except FieldError as error:
        raise TicketError(str(error), 422) from None


@bp.put("/tickets/<int:ticket_id>/responses/<client_id>")
@login_required
def put_response(ticket_id: int, client_id: str):
    """The school's rectification evidence: {text, photo_ids}."""
    def act(ticket, body, client_id, digest):
        if not isinstance(body.get("text"), str):
            raise TicketError(_("text must be text."), 400)
        text = _text(body.get("text"), "text")
        services.respond(ticket, current_user, text, body.get("photo_ids", []), client_id, digest)
    return _step(ticket_id, client_id, act)


@bp.put("/tickets/<int:ticket_id>/verifications/<client_id>")
@login_required
def put_verification(ticket_id: int, client_id: str):
    """A re-check: {outcome: close|reopen, note, photo_ids, new_deadline}."""
    def act(ticket, body, client_id, digest):
        outcome = body.get("outcome")
        if outcome not in ("close", "reopen"):
            raise TicketError(_("outcome must be close or reopen."), 422)
        try:
            deadline = parse_time(body.get("new_deadline"))
        except FieldError as error:
            raise TicketError(str(error), 422) from None
        if not isinstance(body.get("note") or "", str):
            raise TicketError(_("note must be text."), 400)
        note = _text(body.get("note"), "note")
        services.verify(ticket, current_user, outcome == "close", note, body.get("photo_ids", []), deadline,
                        client_id, digest)
    return _step(ticket_id, client_id, act)

