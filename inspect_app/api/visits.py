"""API views for checklists, visits and photos (API.md): idempotent PUTs on the phone's UUIDs."""
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from spectree import Response

from inspect_app.api import bp, schemas, visit_payload
from inspect_app.api.openapi import api, minimal_response, prefers_minimal
from inspect_app.api.routes import json_body
from inspect_app.checklists.models import VisitMode
from inspect_app.checklists.services import templates_for
from inspect_app.errors import api_error, refuse
from inspect_app.extensions import db
from inspect_app.idempotency import body_hash, first_writer_wins
from inspect_app.parsing import or_none, parse_time, parse_uuid
from inspect_app.photos.services import parse_fields, read_upload, receive_photo
from inspect_app.schools.access import get_school_or_404
from inspect_app.visits.access import can_start, get_visit_or_404
from inspect_app.visits.models import Finding
from inspect_app.visits.present import photo_json, visit_json


def client_time():
    """The phone's clock when it sent this request (header X-Client-Time), to measure skew."""
    return or_none(parse_time, request.headers.get("X-Client-Time"))


@bp.get("/checklists")
@login_required
@api.validate(query=schemas.ChecklistQuery, resp=Response(
    HTTP_200=schemas.ChecklistList, HTTP_403=(schemas.Error, "Not allowed here"),
    HTTP_404=(schemas.Error, "No such school, or not one this user may see")))
def list_checklists():
    """Templates the user may use at a school in a mode, with the current version's items."""
    sent = request.context.query
    school = get_school_or_404(sent.school_id, current_user) if sent.school_id else None
    mode = VisitMode(sent.mode)
    if school is not None and not can_start(current_user, school, mode):
        refuse(403, _("You cannot start this kind of visit at this school."))
    result = []
    for template in templates_for(current_user, mode):
        version = template.current_version
        result.append({
            "id": template.id, "code": template.code, "name": template.name, "version_id": version.id,
            "version": version.number,
            "items": [{"code": i.code, "section": i.section, "text": i.text, "guidance": i.guidance,
                       "severity": i.severity.value, "photo_required": i.photo_required,
                       "deadline_hours": i.deadline_hours} for i in version.items],
        })
    return jsonify(checklists=result)


@bp.put("/visits/<visit_id>")
@login_required
@api.validate(json=schemas.VisitInput, path_parameter_descriptions={"visit_id": "a UUID chosen by the phone"},
              resp=Response(HTTP_201=(schemas.Visit, "Created"), HTTP_200=(schemas.Visit, "Replay, or a draft replaced"),
                            HTTP_403=(schemas.Error, "Not allowed"),
                            HTTP_409=(schemas.Error, "Different body under a submitted visit")))
def put_visit(visit_id: str):
    """Create or replay a whole visit (idempotent on the phone's UUID).

    201 when created, 200 for an identical replay (nothing written) or for a replacement while the visit
    is still in progress; 409 for a different body under a submitted visit. X-Client-Time (ISO 8601)
    measures clock skew. With `Prefer: return=minimal` (RFC 7240) the same status comes with no body
    and `Preference-Applied: return=minimal`: the phone's outbox sends it, as it reads nothing back."""
    digest = body_hash(json_body())  # of the body as sent: a replay must match it byte for byte in meaning
    sent = request.context.json
    minimal = prefers_minimal()
    tries = 0

    def attempt():
        nonlocal tries
        tries += 1
        # A first try leaves a finding id that another visit holds to the findings' primary key (one
        # query fewer on every PUT); the try after a lost race, that one included, looks first and
        # names the id (409).
        outcome = visit_payload.apply(current_user, visit_id, sent, digest, client_time(), look_first=tries > 1)
        if minimal:
            return outcome, None
        # The answer is drawn from what this request holds, before the commit expires it: read back
        # afterwards it cost nine queries and a second load of every answer, finding and item.
        db.session.flush()
        return outcome, visit_json(outcome.visit, current_user)
    # Nothing is read from this session after the commit (the answer is drawn before it, and the
    # request ends): expiring its ~45 objects for nobody was 2 % of a PUT.
    session = db.session()
    expiring, session.expire_on_commit = session.expire_on_commit, False
    try:
        outcome, answer = first_writer_wins(attempt)
    finally:
        session.expire_on_commit = expiring
    status = 201 if outcome.created else 200
    if minimal:
        return minimal_response(status)
    response = jsonify(answer)
    response.status_code = status
    return response


@bp.get("/visits/<visit_id>")
@login_required
@api.validate(resp=Response(HTTP_200=schemas.Visit))
def show_visit(visit_id: str):
    """A visit with its flags and photo links, as this user may see it."""
    return jsonify(visit_json(get_visit_or_404(visit_id, current_user), current_user))


@bp.put("/photos/<photo_id>")
@login_required
@api.validate(form=schemas.PhotoForm, path_parameter_descriptions={"photo_id": "a UUID chosen by the phone"},
              resp=Response(HTTP_201=(schemas.UploadedPhoto, "Created"), HTTP_200=(schemas.UploadedPhoto, "Replay"),
                            HTTP_409=(schemas.Error, "Id used for other content"),
                            HTTP_413=(schemas.Error, "Too large"),
                            HTTP_415=(schemas.Error, "Not an image we accept"),
                            HTTP_503=(schemas.Error, "Photo storage unreachable; nothing kept, retry after Retry-After")))
def put_photo(photo_id: str):
    """Upload one photo (idempotent on the phone's UUID): the same upload again is 200, other content 409."""
    photo_id = parse_uuid(photo_id)
    fields = parse_fields(request.form)
    data = read_upload(request.context.form.file)
    if fields.finding_id is not None:
        finding = db.session.get(Finding, fields.finding_id)
        # Only the visit's author attaches photos to its findings; a stranger learns nothing.
        if finding is not None and finding.visit.author_id != current_user.id:
            return api_error(404, "not_found", _("No such finding among your visits."))
    photo, created = receive_photo(photo_id, current_user, data, fields)
    response = jsonify(photo_json(photo, with_metadata=True) | {"finding_id": photo.finding_id})
    response.status_code = 201 if created else 200
    return response
