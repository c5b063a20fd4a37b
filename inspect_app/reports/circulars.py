"""The day's circular (每日通报): a signed daily report sent to the leaders in full and to every
school as an excerpt of its own items, with read receipts for the bureau.

What each school sees is computed from the report's frozen content whenever it is read (present.py
`circular_excerpt`), so the circular can never say more or other than what was signed. A school
reads it; there is nothing to answer.
"""
from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from inspect_app.accounts.models import Role, User
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.reports.models import Circular, CircularRead, DailyReport, ReportError
from inspect_app.schools.models import School
from inspect_app.tickets.models import EventKind, Notification


def circular_for(day: date) -> Circular | None:
    return db.session.scalar(sa.select(Circular).join(DailyReport).where(DailyReport.day == day))


def _good_practice_school(entry: dict, by_name: dict[str, int]) -> int | None:
    """The school a good-practice note belongs to. Reports signed before the note carried its
    school's id name it only: matched by name among that report's visited schools, or not at all."""
    if "school_id" in entry:
        return entry["school_id"]
    return by_name.get(entry["school"])


def items_by_school(content: dict) -> dict[int, dict]:
    """Each school with items in the report: its problems and its good practice, by school id."""
    by_name = {s["school"]: s["school_id"] for s in content.get("visited", [])}
    schools: dict[int, dict] = {}
    for entry in content["problems_by_school"]:
        schools.setdefault(entry["school_id"], {"school": entry["school"], "problems": [], "good": []})
        schools[entry["school_id"]]["problems"] = entry["problems"]
    for entry in content["good_practice"]:
        school_id = _good_practice_school(entry, by_name)
        if school_id is not None:
            schools.setdefault(school_id, {"school": entry["school"], "problems": [], "good": []})
            schools[school_id]["good"].append(entry["note"])
    return schools


def circulate(day: date, leader: User, named_ids: list[int]) -> Circular:
    """Send the signed report of `day`: a notice to every leader and to every school's duty officers;
    `named_ids` are the schools whose own items are named (the caller commits)."""
    if leader.role is not Role.LEADER:
        raise ReportError(_("Only a bureau leader circulates the daily report."), 403)
    report = db.session.scalar(sa.select(DailyReport).where(DailyReport.day == day))
    if report is None:
        raise ReportError(_("Sign the report before circulating it."))
    if circular_for(day) is not None:
        raise ReportError(_("This report has already been circulated."))
    candidates = items_by_school(json.loads(report.content))
    if not set(named_ids) <= set(candidates):
        raise ReportError(_("Only schools with problems or good practice in this report can be named."), 422,
                          "school")
    circular = Circular(report=report, sent_by=leader, sent_at=utcnow())
    circular.named = list(db.session.scalars(sa.select(School).where(School.id.in_(named_ids)))) if named_ids else []
    db.session.add(circular)
    # One notice per person; a school's notice names its school and the report's day, which is
    # also what makes it unique (uq_notifications_day_notice), so it is never sent twice.
    readers = db.session.execute(sa.select(User.id, User.school_id).where(
        User.active.is_(True), User.role.in_([Role.LEADER, Role.DUTY_OFFICER]))).all()
    db.session.add_all(Notification(user_id=user_id, kind=EventKind.CIRCULAR, school_id=school_id, day=day)
                       for user_id, school_id in readers)
    return circular


def record_read(circular: Circular, reader: User) -> None:
    """The reader's receipt (the first opening counts) and their notice marked read (the caller commits)."""
    exists = db.session.scalar(sa.select(CircularRead.id).where(CircularRead.circular_id == circular.id,
                                                                CircularRead.user_id == reader.id))
    if exists is None:
        school_id = reader.school_id if reader.role is Role.DUTY_OFFICER else None
        db.session.add(CircularRead(circular=circular, user_id=reader.id, school_id=school_id, read_at=utcnow()))
    for note in db.session.scalars(sa.select(Notification).where(
            Notification.user_id == reader.id, Notification.kind == EventKind.CIRCULAR,
            Notification.day == circular.report.day, Notification.read_at.is_(None))):
        note.read_at = utcnow()


def receipts(circular: Circular) -> dict:
    """Read receipts for the bureau: each named school's first reader and time (or unread), and
    how many of all the schools told have read it."""
    first: dict[int, CircularRead] = {}
    for read in circular.reads:
        if read.school_id is not None and read.school_id not in first:
            first[read.school_id] = read
    told = db.session.scalar(sa.select(sa.func.count(sa.distinct(Notification.school_id))).where(
        Notification.kind == EventKind.CIRCULAR, Notification.day == circular.report.day,
        Notification.school_id.is_not(None))) or 0
    return {"named": [{"school": school, "read": first.get(school.id)} for school in circular.named],
            "schools_told": told, "schools_read": len(first),
            "leaders_read": [read for read in circular.reads if read.school_id is None]}
