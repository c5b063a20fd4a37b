"""Making a sealed plan: score the schools, settle who may go where, draw, and create the tasks
through services.create_task (the one rule for who may be sent where). Kept beside services so the
task rules stay in one small module that complaints and volunteers call too."""
from __future__ import annotations

import json
import random
import secrets
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _

from inspect_app.accounts.models import ASSIGNEE_ROLES, Role, User
from inspect_app.checklists.models import MODES_BY_ROLE, VisitMode
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.i18n import local_zone
from inspect_app.plans import risk
from inspect_app.plans.models import Plan, Task, TaskError, TaskProgress, TaskStatus, Weighting
from inspect_app.plans.services import create_task
from inspect_app.schools.models import School, child_school_ids, recusals_by_user, school_assignments
from inspect_app.schools.services import conflicting_schools
from inspect_app.tickets.models import Ticket, TicketStatus
from inspect_app.visits.models import Visit

PLAN_MODES = (VisitMode.OVERT, VisitMode.COVERT, VisitMode.FOLLOW_UP)


def planners_only() -> str:
    return _("Only leaders and administrators make visit plans.")


@dataclass
class PlanRequest:
    date_from: date | None
    date_to: date | None
    count: int | None
    modes: list[VisitMode]
    assignee_ids: list[int] | None  # None: "auto"
    weighting: Weighting


def _candidates(users: list[User], modes: list[VisitMode], auto: bool, first: datetime,
                last: datetime, barred: dict[int, set[int]] | None = None) -> list[risk.Candidate]:
    """Each person's mode (the first of the plan's their role may use) and the schools they may be
    sent to: their assigned schools for "auto", every school they may check otherwise; never a
    volunteer's child's school (schools.services.conflicting_schools), and no school they cannot see."""
    assigned: dict[int, set[int]] = {}
    for user_id, school_id in db.session.execute(sa.select(school_assignments.c.user_id,
                                                           school_assignments.c.school_id)):
        assigned.setdefault(user_id, set()).add(school_id)
    every = set(db.session.scalars(sa.select(School.id)))
    loads = dict(db.session.execute(
        sa.select(Task.assignee_id, sa.func.count()).where(
            Task.status == TaskStatus.OPEN, Task.window_start <= last, Task.window_end >= first)
        .group_by(Task.assignee_id)).all())
    recused = recusals_by_user()
    out = []
    for user in users:
        mode = next((m for m in modes if m in MODES_BY_ROLE[user.role]), None)
        if user.role is Role.VOLUNTEER and (VisitMode.COVERT in modes or auto):
            # Volunteers may go openly too, but only when the planner names them for an overt plan:
            # a plan allowing covert keeps them covert (the programme's default), and an automatic
            # overt plan is the inspectors' (sending parents in is a choice, never a side effect).
            mode = VisitMode.COVERT if VisitMode.COVERT in modes else None
        if mode is None:
            continue
        mine = assigned.get(user.id, set())
        # Inspectors may check any school (schools.access.can_view_school); volunteers only theirs.
        schools = mine if auto or user.role is Role.VOLUNTEER else every
        schools = schools - conflicting_schools(user.role, child_school_ids(user), schools)
        schools = schools - (barred or {}).get(user.id, set()) - recused.get(user.id, set())
        if schools:
            out.append(risk.Candidate(user.id, mode, frozenset(schools), loads.get(user.id, 0)))
    return out


def _check(sent: PlanRequest) -> None:
    cfg = current_app.config
    today = utcnow().astimezone(local_zone()).date()
    if sent.date_from is None or sent.date_to is None:
        raise TaskError(_("Give the first and the last day of the plan."), 422, "date_from")
    if sent.date_from < today or sent.date_to < sent.date_from:
        raise TaskError(_("The plan must start today or later, and end on or after its first day."), 422, "date_to")
    if (sent.date_to - sent.date_from).days >= cfg["PLAN_MAX_DAYS"]:
        raise TaskError(_("A plan covers at most %(n)s days.", n=cfg["PLAN_MAX_DAYS"]), 422, "date_to")
    if not sent.count or not 1 <= sent.count <= cfg["PLAN_MAX_TASKS"]:
        raise TaskError(_("Plan between 1 and %(n)s visits.", n=cfg["PLAN_MAX_TASKS"]), 422, "count")
    if not sent.modes or any(m not in PLAN_MODES for m in sent.modes):
        raise TaskError(_("Choose how the schools are checked."), 422, "modes")


def _people(sent: PlanRequest, planner: User) -> list[User]:
    query = sa.select(User).where(User.role.in_(ASSIGNEE_ROLES), User.active).order_by(User.id)
    if sent.assignee_ids is None:
        return list(db.session.scalars(query))
    wanted = set(sent.assignee_ids)
    people = list(db.session.scalars(query.where(User.id.in_(wanted)))) if wanted else []
    if not wanted or len(people) != len(wanted):
        raise TaskError(_("Choose from the listed inspectors and volunteers."), 422, "assignees")
    unable = [u for u in people if not any(m in MODES_BY_ROLE[u.role] for m in sent.modes)]
    if unable:
        raise TaskError(_("%(name)s cannot make this kind of check.", name=unable[0].name_for(planner)),
                        422, "assignees")
    return people


def create_plan(sent: PlanRequest, planner: User, seed: str | None = None,
                only_school_ids: set[int] | None = None, barred: dict[int, set[int]] | None = None,
                every_school: bool = False) -> Plan:
    """Score, draw and create the sealed tasks (the caller commits). Every figure the draw used is
    stored on the plan, so `redraw(plan)` gives the same tasks. `only_school_ids`: draw among these
    schools only; `barred`: schools each person may not be sent to (beyond the conflicts);
    `every_school`: "auto" may send an inspector to any school, not only their own."""
    _check(sent)
    people = _people(sent, planner)
    tz = local_zone()
    first = datetime.combine(sent.date_from, time.min, tzinfo=tz)
    last = datetime.combine(sent.date_to, time(23, 59, 59), tzinfo=tz)
    candidates = _candidates(people, sent.modes, sent.assignee_ids is None and not every_school, first, last,
                             barred)
    if not candidates:
        raise TaskError(_("Nobody among the chosen people can make these checks at any school."), 422, "assignees")
    scores = risk.school_scores()
    if only_school_ids is not None:
        scores = [entry for entry in scores if entry["school_id"] in only_school_ids]
    plan = Plan(date_from=sent.date_from, date_to=sent.date_to, count=sent.count, weighting=sent.weighting,
                modes_text=",".join(m.value for m in sent.modes), auto_assignees=sent.assignee_ids is None,
                assignee_ids_json=json.dumps(sorted(u.id for u in people) if sent.assignee_ids is not None else []),
                seed=seed or secrets.token_hex(8), scores_json=json.dumps(scores, ensure_ascii=False),
                candidates_json=json.dumps([_candidate_json(c) for c in candidates]), created_by_id=planner.id)
    db.session.add(plan)
    drawn = redraw(plan)
    users = {u.id: u for u in people}
    schools = {s.id: s for s in db.session.scalars(sa.select(School).where(
        School.id.in_({d.school_id for d in drawn.tasks})))}
    for entry in drawn.tasks:
        task = create_task(users[entry.user_id], schools[entry.school_id], entry.day, entry.day, planner,
                           mode=entry.mode)
        task.plan = plan
    return plan


def _candidate_json(candidate: risk.Candidate) -> dict:
    data = asdict(candidate)
    data["mode"], data["school_ids"] = candidate.mode.value, sorted(candidate.school_ids)
    return data


def redraw(plan: Plan) -> risk.Draw:
    """The draw again from what the plan stored: the same schools, people and days (for audit)."""
    days = [plan.date_from + timedelta(days=n) for n in range((plan.date_to - plan.date_from).days + 1)]
    candidates = [risk.Candidate(c["user_id"], VisitMode(c["mode"]), frozenset(c["school_ids"]), c["load"])
                  for c in plan.candidates]
    return risk.draw(plan.seed, plan.scores, plan.count, plan.weighting is Weighting.RISK, days, candidates)


def progress(plan: Plan, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    counts = {p.value: 0 for p in TaskProgress}
    for task in plan.tasks:
        counts[task.progress(now).value] += 1
    return counts


def recent_plans(limit: int = 20) -> list[Plan]:
    # Each plan's progress reads all its tasks: one query for all the plans' tasks, not one per plan.
    return list(db.session.scalars(sa.select(Plan).options(so.selectinload(Plan.tasks))
                                   .order_by(Plan.id.desc()).limit(limit)))


def plans_progress(now: datetime | None = None, limit: int = 10) -> list[dict]:
    """The dashboard's table: each recent plan's period and its tasks done, late, missed, pending."""
    now = now or utcnow()
    return [{"plan": plan, "progress": progress(plan, now), "total": len(plan.tasks)}
            for plan in recent_plans(limit)]


def _today() -> date:
    return utcnow().astimezone(local_zone()).date()


def _plan_people(plan: Plan) -> list[User]:
    query = sa.select(User).where(User.role.in_(ASSIGNEE_ROLES), User.active).order_by(User.id)
    if not plan.auto_assignees:
        query = query.where(User.id.in_(plan.assignee_ids))
    return list(db.session.scalars(query))


def redraw_missed(plan: Plan, planner: User, date_to: date | None, seed: str | None = None) -> list[Task]:
    """Send each missed task of the plan again, between today and `date_to`: to someone who may go
    now (the conflicts, recusals and load of a new draw), preferably not the one who missed it. The
    missed task is cancelled, not deleted (the audit chain keeps both); the new ones join the plan.
    Schools nobody may check now stay missed. The caller commits."""
    now, today = utcnow(), _today()
    missed = [task for task in plan.tasks if task.progress(now) is TaskProgress.MISSED]
    if not missed:
        raise TaskError(_("This plan has no missed task to redraw."), 422)
    if date_to is None or date_to < today:
        raise TaskError(_("The new visits must be due today or later."), 422, "date_to")
    if (date_to - today).days >= current_app.config["PLAN_MAX_DAYS"]:
        raise TaskError(_("A plan covers at most %(n)s days.", n=current_app.config["PLAN_MAX_DAYS"]), 422, "date_to")
    tz = local_zone()
    first, last = datetime.combine(today, time.min, tzinfo=tz), datetime.combine(date_to, time(23, 59, 59), tzinfo=tz)
    people = {u.id: u for u in _plan_people(plan)}
    candidates = _candidates(list(people.values()), plan.modes, plan.auto_assignees, first, last)
    load = {c.user_id: c.load for c in candidates}
    days = [today + timedelta(days=n) for n in range((date_to - today).days + 1)]
    rng = random.Random(int(seed or secrets.token_hex(8), 16))
    made = []
    for task in missed:
        eligible = [c for c in candidates if task.school_id in c.school_ids]
        others = [c for c in eligible if c.user_id != task.assignee_id]
        eligible = others or eligible
        if not eligible:
            continue
        rng.shuffle(eligible)
        chosen = min(eligible, key=lambda c: load[c.user_id])
        load[chosen.user_id] += 1
        day = rng.choice(days)
        task.status, task.cancelled_at = TaskStatus.CANCELLED, now
        new = create_task(people[chosen.user_id], task.school, day, day, planner, mode=chosen.mode)
        new.plan = plan
        made.append(new)
    return made


def responded_schools() -> dict[int, set[int]]:
    """Schools with tickets the school reported rectified (awaiting the re-check), each with the
    inspectors who found them: they may not close their own findings (independent verification)."""
    rows = db.session.execute(sa.select(Ticket.school_id, Visit.author_id).outerjoin(Visit, Visit.id == Ticket.visit_id)
                              .where(Ticket.status == TicketStatus.RESPONDED))
    found: dict[int, set[int]] = {}
    for school_id, author_id in rows:
        found.setdefault(school_id, set())
        if author_id is not None:
            found[school_id].add(author_id)
    return found


def draw_follow_ups(planner: User, date_from: date | None, date_to: date | None, seed: str | None = None) -> Plan:
    """Nanchang's "a follow-up on every first-round problem": a sealed plan of one follow-up visit
    (回头看) at every school with responded tickets, drawn among every inspector, never one who found
    that school's problems (they may not verify them). The caller commits."""
    schools = responded_schools()
    if not schools:
        raise TaskError(_("No school has reported a rectification that awaits a re-check."), 422)
    barred: dict[int, set[int]] = {}
    for school_id, finders in schools.items():
        for user_id in finders:
            barred.setdefault(user_id, set()).add(school_id)
    sent = PlanRequest(date_from, date_to, len(schools), [VisitMode.FOLLOW_UP], None, Weighting.RISK)
    return create_plan(sent, planner, seed, only_school_ids=set(schools), barred=barred, every_school=True)


def progress_as_of(moment: datetime) -> dict[str, int]:
    """Every plan's tasks as they stood at `moment` (the daily report's 16:00 cut-off): done, done
    late, missed (its window closed, not done), pending; a task made later does not exist yet, one
    cancelled later was not cancelled then. Counts only: the report names no planned school."""
    counts = {p.value: 0 for p in TaskProgress if p is not TaskProgress.CANCELLED}
    rows = db.session.execute(sa.select(Task.window_end, Task.done_at, Task.cancelled_at, Task.status).where(
        Task.plan_id.is_not(None), Task.created_at < moment))
    for window_end, done_at, cancelled_at, status in rows:
        if status is TaskStatus.CANCELLED and (cancelled_at is None or cancelled_at < moment):
            continue
        if done_at is not None and done_at < moment:
            counts[(TaskProgress.LATE if done_at > window_end else TaskProgress.DONE).value] += 1
        else:
            counts[(TaskProgress.MISSED if window_end < moment else TaskProgress.PENDING).value] += 1
    return counts
