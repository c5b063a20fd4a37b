"""Filing the daily report, the bureau's day view with its early warning, and the reminders.

The key of a report is the school's day (Asia/Shanghai). Filing is idempotent: a body equal to the
day's latest version stores nothing (a phone's retry), a filing id (client_id) already used answers
as a replay, and anything else is a new version (a correction). Late is decided against the deadline
of that day, stored with each version; the school's status for the day is its first version's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from inspect_app.accounts.models import Role, User
from inspect_app.dbtypes import utcnow
from inspect_app.duties import bp
from inspect_app.duties.access import filing_refused
from inspect_app.duties.models import COUNT_LABELS, COUNT_MAX, COUNTS, DutyError, SelfReport
from inspect_app.extensions import db
from inspect_app.i18n import local_zone
from inspect_app.idempotency import body_hash
from inspect_app.parsing import in_url, parse_day
from inspect_app.schools.models import School, school_assignments

HISTORY_DAYS = 7  # the jump is measured against the school's own reports of this many days before


def parse_deadline(text: str) -> time:
    """"HH:MM" (24 h) where the bureau is."""
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        raise RuntimeError(f"SELF_REPORT_DEADLINE must be HH:MM (24 h), not {text!r}") from None


@bp.record_once
def _check_deadline(state) -> None:
    """A misspelt SELF_REPORT_DEADLINE stops the app at start, not every filing after it."""
    parse_deadline(state.app.config.get("SELF_REPORT_DEADLINE"))


def deadline(day: date) -> datetime:
    """When the report for `day` is due, as a UTC moment."""
    due = parse_deadline(current_app.config["SELF_REPORT_DEADLINE"])
    return datetime.combine(day, due, tzinfo=local_zone()).astimezone(timezone.utc)


def today(now: datetime | None = None) -> date:
    """The school's day now, where the bureau is."""
    return (now or utcnow()).astimezone(local_zone()).date()


def day_or_today(value: str | None, status: int) -> date:
    """A day named in the address (YYYY-MM-DD), today when none is; malformed, refused with `status`."""
    return in_url(parse_day, value, status) or today()


@dataclass
class ReportFields:
    """What a school reports. `zero`: nothing to report (零报告), every number 0."""

    zero: bool = False
    absent: int = 0
    absent_illness: int = 0
    fever: int = 0
    isolated: int = 0
    staff_absent: int = 0
    note: str = ""
    counts: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.counts = {name: getattr(self, name) for name in COUNTS}


def check_fields(fields: ReportFields) -> None:
    """The rules of the numbers, for the pages and the API alike (the API's schema checks the types).

    A student with fever is counted whether absent or found at the morning check in school (晨午检),
    so fever is not bounded by the illness absences; isolated counts contacts without fever too. The
    one ordering the documents give is that absences for illness are among the absences."""
    for name, value in fields.counts.items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise DutyError(_("%(name)s must be a whole number.", name=COUNT_LABELS[name]), field=name)
        if value < 0:
            raise DutyError(_("%(name)s cannot be negative.", name=COUNT_LABELS[name]), field=name)
        if value > COUNT_MAX:
            raise DutyError(_("%(name)s is more than %(max)s: please check the number.",
                              name=COUNT_LABELS[name], max=COUNT_MAX), field=name)
    if fields.absent_illness > fields.absent:
        raise DutyError(_("Absences for illness (%(ill)s) cannot be more than all absences (%(all)s).",
                          ill=fields.absent_illness, all=fields.absent), field="absent_illness")
    if fields.zero and any(fields.counts.values()):
        raise DutyError(_("A zero report has no numbers: clear them, or file the numbers instead."), field="zero")
    limit = current_app.config["NOTE_MAX_CHARS"]
    if len(fields.note) > limit:
        raise DutyError(_("The note is too long: at most %(limit)s characters (you sent %(n)s).",
                          limit=limit, n=len(fields.note)), field="note")


def check_day(day: date, now: datetime | None = None) -> None:
    """A school files for today or a day it missed; not for a day that has not come."""
    current = today(now)
    if day > current:
        raise DutyError(_("%(day)s has not come yet: file the report on the day.", day=day.isoformat()),
                        field="day")
    back = current_app.config["SELF_REPORT_MAX_DAYS_BACK"]
    if day < current - timedelta(days=back):
        raise DutyError(_("Reports can be filed at most %(n)s days late.", n=back), field="day")


def latest(school_id: int, day: date) -> SelfReport | None:
    return db.session.scalar(sa.select(SelfReport).where(SelfReport.school_id == school_id, SelfReport.day == day)
                             .order_by(SelfReport.version.desc()).limit(1))


def versions(school_id: int, day: date) -> list[SelfReport]:
    """Every version of a school's report for a day, newest first."""
    return list(db.session.scalars(sa.select(SelfReport).where(SelfReport.school_id == school_id,
                                                               SelfReport.day == day)
                                   .order_by(SelfReport.version.desc())))


def file_report(officer: User, day: date, fields: ReportFields, client_id: str | None = None,
                now: datetime | None = None) -> tuple[SelfReport, bool]:
    """File (or correct) the school's report for `day`: (the version that stands, whether it is new).
    The caller commits inside idempotency.first_writer_wins, which turns a lost race into a replay."""
    if refusal := filing_refused(officer):
        raise refusal
    now = now or utcnow()
    check_day(day, now)
    fields.note = (fields.note or "").strip()
    check_fields(fields)
    digest = body_hash({"day": day.isoformat(), "zero": fields.zero, **fields.counts, "note": fields.note})
    if client_id is not None:
        used = db.session.scalar(sa.select(SelfReport).where(SelfReport.school_id == officer.school_id,
                                                             SelfReport.client_id == client_id))
        if used is not None:
            if used.body_hash != digest:
                raise DutyError(_("This filing id was already used for a different report."), 409)
            return used, False
    current = latest(officer.school_id, day)
    if current is not None and current.body_hash == digest:
        return current, False  # the same report again (a retry, a second tap): nothing changes
    report = SelfReport(school_id=officer.school_id, day=day, version=(current.version + 1) if current else 1,
                        zero=fields.zero, note=fields.note, filed_by=officer, filed_at=now, deadline=deadline(day),
                        client_id=client_id, body_hash=digest, **fields.counts)
    db.session.add(report)
    db.session.flush()  # the version's unique key meets a concurrent filing here, inside the retry
    return report, True


# The bureau's day

def _current_versions(first: date, last: date) -> sa.Subquery:
    """Each school's latest version and first filing time for each day in [first, last]."""
    return (sa.select(SelfReport.school_id, SelfReport.day, sa.func.max(SelfReport.version).label("version"),
                      sa.func.min(SelfReport.filed_at).label("first_at"))
            .where(SelfReport.day >= first, SelfReport.day <= last)
            .group_by(SelfReport.school_id, SelfReport.day).subquery())


def fever_averages(day: date) -> dict[int, float]:
    """Each school's average fever count over its reports of the HISTORY_DAYS days before `day`.
    A day without a report is left out rather than read as 0, so a school that skipped days is
    measured against what it did report."""
    first, last = day - timedelta(days=HISTORY_DAYS), day - timedelta(days=1)
    cur = _current_versions(first, last)
    rows = db.session.execute(
        sa.select(SelfReport.school_id, sa.func.avg(SelfReport.fever))
        .join(cur, sa.and_(cur.c.school_id == SelfReport.school_id, cur.c.day == SelfReport.day,
                           cur.c.version == SelfReport.version))
        .group_by(SelfReport.school_id)).all()
    return {school_id: float(avg) for school_id, avg in rows}


def is_jump(fever: int, average: float | None, threshold: int) -> bool:
    """Fever at least `threshold` above the school's own recent average (0 without history)."""
    return fever > 0 and fever - (average or 0.0) >= threshold


STATES = ("on_time", "late", "pending", "missing")


def day_view(day: date, district: str | None = None, now: datetime | None = None) -> dict:
    """Every school's state for `day` (on time, late, not yet due, missing), its latest numbers, the
    jump warning, and totals by district; grouped queries only."""
    now = now or utcnow()
    due = deadline(day)
    threshold = current_app.config["SELF_REPORT_FEVER_JUMP"]
    cur = _current_versions(day, day)
    query = (sa.select(School.id, School.name, School.district, SelfReport, cur.c.first_at)
             .outerjoin(cur, cur.c.school_id == School.id)
             .outerjoin(SelfReport, sa.and_(SelfReport.school_id == cur.c.school_id, SelfReport.day == cur.c.day,
                                            SelfReport.version == cur.c.version))
             .order_by(School.district, School.name))
    if district:
        query = query.where(School.district == district)
    averages = fever_averages(day)
    schools, districts = [], {}
    for school_id, name, district_, report, first_at in db.session.execute(query):
        if report is None:
            state = "missing" if now >= due else "pending"
        else:
            state = "late" if first_at > due else "on_time"
        average = averages.get(school_id)
        row = {"school_id": school_id, "school": name, "district": district_, "state": state, "report": report,
               "first_at": first_at, "average": round(average, 1) if average is not None else None,
               "jump": report is not None and is_jump(report.fever, average, threshold)}
        schools.append(row)
        totals = districts.setdefault(district_, {"district": district_, "schools": 0, "reported": 0, "late": 0,
                                                  "missing": 0, "jumps": 0, **{name: 0 for name in COUNTS}})
        totals["schools"] += 1
        totals["reported"] += report is not None
        totals["late"] += state == "late"
        totals["missing"] += state in ("missing", "pending")
        totals["jumps"] += row["jump"]
        for count in COUNTS:
            totals[count] += getattr(report, count) if report is not None else 0
    overall = {key: sum(d[key] for d in districts.values())
               for key in ("schools", "reported", "late", "missing", "jumps", *COUNTS)}
    return {"day": day, "deadline": due, "due_passed": now >= due, "threshold": threshold, "schools": schools,
            "districts": list(districts.values()), "totals": overall,
            "by_state": {state: [s for s in schools if s["state"] == state] for state in STATES},
            "jumps": [s for s in schools if s["jump"]]}


def report_section(day: date) -> dict:
    """The daily report's small section on the schools' reports of `day` (reports/services.assemble)."""
    view = day_view(day, now=utcnow())
    totals = view["totals"]
    return {"reported": totals["reported"], "late": totals["late"], "missing": totals["missing"],
            "fever": totals["fever"], "isolated": totals["isolated"], "absent_illness": totals["absent_illness"],
            "jumps": [{"school": s["school"], "district": s["district"], "fever": s["report"].fever,
                       "average": s["average"]} for s in view["jumps"]][:50]}


# Reminders (flask duties remind; the worker runs it every 5 minutes)

def _without_report(day: date) -> sa.Select:
    filed = sa.select(SelfReport.school_id).where(SelfReport.day == day)
    return sa.select(School.id).where(School.id.not_in(filed))


def remind(now: datetime | None = None) -> int:
    """Before the deadline, a school without a report gets a notice (its duty officers); from the
    deadline on, its responsible inspectors do. Each notice once per person and day (a unique key
    on the inbox), so running this every few minutes, or twice at once, sends nothing twice."""
    from inspect_app.tickets.models import EventKind
    now = now or utcnow()
    day = today(now)
    due = deadline(day)
    before = timedelta(minutes=current_app.config["SELF_REPORT_REMIND_BEFORE_MIN"])
    if now < due - before:
        return 0
    if now < due:
        kind = EventKind.REPORT_DUE
        people = sa.select(User.id, User.school_id).where(User.role == Role.DUTY_OFFICER, User.active,
                                                          User.school_id.in_(_without_report(day)))
    else:
        kind = EventKind.REPORT_MISSING
        people = (sa.select(User.id, school_assignments.c.school_id)
                  .join(school_assignments, school_assignments.c.user_id == User.id)
                  .where(User.role == Role.INSPECTOR, User.active,
                         school_assignments.c.school_id.in_(_without_report(day))))
    return _notify_once(kind, day, db.session.execute(people).all())


def _notify_once(kind, day: date, pairs: list[tuple[int, int]]) -> int:
    from inspect_app.tickets.models import Notification
    if not pairs:
        return 0
    sent = set(db.session.execute(sa.select(Notification.user_id, Notification.school_id).where(
        Notification.kind == kind, Notification.day == day)).all())
    fresh = [(user_id, school_id) for user_id, school_id in pairs if (user_id, school_id) not in sent]
    for user_id, school_id in fresh:
        db.session.add(Notification(user_id=user_id, kind=kind, school_id=school_id, day=day, created_at=utcnow()))
    return len(fresh)


def filed_today(school_id: int) -> bool:
    return db.session.scalar(sa.select(SelfReport.id).where(SelfReport.school_id == school_id,
                                                            SelfReport.day == today()).limit(1)) is not None


def mark_reminders_read(user: User, day: date) -> None:
    """Opening the day's report is reading its reminder (as opening a ticket reads its notices)."""
    from inspect_app.tickets.models import Notification
    db.session.execute(sa.update(Notification).where(
        Notification.user_id == user.id, Notification.day == day, Notification.read_at.is_(None))
        .values(read_at=utcnow()))
    db.session.commit()
