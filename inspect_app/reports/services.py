"""Assembling the daily report for the window ending 16:00 Asia/Shanghai, and signing it.

The window for day D is [D-1 16:00, D 16:00) local time: a visit received at 15:59:59 is in D's
report, one received at 16:00:00 in D+1's. A visit the phone submitted before a window opened but
that reached the server inside it (offline until then) is reported in this window, marked late.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from inspect_app.accounts.models import Role, User
from inspect_app.audit.services import format_anchor
from inspect_app.audit.services import head as audit_head
from inspect_app.checklists.models import VisitMode
from inspect_app.complaints.services import counts_between as complaint_counts
from inspect_app.complaints.services import untriaged_overdue_count
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.i18n import local_zone
from inspect_app.photos.models import Photo
from inspect_app.reports.models import DailyReport, ReportError
from inspect_app.schools.models import School
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
    """The report's content as plain data (JSON-ready); a few grouped queries, no per-row loads."""
    start, end = window(day)
    in_window = sa.and_(Visit.status == VisitStatus.SUBMITTED, Visit.server_submitted_at >= start,
                        Visit.server_submitted_at < end)
    by_mode = dict(db.session.execute(sa.select(Visit.mode, sa.func.count()).where(in_window)
                                      .group_by(Visit.mode)).all())
    late = db.session.scalar(sa.select(sa.func.count()).where(in_window, Visit.submitted_at < start))
    findings = db.session.execute(
        sa.select(Finding.id, Finding.description, Finding.severity, Finding.fixed_on_site, School.id,
                  School.name, School.district, Visit.submitted_at < start)
        .join(Visit, Finding.visit_id == Visit.id).join(School, School.id == Visit.school_id)
        .where(in_window).order_by(School.district, School.name, Finding.position)).all()
    thumbs: dict[str, list[str]] = {}
    if findings:
        ids = [f[0] for f in findings]
        for photo_id, finding_id in db.session.execute(
                sa.select(Photo.id, Photo.finding_id).where(Photo.finding_id.in_(ids)).order_by(Photo.created_at)):
            thumbs.setdefault(finding_id, []).append(photo_id)
    problems: dict[int, dict] = {}
    severity_counts: dict[str, int] = {}
    for fid, description, severity, fixed, school_id, name, district, was_late in findings:
        entry = problems.setdefault(school_id, {"school_id": school_id, "school": name, "district": district,
                                                "problems": []})
        entry["problems"].append({"description": description, "severity": severity.value, "fixed_on_site": fixed,
                                  "late": bool(was_late), "photos": thumbs.get(fid, [])[:3]})
        severity_counts[severity.value] = severity_counts.get(severity.value, 0) + 1

    closed_in_window = db.session.scalar(sa.select(sa.func.count()).select_from(TicketEvent).where(
        TicketEvent.kind == EventKind.CLOSED, TicketEvent.at >= start, TicketEvent.at < end))
    opened_in_window = db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(
        Ticket.opened_at >= start, Ticket.opened_at < end))
    open_total = db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)
                                   .where(Ticket.status.in_(TicketStatus.ACTIVE)))
    # Overdue as of the report's cut-off, not of whenever it is read.
    overdue = db.session.execute(
        sa.select(Ticket.id, School.name, sa.func.coalesce(Finding.description, Ticket.problem_text),
                  Ticket.deadline, Ticket.escalation_level)
        # Outer: a complaint handed to the school is a ticket without a finding.
        .join(School, School.id == Ticket.school_id).outerjoin(Finding, Finding.id == Ticket.finding_id)
        .where(Ticket.overdue_at(end))
        .order_by(Ticket.deadline).limit(200)).all()
    good = db.session.execute(
        sa.select(School.name, Answer.note).join(Visit, Answer.visit_id == Visit.id)
        .join(School, School.id == Visit.school_id)
        .where(in_window, Answer.result == Result.PASS, Answer.note != "").limit(50)).all()
    checked = sa.select(Visit.school_id).where(in_window, Visit.mode == VisitMode.SELF_CHECK)
    missing_self_checks = db.session.scalar(sa.select(sa.func.count()).select_from(School)
                                            .where(School.id.not_in(checked)))
    return {
        "day": day.isoformat(), "window": {"start": start.isoformat(), "end": end.isoformat()},
        "overview": {
            "visits": sum(by_mode.values()), "overt": by_mode.get(VisitMode.OVERT, 0),
            "covert": by_mode.get(VisitMode.COVERT, 0), "self_checks": by_mode.get(VisitMode.SELF_CHECK, 0),
            "late_visits": late, "findings": len(findings), "findings_by_severity": severity_counts,
            "schools_with_problems": len(problems), "missing_self_checks": missing_self_checks,
        },
        "problems_by_school": list(problems.values()),
        "rectification": {"opened": opened_in_window, "closed": closed_in_window, "open_total": open_total,
                          "overdue": len(overdue)},
        "overdue": [{"ticket_id": t, "school": s, "description": d, "deadline": dl.isoformat(), "escalation": e}
                    for t, s, d, dl, e in overdue],
        "good_practice": [{"school": s, "note": n} for s, n in good],
        "complaints": {**complaint_counts(start, end), "untriaged_overdue": untriaged_overdue_count(end)},
    }


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
    # The audit chain's head as it stands at signing, frozen into the report and printed on it: an
    # anchor outside the audit table (`flask audit verify --anchor`) that catches cut-off entries.
    content["audit_anchor"] = format_anchor(audit_head())
    content = canonical(content)
    report = DailyReport(day=day, content=content, content_hash=DailyReport.digest(content), signed_by=leader)
    db.session.add(report)
    return report


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
        .where(User.role.in_([Role.INSPECTOR, Role.LEADER, Role.VOLUNTEER]))
        .order_by(visits.c.visits.desc())).all()
    return {
        "day": today, "visits_today": sum(by_mode.values()), "by_mode": by_mode, "peer_days": peer_days,
        "categories": categories,
        "unvisited": unvisited, "days_unvisited": days_unvisited, "no_self_check": no_self_check,
        "tickets_by_district": by_district, "untriaged_complaints": untriaged_overdue_count(),
        "inspectors": [{"user": u, "visits": v, "findings_per_visit": round(f / v, 2) if v else 0,
                        "pass_rate": round(100 * p / a) if a else None} for u, v, f, a, p in people],
    }


def school_states(district: str | None, limit: int = 3000) -> list[dict]:
    """Each school with its state for the map: overdue, open tickets, days since the last visit."""
    now = utcnow()
    tickets = (sa.select(Ticket.school_id, sa.func.count().label("open"),
                         sa.func.count().filter(Ticket.overdue_at(now)).label("overdue"))
               .where(Ticket.status.in_(TicketStatus.ACTIVE)).group_by(Ticket.school_id).subquery())
    last = (sa.select(Visit.school_id, sa.func.max(Visit.server_submitted_at).label("last"))
            .where(Visit.status == VisitStatus.SUBMITTED, Visit.mode.in_([VisitMode.OVERT, VisitMode.COVERT]))
            .group_by(Visit.school_id).subquery())
    query = (sa.select(School.id, School.name, School.district, School.lat, School.lon,
                       sa.func.coalesce(tickets.c.open, 0), sa.func.coalesce(tickets.c.overdue, 0), last.c.last)
             .outerjoin(tickets, tickets.c.school_id == School.id).outerjoin(last, last.c.school_id == School.id)
             .order_by(School.district, School.name).limit(limit))
    if district:
        query = query.where(School.district == district)
    states = []
    for id_, name, district_, lat, lon, open_, overdue, visited in db.session.execute(query):
        days = (now - visited).days if visited else None
        state = ("overdue" if overdue else "open" if open_ else
                 "unvisited" if days is None or days >= 7 else "ok")
        states.append({"id": id_, "name": name, "district": district_, "lat": lat, "lon": lon, "open": open_,
                       "overdue": overdue, "days": days, "state": state})
    return states
