"""API views of the volunteer programme: invitations (the coordinator) and registration (a parent)."""
from __future__ import annotations

from flask import abort, jsonify, request
from flask_login import current_user, login_required
from spectree import Response

from inspect_app.accounts.access import can_reveal
from inspect_app.api import bp, schemas
from inspect_app.api import schemas_volunteers as s
from inspect_app.api.openapi import api
from inspect_app.extensions import db
from inspect_app.i18n import local_iso
from inspect_app.idempotency import first_writer_wins
from inspect_app.volunteers import services


@bp.post("/volunteer-invitations")
@login_required
@api.validate(json=s.InvitationInput, resp=Response(
    HTTP_201=(s.InvitationIssued, "Issued; the code is in no other answer"),
    HTTP_403=(schemas.Error, "Not the programme coordinator")))
def create_invitation():
    """The programme coordinator (an admin with manages_volunteers): one single-use invitation."""
    if not can_reveal(current_user):
        abort(403)
    [(invitation, code)] = services.issue_invitations(current_user, request.context.json.expires_in_days)
    db.session.commit()
    response = jsonify(code=code, url=services.invitation_url(code), expires_at=local_iso(invitation.expires_at))
    response.headers["Cache-Control"] = "no-store"
    return response, 201


@bp.post("/volunteers")
@api.validate(json=s.VolunteerInput, security=[], resp=Response(
    HTTP_201=(s.VolunteerCreated, "Registered"),
    HTTP_404=(schemas.Error, "No such invitation"),
    HTTP_409=(schemas.Error, "A child's school the volunteer is assigned to, or a race on the same code"),
    HTTP_410=(schemas.Error, "The invitation was used, withdrawn or has expired"),
    HTTP_429=(schemas.Error, "Too many unknown codes from this address; Retry-After says when")))
def register_volunteer():
    """Anyone holding an invitation code: a volunteer account with a sealed identity and a pseudonym."""
    sent = request.context.json
    registration = services.Registration(
        code=sent.code, username=sent.username, password=sent.password, real_name=sent.real_name,
        phone=sent.phone, child_school_ids=tuple(sent.child_school_ids), agreement_version=sent.agreement_version)
    # Two phones racing on one code: the loser runs again and is told the code is used (410).
    user = first_writer_wins(lambda: services.register(registration))
    return jsonify(id=user.id, username=user.username, pseudonym=user.pseudonym), 201
