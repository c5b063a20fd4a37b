"""Each school's risk score with its reasons, and the sealed plan's draw.

A score is the sum of factors; each factor is one grouped query over all schools returning, per
school, points and a reason (a kind and a number, worded when shown, so the stored plan reads in
either language). Domains below plans (tickets, visits, duties) have their factors here; a domain
above (complaints) registers its own with `register_factor`, so plans never imports it.

The draw is a pure function of the stored seed and the stored scores (`draw`): an auditor re-runs it
and gets the same schools, days and people."""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from inspect_app.checklists.models import VisitMode
from inspect_app.dbtypes import utcnow
from inspect_app.duties.models import SelfReport
from inspect_app.extensions import db
from inspect_app.i18n import local_zone
from inspect_app.schools.models import School
from inspect_app.tickets.models import Ticket, TicketStatus
from inspect_app.visits.models import Answer, Result, Visit, VisitStatus

# A factor: (now) -> {school_id: (points, reason kind, number)}.
Factor = Callable[[datetime], dict[int, tuple[float, str, int]]]
FACTORS: list[Factor] = []

SELF_REPORT_DAYS = 7  # the school days looked back on for missing or late daily reports
LAST_VISITS = 3  # the visits whose failure rate counts
NEVER = -1  # "days since the last visit" of a school never visited


def register_factor(factor: Factor) -> Factor:
    FACTORS.append(factor)
    return factor


def bureau_visits():
    """Checks by the bureau's people (not the school's own self-checks), submitted."""
    return sa.and_(Visit.status == VisitStatus.SUBMITTED, Visit.mode != VisitMode.SELF_CHECK)


@register_factor
def overdue_tickets(now: datetime) -> dict[int, tuple[float, str, int]]:
    rows = db.session.execute(sa.select(Ticket.school_id, sa.func.count()).where(Ticket.overdue_at(now))
                              .group_by(Ticket.school_id))
    return {school_id: (3.0 * n, "overdue", n) for school_id, n in rows}


@register_factor
def open_tickets(now: datetime) -> dict[int, tuple[float, str, int]]:
    rows = db.session.execute(sa.select(Ticket.school_id, sa.func.count()).where(
        Ticket.status.in_(TicketStatus.ACTIVE), sa.not_(Ticket.overdue_at(now))).group_by(Ticket.school_id))
    return {school_id: (1.0 * n, "open", n) for school_id, n in rows}


@register_factor
def missing_self_reports(now: datetime) -> dict[int, tuple[float, str, int]]:
    """Days of the last week (not today) without a daily report, or with one filed after its deadline."""
    today = now.astimezone(local_zone()).date()
    first = today - timedelta(days=SELF_REPORT_DAYS)
    filed = db.session.execute(
        sa.select(SelfReport.school_id, SelfReport.day, sa.func.min(SelfReport.filed_at),
                  sa.func.min(SelfReport.deadline))
        .where(SelfReport.day >= first, SelfReport.day < today).group_by(SelfReport.school_id, SelfReport.day)).all()
    on_time: dict[int, int] = {}
    late: dict[int, int] = {}
    for school_id, _day, filed_at, deadline in filed:
        bucket = late if filed_at > deadline else on_time
        bucket[school_id] = bucket.get(school_id, 0) + 1
    out = {}
    for (school_id,) in db.session.execute(sa.select(School.id)):
        missed = SELF_REPORT_DAYS - on_time.get(school_id, 0) - late.get(school_id, 0)
        # A late report half counts: it came, but after the bureau needed it.
        points = missed * 0.5 + late.get(school_id, 0) * 0.25
        if points:
            out[school_id] = (points, "reports", missed + late.get(school_id, 0))
    return out


@register_factor
def failure_rate(now: datetime) -> dict[int, tuple[float, str, int]]:
    """The share of failed answers in each school's last few bureau visits, as a percentage."""
    ranked = sa.select(Visit.id, Visit.school_id, sa.func.row_number().over(
        partition_by=Visit.school_id, order_by=Visit.server_submitted_at.desc()).label("n")).where(
        bureau_visits()).subquery()
    rows = db.session.execute(
        sa.select(ranked.c.school_id, sa.func.count(Answer.id),
                  sa.func.count(Answer.id).filter(Answer.result == Result.FAIL))
        .join(Answer, Answer.visit_id == ranked.c.id).where(ranked.c.n <= LAST_VISITS)
        .group_by(ranked.c.school_id))
    out = {}
    for school_id, answers, failed in rows:
        if answers and failed:
            percent = round(100 * failed / answers)
            out[school_id] = (percent / 10, "failure_rate", percent)
    return out


def last_visits() -> dict[int, datetime]:
    return dict(db.session.execute(sa.select(Visit.school_id, sa.func.max(Visit.server_submitted_at))
                                   .where(bureau_visits()).group_by(Visit.school_id)).all())


def reason_text(kind: str, n: int) -> str:
    """A reason in the reader's language: "3 张逾期整改单", "21 天未检查"."""
    words = {
        "overdue": lambda: _("overdue tickets: %(n)s", n=n),
        "open": lambda: _("open tickets: %(n)s", n=n),
        "complaints": lambda: _("recent complaints: %(n)s", n=n),
        "reports": lambda: _("daily reports missing or late: %(n)s", n=n),
        "failure_rate": lambda: _("%(n)s%% of items failed in the last visits", n=n),
        "unvisited": lambda: _("not checked for %(n)s days", n=n),
        "never": lambda: _("never checked"),
        "due": lambda: _("must be checked: over %(n)s days since the last check", n=n),
    }
    return words[kind]() if kind in words else kind


def school_scores(now: datetime | None = None) -> list[dict]:
    """Every school's score and reasons, highest first; `due`: past the coverage guarantee (全覆盖)."""
    now = now or utcnow()
    coverage = current_app.config["PLAN_COVERAGE_DAYS"]
    factors = [factor(now) for factor in FACTORS]
    last = last_visits()
    scores = []
    for school_id, in db.session.execute(sa.select(School.id).order_by(School.id)):
        score, reasons = 0.0, []
        for found in factors:
            if school_id in found:
                points, kind, n = found[school_id]
                score += points
                reasons.append({"kind": kind, "n": n})
        seen = last.get(school_id)
        days = (now - seen).days if seen else NEVER
        # Days unseen weigh in by the week, up to the coverage guarantee (then the school is due anyway).
        score += min(days if days != NEVER else coverage, coverage) / 7
        if days == NEVER or days >= 1:
            reasons.append({"kind": "never", "n": 0} if days == NEVER else {"kind": "unvisited", "n": days})
        due = days == NEVER or days >= coverage
        if due:
            reasons.append({"kind": "due", "n": coverage})
        scores.append({"school_id": school_id, "score": round(score, 2), "due": due, "reasons": reasons})
    scores.sort(key=lambda s: (-s["score"], s["school_id"]))
    return scores


@dataclass
class Candidate:
    """Who may be sent where, in which mode (the conflicts and modes are settled before the draw)."""
    user_id: int
    mode: VisitMode
    school_ids: frozenset[int]
    load: int = 0  # open tasks already held in the period


@dataclass
class Drawn:
    school_id: int
    user_id: int
    mode: VisitMode
    day: date


@dataclass
class Draw:
    tasks: list[Drawn] = field(default_factory=list)
    unstaffed: list[int] = field(default_factory=list)  # drawn schools nobody may check


def draw(seed: str, scores: list[dict], count: int, risk: bool, days: list[date],
         candidates: list[Candidate]) -> Draw:
    """`count` schools: those past the coverage guarantee first (most overdue first), then a weighted
    random sample without replacement (Efraimidis–Spirakis keys u^(1/w)); each school to the
    eligible person with the least load (ties broken by the same random stream) on a random day."""
    rng = random.Random(int(seed, 16))
    keyed = []
    for entry in sorted(scores, key=lambda s: s["school_id"]):
        weight = 1.0 + entry["score"] if risk else 1.0
        keyed.append((not entry["due"], -(rng.random() ** (1.0 / weight)), entry["school_id"]))
    keyed.sort()
    load = {c.user_id: c.load for c in candidates}
    per_day: dict[tuple[int, date], int] = {}
    result = Draw()
    chosen_schools = []
    for _due, _key, school_id in keyed:
        if len(chosen_schools) >= count:
            break
        eligible = [c for c in candidates if school_id in c.school_ids]
        if not eligible:
            result.unstaffed.append(school_id)
            continue
        chosen_schools.append((school_id, eligible))
    # The schools fewest people may go to are handed out first: taken last, a school only one person
    # may visit would go to them however many they already had (a child's school rules out the other).
    drawn_order = {school_id: n for n, (school_id, _) in enumerate(chosen_schools)}
    chosen_schools.sort(key=lambda pair: len(pair[1]))
    for school_id, eligible in chosen_schools:
        rng.shuffle(eligible)
        chosen = min(eligible, key=lambda c: load[c.user_id])
        load[chosen.user_id] += 1
        # The day: random among the person's least busy days of the period.
        fewest = min(per_day.get((chosen.user_id, d), 0) for d in days)
        day = rng.choice([d for d in days if per_day.get((chosen.user_id, d), 0) == fewest])
        per_day[(chosen.user_id, day)] = per_day.get((chosen.user_id, day), 0) + 1
        result.tasks.append(Drawn(school_id, chosen.user_id, chosen.mode, day))
    result.tasks.sort(key=lambda task: drawn_order[task.school_id])  # listed in the order drawn
    return result
