"""API views for complaints and tasks (API.md "Next capabilities"): the same services as the pages."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user, login_required
from spectree import Response

from inspect_app.accounts.models import ASSIGNEE_ROLES
from inspect_app.api import bp, paging, schemas
from inspect_app.api import schemas_complaints as s
from inspect_app.api.openapi import api, looked_up_first
from inspect_app.complaints import services
from inspect_app.complaints.access import can_read_queue, get_complaint_or_404
from inspect_app.complaints.codes import shown
from inspect_app.complaints.present import bureau_view, public_view
from inspect_app.dbtypes import utcnow
from inspect_app.errors import refuse
from inspect_app.extensions import db
from inspect_app.i18n import local_day, local_iso
from inspect_app.plans.present import task_view
from inspect_app.complaints.models import Complaint
from inspect_app.plans.models import Task
from inspect_app.plans.services import own_tasks_query


def complaint_json(view: dict, group: list[int]) -> dict:
    data = {"id": view["id"], "status": view["status"].value, "school_id": view["school_id"], "text": view["text"],
            "source": view["source"].value, "anonymous": view["anonymous"],
            "received_at": local_iso(view["received_at"]), "triaged_at": local_iso(view["triaged_at"]),
            "closed_at": local_iso(view["closed_at"]), "ticket_id": view["ticket_id"],
            "photo_ids": view["photo_ids"], "duplicate_of_group": group,
            "replies": [{"text": r["text"], "at": local_iso(r["at"]), "author": r["author"]} for r in view["replies"]]}
    if "contact" in view:
        data["contact"] = view["contact"]
    return data


@bp.post("/complaints")
@api.validate(json=s.ComplaintInput, form=s.ComplaintForm, security=[], resp=Response(
    HTTP_201=(s.ComplaintReceipt, "Received"), HTTP_200=(s.ComplaintReceipt, "A retry of a received complaint"),
    HTTP_404=(schemas.Error, "No such school or poster code"),
    HTTP_409=(schemas.Error, "The idempotency key was used with other content"),
    HTTP_410=(schemas.Error, "The poster's code was replaced"),
    HTTP_415=(schemas.Error, "A file that is not a photo we read"),
    HTTP_429=(schemas.Error, "Too many from this address or for this school; Retry-After says when"),
    HTTP_503=(schemas.Error, "Photo storage unreachable; retry after Retry-After")))
def create_complaint():
    """Anyone, no account: a complaint about a school, with optional photos and contact."""
    sent = request.context.json or request.context.form
    photos = services.read_photos(request.files.getlist("photo")) if request.context.form else []
    school = services.school_for(sent.school_id, sent.qr)
    received = services.receive(school, services.Submission(
        text=sent.text, contact=sent.contact, anonymous=sent.anonymous, photos=photos,
        idempotency_key=sent.idempotency_key))
    return jsonify(tracking_code=shown(received.code) if received.code else None,
                   status=received.complaint.status.value), 201 if received.created else 200


@bp.get("/complaints/<code>")
@api.validate(security=[], resp=Response(
    HTTP_200=s.PublicComplaint, HTTP_429=(schemas.Error, "Too many wrong codes from this address")),
    path_parameter_descriptions={"code": "the tracking code, e.g. JY-7K3M-Q9TX-4HPW (any case, with or without dashes)"})
def show_public_complaint(code: str):
    """Whoever holds the code: the status, the day received and the public replies; nothing else."""
    view = public_view(services.find_by_code(code))
    return jsonify(status=view["status"].value, received_at=local_day(view["received_at"]),
                   replies=[{"text": r["text"], "at": local_day(r["at"])} for r in view["replies"]])


@bp.get("/complaints")
@login_required
@api.validate(query=s.ComplaintQuery, resp=Response(HTTP_200=s.ComplaintList,
                                                    HTTP_403=(schemas.Error, "Not the bureau")))
def list_complaints():
    """The bureau's queue, newest first, in pages of at most 500, with likely duplicates (among the
    page's) named in each entry. A school never reads complaints: what the bureau hands it is a ticket
    (GET /tickets)."""
    if not can_read_queue(current_user):
        refuse(403, services.triage_refused(current_user).message)
    sent = request.context.query
    query = services.queue_query(services.QueueFilters(
        status=services.ComplaintStatus(sent.status) if sent.status else None, school_id=sent.school_id))
    complaints, cursor = paging.page(query.options(*services.WITH_RECORD), [Complaint.received_at, Complaint.id],
                                     descending=True, limit=sent.limit, cursor=sent.cursor)
    data = []
    for group in services.grouped(complaints):
        ids = [c.id for c in group]
        data += [complaint_json(bureau_view(c, current_user), [i for i in ids if i != c.id]) for c in group]
    fields = paging.links(cursor, sent.limit)
    return paging.with_link(jsonify(complaints=data, **fields), fields)


_visible_complaint = looked_up_first(lambda complaint_id, **_: get_complaint_or_404(complaint_id, current_user))


@bp.post("/complaints/<int:complaint_id>/triage")
@login_required
@_visible_complaint
@api.validate(json=s.TriageInput, resp=Response(
    HTTP_200=s.Complaint, HTTP_403=(schemas.Error, "Only inspectors and leaders triage"),
    HTTP_409=(schemas.Error, "Already triaged")))
def triage_complaint(complaint_id: int):
    """Reject with a public reason, hand to the school as a ticket, or plan an unannounced check."""
    complaint = get_complaint_or_404(complaint_id, current_user)
    sent = request.context.json
    services.triage(complaint, current_user, services.Triage(
        action=sent.action, reply=sent.reply, problem=sent.problem, severity=sent.severity,
        assignee_id=sent.assignee_id, window_start=sent.window_start, window_end=sent.window_end,
        item_code=sent.item_code))
    db.session.commit()
    return jsonify(complaint_json(bureau_view(complaint, current_user), [d.id for d in services.duplicates_of(complaint)]))


@bp.get("/tasks")
@login_required
@api.validate(query=s.TaskQuery, resp=Response(HTTP_200=s.TaskList, HTTP_403=(schemas.Error, "Only inspectors and volunteers are assigned tasks")))
def list_tasks():
    """The user's own assigned checks (open ones first, in pages of at most 500). A school never sees any."""
    if current_user.role not in ASSIGNEE_ROLES:
        refuse(403, services.tasks_refusal())
    sent = request.context.query
    now = utcnow()
    tasks, cursor = paging.page(own_tasks_query(current_user), [Task.status, Task.window_end, Task.id],
                                limit=sent.limit, cursor=sent.cursor)
    views = [task_view(t, current_user, now) for t in tasks]
    fields = paging.links(cursor, sent.limit)
    # A plan's task names its school only from the morning of its day (plans.access.shows_school).
    return paging.with_link(jsonify(tasks=[{"id": v["id"], "school_id": v["school_id"], "mode": v["mode"].value,
                           "window_start": local_iso(v["window_start"]), "window_end": local_iso(v["window_end"]),
                           "status": v["status"].value, "reveal_at": local_iso(v["reveal_at"])} for v in views],
                                    **fields), fields)
