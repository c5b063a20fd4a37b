"""API views for sealed plans (API.md "Next capabilities"): the same planning as the pages."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user, login_required
from spectree import Response

from inspect_app.api import bp, schemas
from inspect_app.api import schemas_plans as s
from inspect_app.api.openapi import api, looked_up_first
from inspect_app.checklists.models import VisitMode
from inspect_app.dbtypes import utcnow
from inspect_app.errors import refuse
from inspect_app.extensions import db
from inspect_app.i18n import local_iso
from inspect_app.plans import planning
from inspect_app.plans.access import can_plan, get_plan_or_404
from inspect_app.plans.models import Weighting
from inspect_app.plans.present import plan_view
from inspect_app.plans.routes import school_names


def plan_json(view: dict) -> dict:
    return {"id": view["id"], "date_from": view["date_from"].isoformat(), "date_to": view["date_to"].isoformat(),
            "count": view["count"], "modes": [m.value for m in view["modes"]], "weighting": view["weighting"].value,
            "assignees": "auto" if view["auto"] else view["assignee_ids"], "seed": view["seed"],
            "progress": view["progress"],
            "tasks": [{"id": t["id"], "school_id": t["school_id"], "assignee_id": t["assignee_id"],
                       "mode": t["mode"].value, "window_start": local_iso(t["window_start"]),
                       "window_end": local_iso(t["window_end"]), "status": t["status"].value,
                       "progress": t["progress"].value, "visit_id": t["visit_id"]} for t in view["tasks"]],
            "scores": [{"school_id": e["school_id"], "score": e["score"], "due": e["due"], "reasons": e["reasons"]}
                       for e in view["scores"]]}


def _planner_only(**_values) -> None:
    if not can_plan(current_user):
        refuse(403, planning.planners_only())


# Before the body is looked at: a role that may not plan is told so, whatever it sent.
_planners_first = looked_up_first(_planner_only)


@bp.post("/plans")
@login_required
@_planners_first
@api.validate(json=s.PlanInput, resp=Response(
    HTTP_201=(s.Plan, "The sealed plan, its tasks and every school's score"),
    HTTP_403=(schemas.Error, "Leaders and admins only")))
def post_plan():
    """Draw a sealed plan: a risk-weighted (or uniform) random sample of schools, reproducible from its seed."""
    sent = request.context.json
    modes = [VisitMode(m) for m in (sent.modes or ([sent.mode] if sent.mode else []))]
    plan = planning.create_plan(planning.PlanRequest(
        sent.date_from, sent.date_to, sent.count, modes, None if sent.assignees == "auto" else list(sent.assignees),
        Weighting(sent.weighting)), current_user)
    db.session.commit()
    return jsonify(plan_json(plan_view(plan, current_user, utcnow(), school_names()))), 201


@bp.get("/plans/<int:plan_id>")
@login_required
@_planners_first
@api.validate(resp=Response(HTTP_200=s.Plan, HTTP_403=(schemas.Error, "Leaders and admins only")))
def get_plan(plan_id: int):
    """A plan with its tasks' progress."""
    plan = get_plan_or_404(plan_id, current_user)
    return jsonify(plan_json(plan_view(plan, current_user, utcnow(), school_names())))
