"""The daily report in the browser: the duty officer's one-minute screen, the bureau's day view."""
from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from inspect_app.accounts.access import roles_required
from inspect_app.accounts.models import BUREAU_ROLES, Role
from inspect_app.dbtypes import utcnow
from inspect_app.duties import bp, services
from inspect_app.duties.forms import ReportForm, ZeroForm
from inspect_app.duties.models import COUNT_LABELS, COUNTS, DutyError
from inspect_app.duties.present import report_view
from inspect_app.errors import refuse
from inspect_app.extensions import db
from inspect_app.idempotency import first_writer_wins
from inspect_app.parsing import or_none, parse_uuid
from inspect_app.schools.models import School


def _client_id(value: str | None) -> str | None:
    return or_none(parse_uuid, value)  # a mangled hidden field: file it anyway, without replay protection


def _page(day: date, form: ReportForm | None = None, status: int = 200):
    reports = services.versions(current_user.school_id, day)
    fresh = str(uuid.uuid4())
    form = form or ReportForm(formdata=None, data={"day": day.isoformat(), **(
        reports[0].counts() | {"note": reports[0].note} if reports else {})})
    form.client_id.data = fresh
    zero_form = ZeroForm(formdata=None, data={"day": day.isoformat(), "client_id": fresh})
    return render_template("duties/report.html", day=day, today=services.today(), deadline=services.deadline(day),
                           deadline_clock=_clock(services.deadline(day)),
                           current=report_view(reports[0], current_user) if reports else None,
                           history=[report_view(r, current_user) for r in reports[1:]], form=form,
                           zero_form=zero_form, labels=COUNT_LABELS, counts=COUNTS,
                           school=db.session.get(School, current_user.school_id)), status


@bp.get("/")
@roles_required(Role.DUTY_OFFICER)
def show_report():
    """Today's report (or ?date= a day missed): one tap for 零报告, or the numbers and a note."""
    day = services.day_or_today(request.args.get("date"), 400)
    services.mark_reminders_read(current_user, day)
    return _page(day)


def _file(day: date, fields: services.ReportFields, client_id: str | None, form: ReportForm | None):
    try:
        report, created = first_writer_wins(
            lambda: services.file_report(current_user, day, fields, client_id))
    except DutyError as error:
        if error.status != 422 or form is None or error.field not in (*COUNTS, "note"):
            raise
        db.session.rollback()
        form[error.field].errors = [error.message]
        return _page(day, form, 422)
    if created:
        flash(_("Filed at %(time)s (late: after the %(due)s deadline).", time=_clock(report.filed_at),
                due=_clock(report.deadline)) if report.late else _("Filed at %(time)s.", time=_clock(report.filed_at)),
              "success")
    else:
        flash(_("This report was already filed; nothing changed."), "success")
    return redirect(url_for("duties.show_report", date=day.isoformat()))


def _clock(moment) -> str:
    from inspect_app.i18n import local_zone
    return moment.astimezone(local_zone()).strftime("%H:%M")


@bp.post("/")
@roles_required(Role.DUTY_OFFICER)
def file_report():
    """File or correct the day's numbers (a correction is a new version; the old one is kept)."""
    form = ReportForm()
    day = services.day_or_today(form.day.data, 400)
    if not form.validate_on_submit():
        return _page(day, form, 422)
    fields = services.ReportFields(note=form.note.data or "", **{name: form[name].data for name in COUNTS})
    return _file(day, fields, _client_id(form.client_id.data), form)


@bp.post("/zero")
@roles_required(Role.DUTY_OFFICER)
def file_zero():
    """零报告: nothing to report today, in one tap."""
    form = ZeroForm()
    if not form.validate_on_submit():
        refuse(400, _("This form has expired. Please reload the page and try again."))
    return _file(services.day_or_today(form.day.data, 400), services.ReportFields(zero=True),
                 _client_id(form.client_id.data), None)


@bp.get("/day")
@roles_required(*BUREAU_ROLES)
def show_day():
    """The bureau's day: who filed, who late, who not yet; totals by district; fever jumps first."""
    day = services.day_or_today(request.args.get("date"), 400)
    districts = db.session.scalars(sa.select(School.district).distinct().order_by(School.district)).all()
    district = request.args.get("district") or None
    if district not in districts:
        district = None
    view = services.day_view(day, district)
    return render_template("duties/day.html", view=view, districts=districts, district=district,
                           labels=COUNT_LABELS, counts=COUNTS, today=services.today(),
                           previous=day.fromordinal(day.toordinal() - 1), following=day.fromordinal(day.toordinal() + 1),
                           now=utcnow())
