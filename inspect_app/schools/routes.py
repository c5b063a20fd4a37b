"""The scan landing, the school pages and the admin's register, import and posters."""
from urllib.parse import quote

import sqlalchemy as sa
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from inspect_app.accounts.access import roles_required
from inspect_app.accounts.models import ASSIGNEE_ROLES, MANAGER_ROLES, Role, User
from inspect_app.errors import error_page, refuse
from inspect_app.extensions import db
from inspect_app.htmx import render
from inspect_app.parsing import page_arg
from inspect_app.schools import bp
from inspect_app.schools.access import (can_view_school, get_school_or_404, resolve_qr_token, scan_refusal,
                                        visible_schools)
from inspect_app.schools.forms import AssignmentForm, ImportForm, RecusalForm
from inspect_app.schools.models import Recusal, School
from inspect_app.schools.qr import qr_svg, qr_url
from inspect_app.schools.services import (ImportFileError, distances_m, import_schools, nearest_first,
                                          parse_near, set_assignments, template_csv)
from inspect_app.textsearch import contains_text

PAGE_SIZE = 50


@bp.get("/s/<token>")
def scan_landing(token: str):
    """What a poster's QR code opens: public page signed out, the role's start page signed in."""
    school, retired = resolve_qr_token(token)
    if school is None:
        return error_page(404, _("This code is not one of ours. Please check the poster or ask the school office."))
    if retired:
        return error_page(410, _("This code was replaced by a new poster. Please scan the poster now on display at the school."))
    if not current_user.is_authenticated:
        return render_template("schools/landing_public.html", school=school)
    if not can_view_school(current_user, school):
        return error_page(403, scan_refusal(current_user))
    return render_template("schools/start.html", school=school, scanned=True)


@bp.get("/schools/")
@login_required
def list_schools():
    """The schools this user may see, searchable by name or district, or nearest first (附近学校)."""
    q = (request.args.get("q") or "").strip()[:64]
    page = request.args.get("page", 1, type=page_arg)
    near = parse_near(request.args.get("near"))
    query = visible_schools(current_user).order_by(School.district, School.name)
    if q:
        query = query.where(sa.or_(contains_text(School.name, q), contains_text(School.district, q)))
    if near:
        query = nearest_first(query, *near)
    schools = db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)
    distances = distances_m(schools.items, *near) if near else {}
    return render("schools/list.html", "schools/_results.html", schools=schools, q=q,
                  near=request.args.get("near") if near else None, distances=distances)


@bp.get("/schools/<int:school_id>")
@login_required
def show_school(school_id: int):
    """A school's start page, reached from the list instead of the poster."""
    school = get_school_or_404(school_id, current_user)
    assignment_form = None
    if current_user.role is Role.ADMIN:
        assignment_form = AssignmentForm(candidates=_candidates(),
                                         data={"user_ids": [u.id for u in school.assigned_users]})
    return _start_page(school, assignment_form)


RECUSERS = MANAGER_ROLES


def _start_page(school: School, assignment_form=None, recusal_form=None, status: int = 200):
    recusals = None
    if current_user.role in RECUSERS:
        recusal_form = recusal_form or _recusal_form(formdata=None)
        recusals = db.session.scalars(sa.select(Recusal).where(Recusal.school_id == school.id)
                                      .order_by(Recusal.created_at)).all()
    return render_template("schools/start.html", school=school, scanned=False, assignment_form=assignment_form,
                           recusal_form=recusal_form, recusals=recusals), status


def _inspectors() -> list[User]:
    return db.session.scalars(sa.select(User).where(User.role == Role.INSPECTOR, User.active)
                              .order_by(User.username)).all()


def _recusal_form(**kwargs) -> RecusalForm:
    form = RecusalForm(**kwargs)
    form.user_id.choices = [(u.id, u.name_for(current_user)) for u in _inspectors()]
    return form


@bp.post("/schools/<int:school_id>/recusals")
@roles_required(*RECUSERS)
def recuse(school_id: int):
    """Recuse an inspector from this school (回避): the draw and the visit start leave them out (audited)."""
    school = db.session.get(School, school_id) or abort(404)
    form = _recusal_form()
    inspector = db.session.get(User, form.user_id.data or 0) if form.validate_on_submit() else None
    if inspector is None or inspector.role is not Role.INSPECTOR:
        if form.user_id.data and not form.user_id.errors and not form.reason.errors:
            form.user_id.errors = [_("Choose from the listed inspectors.")]
        return _start_page(school, recusal_form=form, status=422)
    exists = db.session.scalar(sa.select(Recusal.id).where(Recusal.user_id == inspector.id,
                                                           Recusal.school_id == school.id))
    if exists is None:
        db.session.add(Recusal(user_id=inspector.id, school_id=school.id, reason=form.reason.data.strip(),
                               created_by_id=current_user.id))
        db.session.commit()
    flash(_("%(name)s is recused from this school.", name=inspector.name_for(current_user)), "success")
    return redirect(url_for("schools.show_school", school_id=school.id))


@bp.post("/schools/<int:school_id>/recusals/<int:recusal_id>/lift")
@roles_required(*RECUSERS)
def lift_recusal(school_id: int, recusal_id: int):
    """End a recusal (the audit chain keeps it and its end)."""
    recusal = db.session.get(Recusal, recusal_id)
    if recusal is None or recusal.school_id != school_id:
        abort(404)
    db.session.delete(recusal)
    db.session.commit()
    flash(_("The recusal was lifted."), "success")
    return redirect(url_for("schools.show_school", school_id=school_id))


@bp.route("/schools/import", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def import_school_file():
    """Import the register from a CSV (UTF-8 or GBK); all rows or none."""
    form = ImportForm()
    result = None
    if form.validate_on_submit():
        data = form.file.data.read(current_app.config["SCHOOL_IMPORT_MAX_BYTES"] + 1)
        if len(data) > current_app.config["SCHOOL_IMPORT_MAX_BYTES"]:
            refuse(413, _("The file is too large (at most 2 MB). Split it and import the parts."))
        try:
            result = import_schools(data, current_app.config["DEFAULT_SCHOOL_RADIUS_M"])
        except ImportFileError as error:
            form.file.errors.append(str(error))
        else:
            if not result.errors:
                db.session.commit()
                flash(_("Imported: %(created)s new schools, %(updated)s updated.",
                        created=result.created, updated=result.updated), "success")
                return redirect(url_for("schools.list_schools"))
            db.session.rollback()
    status = 422 if form.errors or (result and result.errors) else 200
    return render_template("schools/import.html", form=form, result=result), status


@bp.get("/schools/import/template.csv")
@roles_required(Role.ADMIN)
def import_template():
    """The register's empty sheet to fill in in Excel and import again."""
    filename = quote(_("school register template") + ".csv")
    return Response(template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=\"schools.csv\"; filename*=UTF-8''{filename}"})


@bp.get("/schools/<int:school_id>/poster")
@roles_required(Role.ADMIN)
def show_poster(school_id: int):
    """One school's A4 poster, ready to print."""
    school = db.session.get(School, school_id) or abort(404)
    url = qr_url(school)
    return render_template("schools/posters.html", posters=[(school, url, qr_svg(url))])


@bp.get("/schools/posters")
@roles_required(Role.ADMIN)
def show_all_posters():
    """Every school's poster, one A4 page each, for printing in one go."""
    schools = db.session.scalars(sa.select(School).order_by(School.district, School.name)).all()
    posters = [(s, url, qr_svg(url)) for s in schools for url in [qr_url(s)]]
    return render_template("schools/posters.html", posters=posters)


@bp.post("/schools/<int:school_id>/rotate-qr")
@roles_required(Role.ADMIN)
def rotate_qr(school_id: int):
    """Replace a school's code (a poster was lost or photographed); the old one answers 410."""
    school = db.session.get(School, school_id) or abort(404)
    school.rotate_qr()
    db.session.commit()
    flash(_("A new code was issued for %(name)s. Print the new poster; the old one no longer works.",
            name=school.name), "success")
    return redirect(url_for("schools.show_poster", school_id=school.id))


@bp.post("/schools/<int:school_id>/assignments")
@roles_required(Role.ADMIN)
def update_assignments(school_id: int):
    """Set a school's responsible inspectors and assigned volunteers (never a volunteer's own child's school)."""
    school = db.session.get(School, school_id) or abort(404)
    form = AssignmentForm(candidates=_candidates())
    if not form.validate_on_submit():
        refuse(422, _("Choose from the listed people."))
    chosen = db.session.scalars(sa.select(User).where(User.id.in_(form.user_ids.data or []))).all()
    set_assignments(school, list(chosen), current_user)
    db.session.commit()
    flash(_("Assignments saved."), "success")
    return redirect(url_for("schools.show_school", school_id=school.id))


def _candidates() -> list[User]:
    return db.session.scalars(sa.select(User).where(User.role.in_(ASSIGNEE_ROLES), User.active)
                              .order_by(User.role, User.username)).all()
