"""The public's pages (no account): choose the school, complain, follow the code; and the bureau's
queue, triage and hotline/letter logging. Thin: the rules are in services, what is shown in present."""
from __future__ import annotations

import sqlalchemy as sa
from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from inspect_app.accounts.access import roles_required
from inspect_app.complaints import services
from inspect_app.complaints import bp
from inspect_app.complaints.access import can_triage, get_complaint_or_404, shows_contact
from inspect_app.complaints.codes import normalise, shown
from inspect_app.complaints.forms import ComplaintForm, LogForm, TriageForm
from inspect_app.complaints.models import ComplaintSource, ComplaintStatus
from inspect_app.complaints.present import bureau_view, public_view
from inspect_app.dbtypes import utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.parsing import id_arg
from inspect_app.plans.services import assignees
from inspect_app.schools.models import School
from inspect_app.textsearch import contains_text

PICKER_LIMIT = 30


def _submission(form: ComplaintForm) -> services.Submission:
    return services.Submission(text=form.text.data, contact=form.contact.data, website=form.website.data,
                               idempotency_key=form.idempotency_key.data,
                               photos=services.read_photos(request.files.getlist(form.photos.name)))


def _refused_on(form, error: DomainError) -> None:
    """Put the refusal under its field (or above the form), keeping everything typed."""
    db.session.rollback()
    target = getattr(form, error.field, None) if error.field else None
    if target is not None and error.field not in ("idempotency_key", "school_id"):
        target.errors = [*target.errors, error.message]
    else:
        form.form_errors.append(error.message)


# ---- the public ---------------------------------------------------------------------------------

@bp.route("/complaints/new", methods=["GET", "POST"])
def new_complaint():
    """From the poster (?qr=) or the school list (?school_id=): the complaint form; with neither, the list."""
    qr = request.args.get("qr") or None
    school_id = request.args.get("school_id", type=id_arg)
    if qr is None and school_id is None:
        q = (request.args.get("q") or "").strip()[:64]
        schools = []
        if q:
            schools = db.session.scalars(sa.select(School).where(
                sa.or_(contains_text(School.name, q), contains_text(School.district, q)))
                .order_by(School.district, School.name).limit(PICKER_LIMIT)).all()
        return render_template("complaints/choose_school.html", q=q, schools=schools, limit=PICKER_LIMIT)
    school = services.school_for(school_id, qr)  # refused with its own page and status (errors.py)
    form = ComplaintForm()
    status = 200
    if form.validate_on_submit():
        try:
            received = services.receive(school, _submission(form))
        except DomainError as error:
            _refused_on(form, error)
            status = error.status
        else:
            return render_template("complaints/received.html", code=shown(received.code) if received.code else None,
                                   school=school, replay=not received.created)
    return render_template("complaints/new.html", form=form, school=school), status


@bp.get("/complaints/track")
def track():
    """Where a code typed by hand is sent to its page."""
    raw = request.args.get("code")
    if raw:
        code = normalise(raw)
        return redirect(url_for("complaints.show_public", code=shown(code) if code else raw[:40]))
    return render_template("complaints/track.html")


@bp.get("/c/<code>")
def show_public(code: str):
    """The complainant's page: status and the bureau's public replies, nothing else."""
    complaint = services.find_by_code(code)
    return render_template("complaints/public.html", complaint=public_view(complaint),
                           code=shown(normalise(code)), Status=ComplaintStatus)


# ---- the bureau ---------------------------------------------------------------------------------

@bp.get("/complaints/")
@roles_required(*services.QUEUE_ROLES)
def list_complaints():
    """The queue: filter by status, school, district, age; likely duplicates shown together."""
    status_arg = request.args.get("status") or None
    try:
        status = ComplaintStatus(status_arg) if status_arg else None
    except ValueError:
        status = None
    filters = services.QueueFilters(
        status=status, school_id=request.args.get("school_id", type=id_arg),
        district=(request.args.get("district") or "").strip()[:64] or None,
        older_than_days=request.args.get("older_than", type=lambda v: min(int(v), 3650) if v.isdigit() else None))
    complaints = services.queue(filters)
    districts = db.session.scalars(sa.select(School.district).distinct().order_by(School.district)).all()
    return render_template("complaints/list.html", groups=services.grouped(complaints), filters=filters,
                           Status=ComplaintStatus, districts=districts,
                           overdue=services.untriaged_overdue(), now=utcnow())


def _triage_form(**kwargs) -> TriageForm:
    return TriageForm(assignees=assignees(), viewer=current_user, items=services.complaint_items(), **kwargs)


def _detail(complaint, form: TriageForm | None = None, status: int = 200):
    form = form or _triage_form(formdata=None, problem=complaint.text)
    return render_template("complaints/detail.html", complaint=bureau_view(complaint, current_user), form=form,
                           can_triage=can_triage(current_user) and complaint.status is ComplaintStatus.RECEIVED,
                           shows_contact=shows_contact(current_user), duplicates=services.duplicates_of(complaint),
                           Status=ComplaintStatus), status


@bp.get("/complaints/<int:complaint_id>")
@roles_required(*services.QUEUE_ROLES)
def show_complaint(complaint_id: int):
    return _detail(get_complaint_or_404(complaint_id, current_user))


@bp.post("/complaints/<int:complaint_id>/triage")
@roles_required(*services.QUEUE_ROLES)
def triage_complaint(complaint_id: int):
    """Reject with a public reason, hand to the school as a ticket, or send someone to check."""
    complaint = get_complaint_or_404(complaint_id, current_user)
    form = _triage_form()
    form.validate()  # CSRF is checked globally; the dates parse here, the rules are the service's
    assignee = form.assignee_id.data
    sent = services.Triage(action=form.action.data or "", reply=form.reply.data, problem=form.problem.data,
                           severity=form.severity.data, window_start=form.window_start.data,
                           window_end=form.window_end.data, item_code=form.item_code.data or None,
                           assignee_id=int(assignee) if assignee and assignee.isdigit() and len(assignee) < 10 else None)
    try:
        services.triage(complaint, current_user, sent)
        db.session.commit()
    except DomainError as error:
        if error.status == 403:
            raise
        form = _triage_form()
        _refused_on(form, error)
        return _detail(db.session.get(type(complaint), complaint_id), form, error.status)
    return redirect(url_for("complaints.show_complaint", complaint_id=complaint_id))


@bp.route("/complaints/log", methods=["GET", "POST"])
@roles_required(*services.TRIAGE_ROLES)
def log_complaint():
    """A complaint taken by hotline or letter: written down for the caller, whose code is read back."""
    form = LogForm(schools=db.session.scalars(sa.select(School).order_by(School.district, School.name)).all())
    status = 200
    if form.validate_on_submit():
        try:
            school = services.school_for(id_arg(form.school.data) if form.school.data else None, None)
            source = ComplaintSource(form.source.data if form.source.data in ("phone", "letter") else "phone")
            received = services.receive(school, _submission(form), source, logged_by=current_user)
        except (DomainError, ValueError) as error:
            if not isinstance(error, DomainError):
                error = DomainError(_("Choose the school from the list."), 422, "school")
            if error.field == "school_id":
                error.field = "school"
            _refused_on(form, error)
            status = error.status
        else:
            return render_template("complaints/received.html", code=shown(received.code) if received.code else None,
                                   school=school, replay=not received.created, logged=True)
    return render_template("complaints/log.html", form=form), status
