"""API views for tickets (API.md): role-scoped lists, the written record, idempotent steps."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import jsonify, request
from flask_login import current_user, login_required
from spectree import Response

from inspect_app.api import bp, paging, schemas
from inspect_app.api.openapi import api, looked_up_first
from inspect_app.api.routes import json_body
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.i18n import local_day, local_iso
from inspect_app.idempotency import body_hash, first_writer_wins
from inspect_app.parsing import in_url, parse_uuid
from inspect_app.photos.models import Photo
from inspect_app.tickets import services
from inspect_app.tickets.access import get_ticket_or_404, visible_tickets
from inspect_app.tickets.models import Ticket
from inspect_app.tickets.present import ticket_detail, ticket_summary
from inspect_app.visits.present import photo_json


def ticket_json(view: dict) -> dict:
    """The API's shape of a presented ticket (tickets.present decides what the viewer may see)."""
    data = {"id": view["id"], "status": view["status"].value, "school_id": view["school_id"],
            "severity": view["severity"].value, "deadline": local_iso(view["deadline"]), "overdue": view["overdue"],
            "description": view["description"], "escalation_level": view["escalation_level"]}
    data.update({key: view[key] for key in ("visit_id", "finding_id") if key in view})
    if "record" in view:
        data["record"] = [event_json(entry) for entry in view["record"]]
    return data


def event_json(entry: dict) -> dict:
    # Times in the bureau's zone, as the pages show them: an exact time, or only the (local) day.
    data = {"kind": entry["kind"].value, "text": entry["text"], "photos": _photos(entry["photo_ids"])}
    if entry["exact"]:
        data["at"] = local_iso(entry["at"])
    else:
        data["date"] = local_day(entry["at"])
    data["actor"] = entry["actor"]
    data["desk_review"] = entry["desk_review"]
    if "self_verified" in entry:
        data["self_verified"] = entry["self_verified"]
        data["override_reason"] = entry["override_reason"]
        data["presence"] = entry["presence"]
    return data


def _photos(ids: list[str]) -> list[dict]:
    photos = db.session.scalars(sa.select(Photo).where(Photo.id.in_(ids))).all() if ids else []
    return [photo_json(photo, with_metadata=False) for photo in photos]


def _detail(ticket: Ticket) -> dict:
    return ticket_json(ticket_detail(ticket, current_user, utcnow()))


@bp.get("/tickets")
@login_required
@api.validate(query=schemas.TicketQuery, resp=Response(HTTP_200=schemas.TicketList))
def list_tickets():
    """Tickets the user may see, by deadline; ?status= filters (open, responded, closed, reopened).
    Pages of at most 500: `next` (and the Link header) names the next one."""
    sent = request.context.query
    query = visible_tickets(current_user)
    if sent.status is not None:
        query = query.where(Ticket.status == sent.status)
    query = query.options(so.joinedload(Ticket.school), so.joinedload(Ticket.finding))
    tickets, cursor = paging.page(query, [Ticket.deadline, Ticket.id], limit=sent.limit, cursor=sent.cursor)
    now = utcnow()
    fields = paging.links(cursor, sent.limit)
    return paging.with_link(jsonify(tickets=[ticket_json(ticket_summary(t, current_user, now)) for t in tickets],
                                    **fields), fields)


@bp.get("/tickets/<int:ticket_id>")
@login_required
@api.validate(resp=Response(HTTP_200=schemas.Ticket))
def show_ticket(ticket_id: int):
    """One ticket with its written record."""
    return jsonify(_detail(get_ticket_or_404(ticket_id, current_user)))


def _step(ticket_id: int, client_id: str, act) -> tuple:
    client_id = in_url(parse_uuid, client_id)
    ticket = get_ticket_or_404(ticket_id, current_user)
    body = json_body()
    digest = body_hash(body)

    def attempt() -> int:
        if services.replayed(ticket, client_id, digest) is not None:
            return 200
        act(ticket, body, client_id, digest)
        return 201
    with services.one_writer_at_a_time():
        status = first_writer_wins(attempt)
    return jsonify(_detail(ticket)), status


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
                        sent.new_deadline, client_id, digest, override_reason=sent.override_reason or "")
    return _step(ticket_id, client_id, act)

