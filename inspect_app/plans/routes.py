"""The planners' pages: plans, a new plan with today's risk scores and their reasons, a plan's tasks.
Leaders and admins only (plans.access.PLANNER_ROLES); nothing here is reachable by a school."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from inspect_app.accounts.access import roles_required
from inspect_app.checklists.models import VisitMode
from inspect_app.dbtypes import utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.plans import bp, planning, risk
from inspect_app.plans.access import PLANNER_ROLES, get_plan_or_404
from inspect_app.plans.forms import FollowUpPlanForm, PlanForm, RedrawForm
from inspect_app.plans.models import Weighting
from inspect_app.plans.present import plan_view, score_view
from inspect_app.plans.services import assignees
from inspect_app.schools.models import School

SCORES_SHOWN = 30


def school_names() -> dict[int, str]:
    return dict(db.session.execute(sa.select(School.id, School.name)).all())


@bp.get("")
@roles_required(*PLANNER_ROLES)
def list_plans():
    """Recent plans with their progress."""
    return render_template("plans/list.html", plans=planning.plans_progress(limit=50),
                           follow_up_form=FollowUpPlanForm(formdata=None))


def _new(form: PlanForm, status: int = 200):
    names = school_names()
    scores = [score_view(entry, names) for entry in risk.school_scores()[:SCORES_SHOWN]]
    return render_template("plans/new.html", form=form, scores=scores), status


@bp.get("/new")
@roles_required(*PLANNER_ROLES)
def new_plan():
    """The plan form beside each school's risk score now, with its reasons."""
    return _new(PlanForm(people=assignees(), viewer=current_user))


@bp.post("")
@roles_required(*PLANNER_ROLES)
def create_plan():
    form = PlanForm(people=assignees(), viewer=current_user)
    if not form.validate_on_submit():
        return _new(form, 422)
    try:
        modes = [VisitMode(m) for m in form.modes.data or []]
    except ValueError:
        modes = []
    sent = planning.PlanRequest(form.date_from.data, form.date_to.data, form.count.data, modes,
                                form.assignees.data or None, Weighting(form.weighting.data))
    try:
        plan = planning.create_plan(sent, current_user)
    except DomainError as error:
        db.session.rollback()
        field = getattr(form, error.field, None) if error.field else None
        (field.errors if field is not None else form.form_errors).append(error.message)
        return _new(form, 422)
    db.session.commit()
    return redirect(url_for("plans.show_plan", plan_id=plan.id))


@bp.get("/<int:plan_id>")
@roles_required(*PLANNER_ROLES)
def show_plan(plan_id: int):
    """A plan: its progress, its tasks (who, where, which day), and every school's score at drawing."""
    plan = get_plan_or_404(plan_id, current_user)
    return _detail(plan, RedrawForm(formdata=None))


def _detail(plan, redraw_form: RedrawForm, status: int = 200):
    return render_template("plans/detail.html", plan=plan_view(plan, current_user, utcnow(), school_names()),
                           redraw_form=redraw_form), status


@bp.post("/<int:plan_id>/redraw")
@roles_required(*PLANNER_ROLES)
def redraw_missed(plan_id: int):
    """Send the plan's missed tasks again (audited: the cancelled and the new tasks are in the chain)."""
    plan = get_plan_or_404(plan_id, current_user)
    form = RedrawForm()
    if not form.validate_on_submit():
        return _detail(plan, form, 422)
    try:
        made = planning.redraw_missed(plan, current_user, form.date_to.data)
    except DomainError as error:
        db.session.rollback()
        (form.date_to.errors if error.field == "date_to" else form.form_errors).append(error.message)
        return _detail(get_plan_or_404(plan_id, current_user), form, 422)
    db.session.commit()
    flash(_("%(n)s missed visits sent again.", n=len(made)), "success")
    return redirect(url_for("plans.show_plan", plan_id=plan.id))


@bp.post("/follow-ups")
@roles_required(*PLANNER_ROLES)
def draw_follow_ups():
    """A sealed plan with a follow-up visit (回头看) at every school with a reported rectification."""
    form = FollowUpPlanForm()
    if form.validate_on_submit():
        try:
            plan = planning.draw_follow_ups(current_user, form.date_from.data, form.date_to.data)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            return redirect(url_for("plans.show_plan", plan_id=plan.id))
    return render_template("plans/list.html", plans=planning.plans_progress(limit=50),
                           follow_up_form=form), 422
