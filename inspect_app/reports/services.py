"""Assembling the daily report for the window ending 16:00 Asia/Shanghai, and signing it.

The window for day D is [D-1 16:00, D 16:00) local time: a visit received at 15:59:59 is in D's
report, one received at 16:00:00 in D+1's. A visit the phone submitted before a window opened but
that reached the server inside it (offline until then) is reported in this window, marked late.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import lazy_gettext as _l

from inspect_app.accounts.models import VISITOR_ROLES, Role, User
from inspect_app.audit.services import format_anchor
from inspect_app.audit.services import head as audit_head
from inspect_app.checklists.models import VisitMode
from inspect_app.complaints.services import counts_between as complaint_counts
from inspect_app.complaints.services import untriaged_overdue_count
from inspect_app.dbtypes import LabelledEnum, utcnow
from inspect_app.duties.services import report_section as self_report_section
from inspect_app.extensions import db
from inspect_app.i18n import local_zone
from inspect_app.photos.models import Photo
from inspect_app.plans.access import can_plan
from inspect_app.plans.planning import progress_as_of as plans_progress_as_of
from inspect_app.reports.models import DailyReport, ReportError
from inspect_app.schools.models import School
from inspect_app.tickets.handovers import unacknowledged_overdue
from inspect_app.tickets.models import EventKind, Ticket, TicketEvent, TicketStatus
from inspect_app.visits.models import Answer, Finding, Result, Visit, VisitStatus

CUTOFF = time(16, 0)


def window(day: date) -> tuple[datetime, datetime]:
    end = datetime.combine(day, CUTOFF, tzinfo=local_zone())
    return end - timedelta(days=1), end


def report_day(moment: datetime) -> date:
    """Which day's report a moment belongs to."""
    local = moment.astimezone(local_zone())
    return local.date() + timedelta(days=1) if local.time() >= CUTOFF else local.date()


def assemble(day: date) -> dict:
    """The report's content as plain data (JSON-ready), every figure as of the window's end (16:00),
    whenever it is read or signed: what happened after the cut-off belongs to the next report.

    One function per section, each a few grouped queries (no per-row loads); a new section is one
    more function and one more line here.
    """
    start, end = window(day)
    content = {"day": day.isoformat(), "window": {"start": start.isoformat(), "end": end.isoformat()}}
    content.update(visits_section(start, end))
    content.update(tickets_section(start, end))
    content.update(coverage_section(start, end))
    # The schools' own reports of the day (日报告/零报告): who filed, late, missing, fever jumps.
    content["self_reports"] = self_report_section(day)
    # Public complaints (举报投诉): received, triaged, resolved in the window; untriaged too long at its end.
    content["complaints"] = {**complaint_counts(start, end), "untriaged_overdue": untriaged_overdue_count(end)}
    # Sealed plans' progress (督查计划): counts only, and shown to planners only (for_viewer).
    content["plans"] = plans_progress_as_of(end)
    content["overview"].update(schools_visited=len(content["visited"]), due=len(content["due"]),
                               not_covered=content["not_covered"]["total"])
    return content


def for_viewer(content: dict, viewer: User) -> dict:
    """The report as this viewer may read it: a plan is the planners' (and its assignees'), so its
    progress is left out for anyone else in the bureau."""
    if not can_plan(viewer):
        content = {k: v for k, v in content.items() if k != "plans"}
    return content


def _in_window(start: datetime, end: datetime):
    return sa.and_(Visit.status == VisitStatus.SUBMITTED, Visit.server_submitted_at >= start,
                   Visit.server_submitted_at < end)


def visits_section(start: datetime, end: datetime) -> dict:
    """Visits received in the window (late ones marked), the schools visited, their problems with
    the photos that had reached us by the cut-off, and good practice noted on passed items."""
    in_window = _in_window(start, end)
    by_mode = dict(db.session.execute(sa.select(Visit.mode, sa.func.count()).where(in_window)
                                      .group_by(Visit.mode)).all())
    late = db.session.scalar(sa.select(sa.func.count()).where(in_window, Visit.submitted_at < start))
    visited = db.session.execute(
        sa.select(School.id, School.name, School.district, Visit.mode, sa.func.count())
        .join(Visit, Visit.school_id == School.id).where(in_window)
        .group_by(School.id, School.name, School.district, Visit.mode)
        .order_by(School.district, School.name)).all()
    schools: dict[int, dict] = {}
    for school_id, name, district, mode, count in visited:
        entry = schools.setdefault(school_id, {"school_id": school_id, "school": name, "district": district,
                                               "overt": 0, "covert": 0, "self_checks": 0})
        entry[{VisitMode.OVERT: "overt", VisitMode.COVERT: "covert"}.get(mode, "self_checks")] += count
    findings = db.session.execute(
        sa.select(Finding.id, Finding.description, Finding.severity, Finding.fixed_on_site, School.id,
                  School.name, School.district, Visit.submitted_at < start)
        .join(Visit, Finding.visit_id == Visit.id).join(School, School.id == Visit.school_id)
        .where(in_window).order_by(School.district, School.name, Finding.position)).all()
    thumbs: dict[str, list[str]] = {}
    if findings:
        ids = [f[0] for f in findings]
        # A photo that reached us after the cut-off is not in this report (as for every figure).
        for photo_id, finding_id in db.session.execute(
                sa.select(Photo.id, Photo.finding_id).where(Photo.finding_id.in_(ids), Photo.created_at < end)
                .order_by(Photo.created_at)):
            thumbs.setdefault(finding_id, []).append(photo_id)
    problems: dict[int, dict] = {}
    severity_counts: dict[str, int] = {}
    for fid, description, severity, fixed, school_id, name, district, was_late in findings:
        entry = problems.setdefault(school_id, {"school_id": school_id, "school": name, "district": district,
                                                "problems": []})
        entry["problems"].append({"description": description, "severity": severity.value, "fixed_on_site": fixed,
                                  "late": bool(was_late), "photos": thumbs.get(fid, [])[:3]})
        severity_counts[severity.value] = severity_counts.get(severity.value, 0) + 1
    good = db.session.execute(
        sa.select(School.id, School.name, Answer.note).join(Visit, Answer.visit_id == Visit.id)
        .join(School, School.id == Visit.school_id)
        .where(in_window, Answer.result == Result.PASS, Answer.note != "").limit(50)).all()
    checked = sa.select(Visit.school_id).where(in_window, Visit.mode == VisitMode.SELF_CHECK)
    missing_self_checks = db.session.scalar(sa.select(sa.func.count()).select_from(School)
                                            .where(School.created_at < end, School.id.not_in(checked)))
    return {
        "overview": {
            "visits": sum(by_mode.values()), "overt": by_mode.get(VisitMode.OVERT, 0),
            "covert": by_mode.get(VisitMode.COVERT, 0), "self_checks": by_mode.get(VisitMode.SELF_CHECK, 0),
            "remote": by_mode.get(VisitMode.REMOTE, 0),
            "late_visits": late, "findings": len(findings), "findings_by_severity": severity_counts,
            "schools_with_problems": len(problems), "missing_self_checks": missing_self_checks,
        },
        "visited": list(schools.values()),
        "problems_by_school": list(problems.values()),
        # The school's id lets the circular hand each school its own praise (reports/circulars.py).
        "good_practice": [{"school_id": i, "school": s, "note": n} for i, s, n in good],
    }


# What each step of a ticket's written record leaves it as: the state at a past moment is the one
# its last such step before that moment left.
STATE_AFTER = {EventKind.OPENED: TicketStatus.OPEN, EventKind.RESPONDED: TicketStatus.RESPONDED,
               EventKind.CLOSED: TicketStatus.CLOSED, EventKind.REOPENED: TicketStatus.REOPENED}
ESCALATIONS = (EventKind.REMINDER, EventKind.HEAD_NOTIFIED, EventKind.BUREAU_NOTICE)


def tickets_as_of(moment: datetime):
    """Tickets as they stood at `moment`: an entity (an alias of Ticket) whose `status` is the state
    then, so the one overdue rule (`Ticket.overdue_at`) and the status groups apply unchanged.

    Only tickets opened before the moment are in it. A ticket with no step since keeps its status;
    for the few changed since, the state is read from its last step before the moment. A deadline
    is the ticket's own: a send-back keeps its new deadline on the ticket only, so a ticket sent back
    after the moment straight from 待整改 counts with its new deadline (never overdue then).
    """
    event = so.aliased(TicketEvent)
    changed = (sa.select(TicketEvent.ticket_id).where(TicketEvent.kind.in_(list(STATE_AFTER)),
                                                     TicketEvent.at >= moment).distinct().subquery())
    last_kind = (sa.select(event.kind).where(event.ticket_id == Ticket.id, event.kind.in_(list(STATE_AFTER)),
                                             event.at < moment)
                 .order_by(event.at.desc(), event.id.desc()).limit(1).scalar_subquery())
    then = sa.case(*[(last_kind == kind, sa.literal(status, Ticket.status.type))
                     for kind, status in STATE_AFTER.items()], else_=sa.literal(TicketStatus.OPEN, Ticket.status.type))
    status = sa.case((changed.c.ticket_id.is_(None), Ticket.status), else_=then)
    rows = (sa.select(Ticket.id, Ticket.finding_id, Ticket.visit_id, Ticket.problem_text, Ticket.school_id,
                      Ticket.severity,
                      Ticket.deadline, Ticket.opened_at, Ticket.escalation_level, Ticket.version,
                      sa.type_coerce(status, Ticket.status.type).label("status"),
                      sa.case((Ticket.closed_at < moment, Ticket.closed_at)).label("closed_at"))
            .outerjoin(changed, changed.c.ticket_id == Ticket.id)
            .where(Ticket.opened_at < moment, sa.or_(Ticket.closed_at.is_(None), Ticket.closed_at >= moment))
            .subquery("tickets_then"))
    return so.aliased(Ticket, rows, adapt_on_names=True)


def _escalation_then(ticket_ids: list[int], moment: datetime) -> dict[int, int]:
    """How far up the ladder each ticket stood at `moment` (steps since its last send-back)."""
    if not ticket_ids:
        return {}
    steps = db.session.execute(
        sa.select(TicketEvent.ticket_id, TicketEvent.kind).where(
            TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.at < moment,
            TicketEvent.kind.in_([*ESCALATIONS, EventKind.REOPENED]))
        .order_by(TicketEvent.at, TicketEvent.id)).all()
    levels = dict.fromkeys(ticket_ids, 0)
    for ticket_id, kind in steps:
        levels[ticket_id] = 0 if kind is EventKind.REOPENED else levels[ticket_id] + 1
    return levels


def tickets_section(start: datetime, end: datetime) -> dict:
    """Tickets opened and closed in the window, open at its end, overdue at its end, and due before
    the next cut-off: all as they stood at 16:00, whatever happened to them since."""
    then = tickets_as_of(end)
    closed_in_window = db.session.scalar(sa.select(sa.func.count()).select_from(TicketEvent).where(
        TicketEvent.kind == EventKind.CLOSED, TicketEvent.at >= start, TicketEvent.at < end))
    opened_in_window = db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(
        Ticket.opened_at >= start, Ticket.opened_at < end))
    open_total = db.session.scalar(sa.select(sa.func.count()).select_from(then)
                                   .where(then.status.in_(TicketStatus.ACTIVE)))

    def listed(condition, limit=200):
        # Outer: a complaint handed to the school is a ticket without a finding, in the bureau's words.
        query = (sa.select(then.id, School.name, sa.func.coalesce(Finding.description, then.problem_text), then.deadline)
                 .join(School, School.id == then.school_id).outerjoin(Finding, Finding.id == then.finding_id)
                 .where(condition).order_by(then.deadline, then.id))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(then).where(condition))
        return total, db.session.execute(query.limit(limit)).all()

    overdue_total, overdue = listed(then.overdue_at(end))
    # Due: the school still owes the work and the deadline falls before the next report's cut-off.
    due_total, due = listed(sa.and_(then.status.in_(TicketStatus.AWAITING_SCHOOL), then.deadline >= end,
                                    then.deadline < end + timedelta(days=1)))
    levels = _escalation_then([row[0] for row in overdue], end)
    return {
        "rectification": {"opened": opened_in_window, "closed": closed_in_window, "open_total": open_total,
                          "overdue": overdue_total, "due": due_total},
        "overdue": [{"ticket_id": t, "school": s, "description": d, "deadline": dl.isoformat(),
                     "escalation": levels[t]} for t, s, d, dl in overdue],
        "due": [{"ticket_id": t, "school": s, "description": d, "deadline": dl.isoformat()} for t, s, d, dl in due],
    }


# A school counts as not covered when no inspector or volunteer has checked it for this many days
# up to the cut-off (the dashboard's "not visited" list uses the same number).
UNCOVERED_DAYS = 7


def coverage_section(start: datetime, end: datetime, days: int = UNCOVERED_DAYS, limit: int = 200) -> dict:
    """Schools registered by the cut-off that no on-site or covert check reached in the `days` before it."""
    covered = sa.select(Visit.school_id).where(
        Visit.status == VisitStatus.SUBMITTED, Visit.mode.in_([VisitMode.OVERT, VisitMode.COVERT]),
        Visit.server_submitted_at >= end - timedelta(days=days), Visit.server_submitted_at < end)
    condition = sa.and_(School.created_at < end, School.id.not_in(covered))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(School).where(condition))
    rows = db.session.execute(sa.select(School.id, School.name, School.district).where(condition)
                              .order_by(School.district, School.name).limit(limit)).all()
    return {"not_covered": {"days": days, "total": total,
                            "schools": [{"school_id": i, "school": n, "district": d} for i, n, d in rows]}}


def canonical(content: dict) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def current(day: date) -> tuple[dict, DailyReport | None]:
    """The signed version if there is one (frozen), else the live assembly."""
    signed = db.session.scalar(sa.select(DailyReport).where(DailyReport.day == day))
    if signed is not None:
        return json.loads(signed.content), signed
    return assemble(day), None


def sign(day: date, leader: User) -> DailyReport:
    """Freeze the report as it stands; it never changes afterwards (the caller commits)."""
    from flask_babel import gettext as _
    if leader.role is not Role.LEADER:
        raise ReportError(_("Only a bureau leader signs the daily report."), 403)
    if db.session.scalar(sa.select(DailyReport.id).where(DailyReport.day == day)):
        raise ReportError(_("This report is already signed and cannot change."))
    if utcnow() < window(day)[1]:
        raise ReportError(_("The report can be signed after its 16:00 cut-off."))
    content = assemble(day)
    content.update(letterhead(day))
    # The audit chain's head as it stands at signing, frozen into the report and printed on it: an
    # anchor outside the audit table (`flask audit verify --anchor`) that catches cut-off entries.
    content["audit_anchor"] = format_anchor(audit_head())
    content = canonical(content)
    report = DailyReport(day=day, content=content, content_hash=DailyReport.digest(content), signed_by=leader)
    db.session.add(report)
    return report


def letterhead(day: date) -> dict:
    """What the document is issued as, fixed at signing: the bureau's name as configured then and
    the report's number, the count of reports signed for that year so far (〔2026〕第12期)."""
    first = date(day.year, 1, 1)
    signed = db.session.scalar(sa.select(sa.func.count()).select_from(DailyReport)
                               .where(DailyReport.day >= first, DailyReport.day < date(day.year + 1, 1, 1)))
    return {"bureau": current_app.config["BUREAU_NAME"], "number": f"{day.year}-{signed + 1}"}


class ReportStatus(LabelledEnum):
    DRAFT = "draft", _l("Draft")
    SIGNED = "signed", _l("Signed")
    SIGNED_LATE = "signed_late", _l("Signed late")
    LATE = "late", _l("Not signed, late")


# A day's report is due for signing by the next day's cut-off (the Jiangyin circular goes out daily).
SIGN_WITHIN = timedelta(days=1)


def status(day: date, signed: DailyReport | None, now: datetime) -> ReportStatus:
    due = window(day)[1] + SIGN_WITHIN
    if signed is not None:
        return ReportStatus.SIGNED_LATE if signed.signed_at > due else ReportStatus.SIGNED
    return ReportStatus.LATE if now > due else ReportStatus.DRAFT


def history(until: date, days: int = 31) -> list[dict]:
    """The `days` reports up to `until`, newest first, each with its status and signature (one query)."""
    since = until - timedelta(days=days - 1)
    signed = {r.day: r for r in db.session.scalars(
        sa.select(DailyReport).options(so.joinedload(DailyReport.signed_by))
        .where(DailyReport.day >= since, DailyReport.day <= until))}
    now = utcnow()
    return [{"day": d, "signed": signed.get(d), "status": status(d, signed.get(d), now)}
            for d in (until - timedelta(days=n) for n in range(days))]


def dashboard(days_unvisited: int = 7, peer_days: int = 30) -> dict:
    """Today's figures for the bureau, each backed by a list."""
    today = report_day(utcnow())
    start, end = window(today)
    in_window = sa.and_(Visit.status == VisitStatus.SUBMITTED, Visit.server_submitted_at >= start,
                        Visit.server_submitted_at < end)
    by_mode = dict(db.session.execute(sa.select(Visit.mode, sa.func.count()).where(in_window)
                                      .group_by(Visit.mode)).all())
    # Today's findings by category (the checklist section) and severity.
    from inspect_app.checklists.models import ChecklistItem
    section = sa.func.coalesce(ChecklistItem.section_zh, "")
    by_category = db.session.execute(
        sa.select(section, Finding.severity, sa.func.count())
        .join(Visit, Visit.id == Finding.visit_id)
        .outerjoin(ChecklistItem, sa.and_(ChecklistItem.version_id == Visit.version_id,
                                          ChecklistItem.code == Finding.item_code))
        .where(in_window).group_by(section, Finding.severity).order_by(section)).all()
    categories: dict[str, dict[str, int]] = {}
    for name, severity, count in by_category:
        categories.setdefault(name, {})[severity.value] = count
    since = utcnow() - timedelta(days=days_unvisited)
    visited = sa.select(Visit.school_id).where(Visit.status == VisitStatus.SUBMITTED,
                                                Visit.mode.in_([VisitMode.OVERT, VisitMode.COVERT]),
                                                Visit.server_submitted_at >= since)
    unvisited = db.session.execute(sa.select(School.id, School.name, School.district)
                                   .where(School.id.not_in(visited)).order_by(School.district, School.name)
                                   .limit(200)).all()
    self_checked = sa.select(Visit.school_id).where(in_window, Visit.mode == VisitMode.SELF_CHECK)
    no_self_check = db.session.execute(sa.select(School.id, School.name).where(School.id.not_in(self_checked))
                                       .order_by(School.name).limit(200)).all()
    by_district = db.session.execute(
        sa.select(School.district, sa.func.count(), sa.func.count().filter(Ticket.overdue))
        .join(School, School.id == Ticket.school_id).where(Ticket.status.in_(TicketStatus.ACTIVE))
        .group_by(School.district).order_by(School.district)).all()
    # Per inspector over the last month: visits, findings per visit, pass rate — beside their
    # peers' (一案双查). A month keeps it current, and bounded at a province's scale.
    recent = sa.and_(Visit.status == VisitStatus.SUBMITTED,
                     Visit.server_submitted_at >= utcnow() - timedelta(days=peer_days),
                     Visit.mode != VisitMode.SELF_CHECK)
    answers = (sa.select(Visit.author_id, sa.func.count(Answer.id).label("answers"),
                         sa.func.count(Answer.id).filter(Answer.result == Result.PASS).label("passed"))
               .join(Answer, Answer.visit_id == Visit.id).where(recent)
               .group_by(Visit.author_id).subquery())
    visits = (sa.select(Visit.author_id, sa.func.count().label("visits")).where(recent)
              .group_by(Visit.author_id).subquery())
    found = (sa.select(Visit.author_id, sa.func.count().label("findings"))
             .join(Finding, Finding.visit_id == Visit.id).where(recent)
             .group_by(Visit.author_id).subquery())
    people = db.session.execute(
        sa.select(User, visits.c.visits, sa.func.coalesce(found.c.findings, 0), answers.c.answers, answers.c.passed)
        .join(visits, visits.c.author_id == User.id).outerjoin(found, found.c.author_id == User.id)
        .outerjoin(answers, answers.c.author_id == User.id)
        .where(User.role.in_(VISITOR_ROLES))
        .order_by(visits.c.visits.desc())).all()
    return {
        "day": today, "visits_today": sum(by_mode.values()), "by_mode": by_mode, "peer_days": peer_days,
        "categories": categories,
        "unvisited": unvisited, "days_unvisited": days_unvisited, "no_self_check": no_self_check,
        "tickets_by_district": by_district, "untriaged_complaints": untriaged_overdue_count(),
        # Hand-over sheets the school has not signed for within a working day: chased like overdue work.
        "unsigned_hand_overs": unacknowledged_overdue(utcnow(), limit=50),
        "inspectors": [{"user": u, "visits": v, "findings_per_visit": round(f / v, 2) if v else 0,
                        "pass_rate": round(100 * p / a) if a else None} for u, v, f, a, p in people],
    }


# What the map colours a school by, most pressing first. A school visited today shows as such even
# with open tickets (today's visit usually opened them, and a leader reads the map for coverage);
# overdue work outranks everything, it is what a leader acts on.
MAP_STATES = ("overdue", "today", "open", "unvisited", "ok")


def school_states(district: str | None = None, days_unvisited: int = 7) -> list[dict]:
    """Each school with its state for the map, in two grouped queries (tickets, last visit) joined
    onto the schools, so 20,000 schools cost the same few statements as twenty.

    State: "overdue" (a ticket whose deadline passed while the school owes the work), "today" (an
    overt or covert visit received since midnight, local time), "open" (active tickets), "unvisited"
    (no such visit for ``days_unvisited`` days, or never), else "ok". Self-checks are the school's
    own and do not count as a visit.
    """
    now = utcnow()
    midnight = datetime.combine(now.astimezone(local_zone()).date(), time(0), tzinfo=local_zone())
    tickets = (sa.select(Ticket.school_id, sa.func.count().label("open"),
                         sa.func.count().filter(Ticket.overdue_at(now)).label("overdue"))
               .where(Ticket.status.in_(TicketStatus.ACTIVE)).group_by(Ticket.school_id).subquery())
    last = (sa.select(Visit.school_id, sa.func.max(Visit.server_submitted_at).label("last"))
            .where(Visit.status == VisitStatus.SUBMITTED, Visit.mode.in_([VisitMode.OVERT, VisitMode.COVERT]))
            .group_by(Visit.school_id).subquery())
    query = (sa.select(School.id, School.name, School.district, School.lat, School.lon,
                       sa.func.coalesce(tickets.c.open, 0), sa.func.coalesce(tickets.c.overdue, 0), last.c.last)
             .outerjoin(tickets, tickets.c.school_id == School.id).outerjoin(last, last.c.school_id == School.id)
             .order_by(School.district, School.name))
    if district:
        query = query.where(School.district == district)
    states = []
    # Core rather than the ORM's result machinery: no entities here, and at 20,000 rows the ORM's
    # row handling alone took longer than the database.
    for id_, name, district_, lat, lon, open_, overdue, visited in db.session.connection().execute(query).all():
        days = (now - visited).days if visited else None
        state = ("overdue" if overdue else "today" if visited and visited >= midnight else "open" if open_ else
                 "unvisited" if days is None or days >= days_unvisited else "ok")
        states.append({"id": id_, "name": name, "district": district_, "lat": lat, "lon": lon, "open": open_,
                       "overdue": overdue, "days": days, "state": state})
    return states
