"""Requests and answers of the plans API (API.md "Next capabilities": POST /api/v1/plans)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from inspect_app.api.schemas import Body, Id, Out, one_of
from inspect_app.api.schemas_complaints import Day
from inspect_app.checklists.models import VisitMode
from inspect_app.plans.models import TaskProgress, TaskStatus, Weighting
from inspect_app.plans.planning import PLAN_MODES

PlanMode = one_of(VisitMode, leave_out=set(VisitMode) - set(PLAN_MODES))


class PlanInput(Body):
    """`mode` (or several in `modes`): each person gets the first their role may make."""

    date_from: Day
    date_to: Day
    count: int = Field(ge=1, le=10_000)
    mode: PlanMode | None = None
    modes: list[PlanMode] = Field(None, max_length=len(PLAN_MODES))
    assignees: Literal["auto"] | list[Id] = Field("auto", max_length=1000,
                                                   description='user ids, or "auto": each school\'s own people')
    weighting: one_of(Weighting) = Weighting.RISK.value


class SchoolScore(Out):
    school_id: int
    score: float
    due: bool = Field(description="past the coverage guarantee (PLAN_COVERAGE_DAYS): drawn first")
    reasons: list[str]


class PlanTask(Out):
    id: int
    school_id: int | None = Field(description="null for the assignee before the morning of its day")
    assignee_id: int
    mode: one_of(VisitMode)
    window_start: str
    window_end: str
    status: one_of(TaskStatus)
    progress: one_of(TaskProgress)
    visit_id: str | None


class Plan(Out):
    id: int
    date_from: str
    date_to: str
    count: int
    modes: list[one_of(VisitMode)]
    weighting: one_of(Weighting)
    assignees: Literal["auto"] | list[int]
    seed: str = Field(description="with the stored scores, repeats the draw")
    progress: dict[str, int]
    tasks: list[PlanTask]
    scores: list[SchoolScore]
