"""The coordinator's invitation pages, a parent's registration from one, and the list of reveals."""
from datetime import timedelta

import sqlalchemy as sa
from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from inspect_app.accounts.access import can_reveal, sees_reveals
from inspect_app.accounts.auth import start_browser_session
from inspect_app.accounts.models import AccountError, AuthSession, IdentityReveal, Role, SessionKind, User
from inspect_app.checklists.models import VisitMode
from inspect_app.dbtypes import utcnow
from inspect_app.errors import refuse
from inspect_app.i18n import local_zone
from inspect_app.parsing import in_url, parse_month
from inspect_app.extensions import db
from inspect_app.idempotency import first_writer_wins
from inspect_app.schools.models import School
from inspect_app.schools.qr import qr_svg
from inspect_app.volunteers import bp, services
from inspect_app.volunteers.access import coordinator_required
from inspect_app.volunteers.forms import ChildSchoolsForm, InvitationForm, JoinForm, TaskForm
from inspect_app.volunteers.models import VolunteerInvitation


@bp.route("/invitations", methods=["GET", "POST"])
@coordinator_required
def list_invitations():
    """The coordinator's invitations with their state; issuing new ones shows their QR codes once."""
    form = InvitationForm()
    if form.validate_on_submit():
        issued = services.issue_invitations(current_user, form.expires_in_days.data, form.count.data)
        db.session.commit()
        cards = [(invitation, url, qr_svg(url)) for invitation, code in issued
                 for url in [services.invitation_url(code)]]
        response = make_response(render_template("volunteers/invitation_cards.html", cards=cards))
        # The codes exist nowhere else (only their hashes are stored): never kept by a cache.
        response.headers["Cache-Control"] = "no-store"
        return response
    status = 422 if form.errors else 200
    return render_template("volunteers/invitations.html", form=form, invitations=services.invitations()), status


@bp.post("/invitations/<int:invitation_id>/withdraw")
@coordinator_required
def withdraw_invitation(invitation_id: int):
    """An unused invitation stops working at once (a printed sheet went missing)."""
    invitation = db.session.get(VolunteerInvitation, invitation_id) or abort(404)
    services.withdraw(invitation)
    db.session.commit()
    flash(_("Invitation #%(n)s withdrawn.", n=invitation.id), "success")
    return redirect(url_for("volunteers.list_invitations"))


def _schools() -> list[School]:
    return db.session.scalars(sa.select(School).order_by(School.district, School.name)).all()


@bp.route("/join/<code>", methods=["GET", "POST"])
def join(code: str):
    """A parent registers from an invitation on their phone: the agreement, then their details."""
    if current_user.is_authenticated:
        refuse(409, _("Sign out first: this invitation is for a new account."))
    services.usable_invitation(code)  # 404 or 410 before the form is even shown
    form = JoinForm(schools=_schools())
    if form.validate_on_submit():
        registration = services.Registration(
            code=code, username=form.username.data, password=form.password.data,
            real_name=form.real_name.data, phone=form.phone.data,
            child_school_ids=tuple(form.child_school_ids.data or ()),
            agreement_version=services.AGREEMENT_VERSION if form.agreement.data else None)

        def attempt():
            user = services.register(registration)
            # Signed in at once: the parent chose this password a moment ago on this phone.
            _session, raw_key = AuthSession.issue(user, SessionKind.WEB, current_app.config["WEB_SESSION_LIFETIME"])
            return user, raw_key
        try:
            # Two phones racing on one code: the loser runs again and is told the code is used (410).
            user, raw_key = first_writer_wins(attempt)
        except AccountError as error:
            db.session.rollback()
            target = getattr(form, error.field or "", None) or form.username
            target.errors = [*target.errors, error.message]
        else:
            user.session_key = raw_key
            start_browser_session(user)
            return redirect(url_for("core.home"))
    status = 422 if form.errors else 200
    response = make_response(render_template("volunteers/join.html", form=form,
                                             version=services.AGREEMENT_VERSION), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/reveals")
@login_required
def list_reveals():
    """Every look behind a pseudonym: who looked, at whom, when and why (the leader's oversight)."""
    if not sees_reveals(current_user):
        abort(403)
    reveals = db.session.scalars(sa.select(IdentityReveal).order_by(IdentityReveal.at.desc()).limit(500)).all()
    people = {u.id: u for u in db.session.scalars(sa.select(User).where(
        User.id.in_({r.volunteer_id for r in reveals} | {r.revealed_by_id for r in reveals})))}
    return render_template("volunteers/reveals.html", reveals=reveals, people=people,
                           coordinator=can_reveal(current_user))


@bp.get("/")
@coordinator_required
def roster():
    """The programme by pseudonym: active, last check, tasks done and late, schools they may not check."""
    return render_template("volunteers/roster.html", rows=services.roster())


@bp.get("/coverage")
@coordinator_required
def show_coverage():
    """A month's coverage of schools by volunteers: checks per school, and the schools not yet checked."""
    this_month = utcnow().astimezone(local_zone()).date().replace(day=1)
    month = in_url(parse_month, request.args.get("month")) or this_month
    month = min(month, this_month)  # a month to come has nothing to show
    earlier = (month - timedelta(days=1)).replace(day=1)
    later = (month + timedelta(days=31)).replace(day=1)
    return render_template("volunteers/coverage.html", coverage=services.month_coverage(month),
                           earlier=earlier.strftime("%Y-%m"),
                           later=later.strftime("%Y-%m") if later <= this_month else None)


@bp.post("/<int:user_id>/deactivate")
@coordinator_required
def deactivate(user_id: int):
    """The volunteer leaves the programme: the account stops working at once, their history stays."""
    volunteer = services.volunteer_or_404(user_id)
    services.deactivate(volunteer)
    db.session.commit()
    flash(_("%(name)s deactivated: the account no longer signs in; their records stay.",
            name=volunteer.name_for(current_user)), "success")
    return redirect(url_for("volunteers.roster"))


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@coordinator_required
def show_volunteer(user_id: int):
    """One volunteer's tasks (late ones marked) and a form to give them a new one through plans."""
    from inspect_app.plans.models import TaskError
    from inspect_app.plans.services import create_task
    volunteer = services.volunteer_or_404(user_id)
    schools = services.schools_for(volunteer)
    form = TaskForm(schools=schools)
    if form.validate_on_submit():
        school = db.session.get(School, form.school_id.data)
        try:
            create_task(volunteer, school, form.first_day.data, form.last_day.data, created_by=current_user,
                        mode=VisitMode(form.mode.data))
        except TaskError as error:
            db.session.rollback()
            target = {"window_start": form.first_day, "window_end": form.last_day,
                      "mode": form.mode}.get(error.field, form.school_id)
            target.errors = [*target.errors, error.message]
        else:
            db.session.commit()
            flash(_("Task given to %(name)s.", name=volunteer.name_for(current_user)), "success")
            return redirect(url_for("volunteers.show_volunteer", user_id=volunteer.id))
    return _volunteer_page(volunteer, form, schools=schools)


def _volunteer_page(volunteer, form, children_form=None, schools=None):
    tasks = services.tasks_of(volunteer)
    children_form = children_form or ChildSchoolsForm(schools=_schools(), formdata=None,
                                                      child_school_ids=[s.id for s in volunteer.child_schools])
    status = 422 if form.errors or children_form.errors else 200
    return render_template("volunteers/volunteer.html", volunteer=volunteer, form=form,
                           schools=services.schools_for(volunteer) if schools is None else schools,
                           children_form=children_form,
                           tasks=[(t, services.task_state(t)) for t in tasks]), status


@bp.post("/<int:user_id>/children")
@coordinator_required
def change_children(user_id: int):
    """The coordinator records, for a volunteer, that a child changed school (effective at once)."""
    volunteer = services.volunteer_or_404(user_id)
    form = ChildSchoolsForm(schools=_schools())
    if not form.validate_on_submit():
        return _volunteer_page(volunteer, TaskForm(schools=services.schools_for(volunteer), formdata=None), form)
    changed = services.change_child_schools(volunteer, form.child_school_ids.data or ())
    db.session.commit()
    flash(_("Children's schools of %(name)s saved: %(dropped)s of their schools taken off their list, "
            "%(cancelled)s open tasks cancelled.", name=volunteer.name_for(current_user),
            dropped=len(changed.unassigned), cancelled=changed.cancelled), "success")
    return redirect(url_for("volunteers.show_volunteer", user_id=volunteer.id))


@bp.route("/children", methods=["GET", "POST"])
@login_required
def my_children():
    """A volunteer names the schools their children attend now (a child changed school): from the next
    request on they are never sent there and can never start a check there. Words neutral: the screen
    may be read at a gate."""
    if current_user.role is not Role.VOLUNTEER:
        abort(403)
    form = ChildSchoolsForm(schools=_schools(), **({} if request.method == "POST" else
                                                    {"child_school_ids": [s.id for s in current_user.child_schools]}))
    if form.validate_on_submit():
        services.change_child_schools(current_user, form.child_school_ids.data or ())
        db.session.commit()
        flash(_("Saved. You will not be sent to these schools."), "success")
        return redirect(url_for("volunteers.my_children"))
    status = 422 if form.errors else 200
    return render_template("volunteers/children.html", form=form), status


@bp.get("/history")
@login_required
def show_history():
    """A volunteer's own notes and what became of each problem (已整改 / 整改中), in neutral words."""
    if current_user.role is not Role.VOLUNTEER:
        abort(403)
    return render_template("volunteers/history.html", entries=services.history(current_user))
