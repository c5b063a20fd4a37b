"""Tickets in the browser: the school's inbox and response, the inspector's follow-up queue."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from inspect_app.accounts.access import roles_required
from inspect_app.accounts.models import Role
from inspect_app.dbtypes import utcnow
from inspect_app.documents import attachment
from inspect_app.extensions import db
from inspect_app.htmx import is_htmx, render
from inspect_app.photos.processing import PhotoRejected
from inspect_app.photos.services import (PhotoConflict, PhotoFields, photos_for_findings,
                                         read_upload, receive_photo)
from inspect_app.tickets import bp, handovers, services
from inspect_app.tickets.access import (can_respond, can_verify, get_ticket_or_404, needs_override_reason,
                                        shows_people, visible_tickets)
from inspect_app.tickets.forms import RespondForm, VerifyForm
from inspect_app.tickets.models import VERIFIER_ROLES, Notification, Ticket, TicketError, TicketStatus
from inspect_app.tickets.present import INSPECTION_GROUP, notice, ticket_detail, ticket_summary
from inspect_app.visits.access import get_visit_or_404


@bp.app_context_processor
def ticket_helpers():
    return {"unread_notifications": services.unread_count if current_user.is_authenticated else None,
            "school_ticket_counts": services.school_counts, "tickets_opened_by": services.opened_by_visit, "hand_over_of": handovers.hand_over_of}


def _ordered(query: sa.Select) -> sa.Select:
    # Overdue first, then by deadline: what needs doing soonest stays on top.
    overdue_first = sa.case((Ticket.overdue, 0), else_=1)
    return query.order_by(overdue_first, Ticket.deadline, Ticket.id)


@bp.get("/")
@login_required
def list_tickets():
    """Tickets this user may see: a school its own, the bureau all; open ones unless asked."""
    status = request.args.get("status")
    query = visible_tickets(current_user).options(so.joinedload(Ticket.school), so.joinedload(Ticket.finding))
    if status in set(TicketStatus):
        query = query.where(Ticket.status == status)
    else:
        query = query.where(Ticket.status.in_(TicketStatus.ACTIVE))
    now = utcnow()
    tickets = [ticket_summary(t, current_user, now) for t in db.session.scalars(_ordered(query).limit(500))]
    return render_template("tickets/list.html", tickets=tickets, status=status, statuses=list(TicketStatus),
                           people=shows_people(current_user), follow_up=current_user.role in VERIFIER_ROLES)


@bp.get("/follow-up")
@roles_required(*VERIFIER_ROLES)
def follow_up_queue():
    """Schools with tickets to verify on site (回头看): responded ones, and overdue ones."""
    now = utcnow()
    query = sa.select(Ticket).options(so.joinedload(Ticket.school), so.joinedload(Ticket.finding)).where(
        sa.or_(Ticket.status == TicketStatus.RESPONDED, Ticket.overdue_at(now)))
    by_school: dict[int, tuple] = {}
    for ticket in db.session.scalars(_ordered(query).limit(500)):
        by_school.setdefault(ticket.school_id, (ticket.school, []))[1].append(
            ticket_summary(ticket, current_user, now))
    groups = sorted(by_school.values(), key=lambda group: (
        -sum(t["status"] is TicketStatus.RESPONDED for t in group[1]), group[0].name))
    return render_template("tickets/follow_up.html", groups=groups)


def _detail(ticket: Ticket, respond_form=None, verify_form=None, status=200):
    """The ticket page, or for a script's (htmx-style) request only its work area: the before and
    after, and the form this user may fill next, which then replaces the one that was sent."""
    photos = photos_for_findings([ticket.finding_id]).get(ticket.finding_id, [])
    return render("tickets/detail.html", "tickets/_work.html",
                  ticket=ticket_detail(ticket, current_user, utcnow()), INSPECTION_GROUP=INSPECTION_GROUP,
                  finding_photos=photos,
                  respond_form=respond_form or RespondForm(formdata=None),
                  verify_form=verify_form or VerifyForm(formdata=None),
                  can_respond=can_respond(current_user, ticket), can_verify=can_verify(current_user, ticket),
                  needs_override_reason=needs_override_reason(current_user, ticket),
                  max_upload_bytes=current_app.config["MAX_CONTENT_LENGTH"]), status


@bp.get("/<int:ticket_id>")
@login_required
def show_ticket(ticket_id: int):
    """A ticket with its written record as a timeline, and what this user can do next."""
    ticket = get_ticket_or_404(ticket_id, current_user)
    db.session.execute(sa.update(Notification).where(
        Notification.user_id == current_user.id, Notification.ticket_id == ticket.id,
        Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
    return _detail(ticket)


def _store_photos(field) -> list[str] | None:
    """Keep each uploaded file as a photo first (outside the ticket's transaction); never lose one.
    A file that is no photo puts its reason under the field and gives None: the page is shown again
    with what was typed, not a page of its own."""
    uploads = [upload for upload in field.data or [] if upload and upload.filename]
    services.check_photo_count(len(uploads))  # before any photo is looked at
    ids = []
    for upload in uploads:
        photo_id = str(uuid.uuid4())
        try:
            receive_photo(photo_id, current_user, read_upload(upload), PhotoFields(captured_at=utcnow()))
        except PhotoRejected as rejected:
            field.errors = [_("%(name)s: %(reason)s", name=upload.filename, reason=rejected.message)]
            return None
        except PhotoConflict:
            field.errors = [_("Please try again.")]
            return None
        ids.append(photo_id)
    return ids


def _commit_step():
    with services.one_writer_at_a_time():
        db.session.commit()


def _step_refused(ticket_id: int, error: TicketError, form, **forms):
    """A refusal about what was sent goes under its field with the rest kept; one about the ticket's
    state (closed, not yours, someone was faster) is an error of its own (the domain error's page)."""
    if error.status != 422:
        raise error
    db.session.rollback()
    if error.field:
        getattr(form, error.field).errors = [error.message]
    else:
        form.form_errors = [error.message]
    return _detail(get_ticket_or_404(ticket_id, current_user), status=422, **forms)


def _step_done(ticket_id: int, message: str):
    """A page gets POST-redirect-GET; a script gets the work area as it now is, to swap in."""
    if is_htmx():
        return _detail(get_ticket_or_404(ticket_id, current_user))
    flash(message, "success")
    return redirect(url_for("tickets.show_ticket", ticket_id=ticket_id))


@bp.post("/<int:ticket_id>/respond")
@roles_required(Role.DUTY_OFFICER)
def respond(ticket_id: int):
    """The school reports its rectification with after-photos; only a verifier can close."""
    ticket = get_ticket_or_404(ticket_id, current_user)
    form = RespondForm()
    if not form.validate_on_submit():
        return _detail(ticket, respond_form=form, status=422)
    photo_ids = _store_photos(form.photos)
    if photo_ids is None:
        return _detail(get_ticket_or_404(ticket_id, current_user), respond_form=form, status=422)
    ticket = get_ticket_or_404(ticket_id, current_user)
    try:
        services.respond(ticket, current_user, form.text.data, photo_ids)
    except TicketError as error:
        return _step_refused(ticket_id, error, form, respond_form=form)
    _commit_step()
    return _step_done(ticket_id, _("Your rectification report was sent. An inspector will verify it."))


@bp.post("/<int:ticket_id>/verify")
@roles_required(*VERIFIER_ROLES)
def verify(ticket_id: int):
    """Close out (销号) with re-check photos, or send back (退回) with a new deadline."""
    ticket = get_ticket_or_404(ticket_id, current_user)
    form = VerifyForm()
    if not form.validate_on_submit() or form.outcome.data not in ("close", "reopen"):
        return _detail(ticket, verify_form=form, status=422)
    photo_ids = _store_photos(form.photos)
    if photo_ids is None:
        return _detail(get_ticket_or_404(ticket_id, current_user), verify_form=form, status=422)
    ticket = get_ticket_or_404(ticket_id, current_user)
    close = form.outcome.data == "close"
    try:
        services.verify(ticket, current_user, close, form.note.data or "", photo_ids, form.new_deadline.data,
                        override_reason=form.override_reason.data or "")
    except TicketError as error:
        return _step_refused(ticket_id, error, form, verify_form=form)
    _commit_step()
    return _step_done(ticket_id, _("Closed out.") if close else _("Sent back with a new deadline."))


@bp.get("/notifications")
@login_required
def list_notifications():
    """The inbox: what happened to tickets that concern me, newest first."""
    notes = db.session.scalars(sa.select(Notification).where(Notification.user_id == current_user.id)
                               .options(so.joinedload(Notification.ticket).joinedload(Ticket.school),
                                        so.joinedload(Notification.ticket).joinedload(Ticket.finding),
                                        so.joinedload(Notification.school))
                               .order_by(Notification.id.desc()).limit(200)).all()
    sheets = handovers.hand_overs_of({n.ticket.visit_id for n in notes
                                      if n.kind in handovers.SHEET_NOTICES and n.ticket and n.ticket.visit_id})
    return render_template("tickets/notifications.html", notes=[notice(n, current_user, sheets) for n in notes])


@bp.post("/notifications/read")
@login_required
def mark_notifications_read():
    """Mark everything in my inbox as read."""
    db.session.execute(sa.update(Notification).where(Notification.user_id == current_user.id,
                                                     Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
    return redirect(url_for("tickets.list_notifications"))


@bp.post("/hand-overs/visit/<visit_id>")
@roles_required(*handovers.ISSUER_ROLES)
def issue_hand_over(visit_id: str):
    """Number the visit's hand-over sheet (交办单) and send it to the school to sign for."""
    visit = get_visit_or_404(visit_id, current_user)
    sheet = handovers.issue(visit, current_user, utcnow())
    db.session.commit()
    flash(_("Hand-over sheet %(number)s issued. The school has been notified to sign for it.", number=sheet.label),
          "success")
    return redirect(url_for("tickets.show_hand_over", hand_over_id=sheet.id))


@bp.get("/hand-overs/<int:hand_over_id>")
@login_required
def show_hand_over(hand_over_id: int):
    """The sheet: its problems, who signed for it and when; the school's button to sign for it."""
    sheet = handovers.get_or_404(hand_over_id, current_user)
    return render_template("tickets/hand_over.html", sheet=handovers.sheet_view(sheet, current_user),
                           may_sign=sheet.acknowledgement_refused(current_user) is None,
                           photo_src=lambda photo_id: url_for("photos.serve_photo", photo_id=photo_id, size="thumb"))


@bp.get("/hand-overs/<int:hand_over_id>.pdf")
@login_required
def hand_over_pdf(hand_over_id: int):
    """The sheet as a PDF, for both sides' files."""
    return _sheet_pdf(hand_over_id, feedback=False)


@bp.get("/hand-overs/<int:hand_over_id>/feedback.pdf")
@login_required
def hand_over_feedback_pdf(hand_over_id: int):
    """The rectification feedback (整改反馈): the school's reports on the sheet's problems, as PDF."""
    return _sheet_pdf(hand_over_id, feedback=True)


def _sheet_pdf(hand_over_id: int, feedback: bool):
    sheet = handovers.get_or_404(hand_over_id, current_user)
    response = current_app.response_class(handovers.pdf(sheet, current_user, feedback=feedback),
                                          mimetype="application/pdf")
    name, ascii_name = (_("Rectification feedback"), "feedback") if feedback else (_("Hand-over sheet"), "hand-over")
    response.headers["Content-Disposition"] = attachment(f"{name}-{sheet.number}.pdf", f"{ascii_name}-{sheet.number}.pdf")
    return response


@bp.post("/hand-overs/<int:hand_over_id>/acknowledge")
@login_required
def acknowledge_hand_over(hand_over_id: int):
    """The school's duty officer signs for the sheet (签收), with the time."""
    sheet = handovers.get_or_404(hand_over_id, current_user)
    handovers.acknowledge(sheet, current_user, utcnow())
    db.session.commit()
    flash(_("Signed for. The bureau can see that the school has received the sheet."), "success")
    return redirect(url_for("tickets.show_hand_over", hand_over_id=hand_over_id))
