"""The programme's chores, for the pages, the API and the command line alike."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from inspect_app.accounts.models import AccountError, Role, User
from inspect_app.accounts.services import NewAccount, create_account
from inspect_app.dbtypes import utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.i18n import local_zone
from inspect_app.volunteers.models import (VolunteerAgreement, VolunteerInvitation,
                                           code_digest)

# The agreement's text is in templates/volunteers/_agreement.html; a change of its substance is a new
# version here, so the record says which words each volunteer accepted.
AGREEMENT_VERSION = "2026-11"
MAX_INVITATION_DAYS = 90
MAX_INVITATIONS_AT_ONCE = 100  # the programme recruits 100 parents
PSEUDONYM_PREFIX = "志愿者"


def invitation_url(code: str) -> str:
    """On the configured public address, as school posters are: the Host header is the client's."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("volunteers.join", code=code)


def issue_invitations(by: User, expires_in_days: int, count: int = 1) -> list[tuple[VolunteerInvitation, str]]:
    """Single-use invitations valid for `expires_in_days`; each code is returned once (caller commits)."""
    if not 1 <= expires_in_days <= MAX_INVITATION_DAYS:
        raise DomainError(_l("An invitation is valid for 1 to %(n)s days.", n=MAX_INVITATION_DAYS), 422,
                          "expires_in_days")
    if not 1 <= count <= MAX_INVITATIONS_AT_ONCE:
        raise DomainError(_l("Issue 1 to %(n)s invitations at a time.", n=MAX_INVITATIONS_AT_ONCE), 422, "count")
    expires_at = utcnow() + timedelta(days=expires_in_days)
    return [VolunteerInvitation.issue(by, expires_at) for _ in range(count)]


def find_invitation(code: str | None) -> VolunteerInvitation | None:
    if not isinstance(code, str) or not 8 <= len(code) <= 64:
        return None
    return db.session.scalar(sa.select(VolunteerInvitation).where(VolunteerInvitation.code_hash == code_digest(code)))


def usable_invitation(code: str | None) -> VolunteerInvitation:
    """The invitation behind a code: 404 for a code that never existed, 410 for a used, expired or
    withdrawn one (the parent is told to ask for a new one). Unknown codes are counted per client and
    a client that keeps missing waits (429), through the complaints' code-guessing limits."""
    from inspect_app.complaints import limits
    limits.check_invitation_guessing()
    invitation = find_invitation(code)
    if invitation is None:
        limits.count_invitation_miss(isinstance(code, str) and 8 <= len(code) <= 64)
        raise DomainError(_l("This invitation does not exist. Check the link, or ask the programme coordinator."),
                          404)
    invitation.check_usable()
    return invitation


@dataclass(kw_only=True)
class Registration:
    code: str
    username: str
    password: str
    real_name: str
    phone: str
    child_school_ids: tuple[int, ...] = ()
    agreement_version: str | None = None


def _next_pseudonym(invitation: VolunteerInvitation) -> str:
    """志愿者 + the invitation's number (unique, since each invitation makes one account), moved on
    past a pseudonym an admin already gave someone by hand."""
    n = invitation.id
    taken = set(db.session.scalars(sa.select(User.pseudonym).where(User.pseudonym.like(f"{PSEUDONYM_PREFIX}%"))))
    while f"{PSEUDONYM_PREFIX}{n}" in taken:
        n += 1000
    return f"{PSEUDONYM_PREFIX}{n}"


def register(reg: Registration) -> User:
    """A parent's account from an invitation: the agreement accepted in its current version, a real
    name and phone that are sealed at once, the children's schools (never to be checked by them), a
    password of their own under the account rules, and an app-given pseudonym. Caller commits."""
    invitation = usable_invitation(reg.code)
    if reg.agreement_version != AGREEMENT_VERSION:
        raise AccountError(_l("Read and accept the agreement first."), field="agreement")
    real_name = (reg.real_name or "").strip()
    if not real_name or len(real_name) > 100:
        raise AccountError(_l("Your real name (1 to 100 characters): only the programme coordinator can ever see it."),
                           field="real_name")
    if not (reg.phone or "").strip():
        raise AccountError(_l("A phone number, so the programme coordinator can reach you."), field="phone")
    user = create_account(NewAccount(
        username=reg.username, password=reg.password, display_name=real_name, role=Role.VOLUNTEER,
        pseudonym=_next_pseudonym(invitation), phone=reg.phone, child_school_ids=tuple(reg.child_school_ids),
        must_change_password=False))  # they chose it themselves
    db.session.flush()
    invitation.use(user)
    db.session.add(VolunteerAgreement(user=user, version=AGREEMENT_VERSION))
    return user


def withdraw(invitation: VolunteerInvitation) -> None:
    invitation.withdraw()


def invitations(limit: int = 300) -> list[VolunteerInvitation]:
    return list(db.session.scalars(sa.select(VolunteerInvitation).order_by(VolunteerInvitation.id.desc()).limit(limit)))


# ---- The coordinator's roster ------------------------------------------------------------------------

@dataclass
class RosterRow:
    user: User
    last_check: object  # datetime | None: the last submitted visit
    tasks_done: int
    tasks_late: int  # done after the window closed, or still open after it (skipped)
    tasks_open: int
    no_go: list  # the schools their children attend: never checked by them


def roster() -> list[RosterRow]:
    """Every volunteer by pseudonym, in grouped queries (one per figure, not one per person)."""
    from inspect_app.plans.models import Task, TaskStatus
    from inspect_app.visits.models import Visit

    from inspect_app.schools.models import School, volunteer_child_schools

    volunteers = list(db.session.scalars(sa.select(User).where(User.role == Role.VOLUNTEER)
                                         .order_by(User.active.desc(), User.pseudonym)))
    ids = [u.id for u in volunteers]
    if not ids:
        return []
    now = utcnow()
    last = dict(db.session.execute(sa.select(Visit.author_id, sa.func.max(Visit.server_submitted_at))
                                   .where(Visit.author_id.in_(ids), Visit.server_submitted_at.is_not(None))
                                   .group_by(Visit.author_id)).all())
    counts = {row.assignee_id: row for row in db.session.execute(
        sa.select(Task.assignee_id,
                  sa.func.count().filter(Task.status == TaskStatus.DONE).label("done"),
                  sa.func.count().filter(Task.behind_at(now)).label("late"),
                  sa.func.count().filter(Task.status == TaskStatus.OPEN).label("open"))
        .where(Task.assignee_id.in_(ids)).group_by(Task.assignee_id))}
    # Every volunteer's no-go schools in one query (a selectinload would send one per 500 volunteers).
    links = volunteer_child_schools.c
    no_go: dict[int, list[School]] = {}
    for user_id, school in db.session.execute(
            sa.select(links.user_id, School).join(School, School.id == links.school_id)
            .join(User, User.id == links.user_id).where(User.role == Role.VOLUNTEER).order_by(School.name)):
        no_go.setdefault(user_id, []).append(school)
    rows = []
    for user in volunteers:
        c = counts.get(user.id)
        rows.append(RosterRow(user=user, last_check=last.get(user.id), tasks_done=c.done if c else 0,
                              tasks_late=c.late if c else 0, tasks_open=c.open if c else 0,
                              no_go=no_go.get(user.id, [])))
    return rows


def volunteer_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role is not Role.VOLUNTEER:
        raise DomainError(_l("There is no such volunteer."), 404)
    return user


@dataclass
class ChildSchoolsChanged:
    before: list  # the children's schools before the edit, by id
    after: list
    unassigned: list  # schools taken off the volunteer's list because a child now attends them
    cancelled: int  # open tasks there, cancelled
    discarded: int  # their drafts there, thrown away


def change_child_schools(volunteer: User, school_ids) -> ChildSchoolsChanged:
    """A child changed school: the volunteer (or the coordinator for them) names the schools their
    children attend now. The conflict rule holds from this transaction on: a newly named school leaves
    the volunteer's assignments, their open tasks there are cancelled and their drafts there discarded;
    no task, draw, start, API upload or offline pack sends them there after it, since all of them ask
    schools.access, which reads these links on every request. A school no longer named is only not
    excluded any more (assigning it again is the coordinator's choice).

    Audited through the collections: each link removed and added is an entry naming the signed-in user
    who made the edit (old → new, by whom), and so is each assignment dropped, task cancelled and draft
    discarded. Caller commits."""
    from inspect_app.plans.models import Task, TaskStatus
    from inspect_app.schools.models import School

    if volunteer.role is not Role.VOLUNTEER:
        raise DomainError(_l("There is no such volunteer."), 404)
    wanted = {int(i) for i in school_ids}
    schools = list(db.session.scalars(sa.select(School).where(School.id.in_(wanted)).order_by(School.id))) \
        if wanted else []
    if len(schools) != len(wanted):
        raise DomainError(_l("This school does not exist."), 422, "child_school_ids")
    before = sorted(s.id for s in volunteer.child_schools)
    new = [s for s in schools if s.id not in before]
    # By id: flask_login's UserMixin compares users by get_id() (here the session key, None for most
    # loaded rows), so `in` and list.remove() would match somebody else.
    unassigned = [s for s in new if any(u.id == volunteer.id for u in s.assigned_users)]
    for school in unassigned:
        school.assigned_users = [u for u in school.assigned_users if u.id != volunteer.id]
    cancelled = discarded = 0
    if new:
        from inspect_app.visits.models import Visit, VisitStatus
        from inspect_app.visits.services import discard
        new_ids = [s.id for s in new]
        for task in db.session.scalars(sa.select(Task).where(
                Task.assignee_id == volunteer.id, Task.status == TaskStatus.OPEN, Task.school_id.in_(new_ids))):
            task.status = TaskStatus.CANCELLED
            cancelled += 1
        # A draft begun there before the edit is never finished: every way to finish one asks the rule
        # again except the pages' own draft forms, so the draft goes (the audit trail keeps its deletion).
        for visit in db.session.scalars(sa.select(Visit).where(
                Visit.author_id == volunteer.id, Visit.status == VisitStatus.IN_PROGRESS,
                Visit.school_id.in_(new_ids))):
            discard(visit)
            discarded += 1
    if before != [s.id for s in schools]:
        volunteer.child_schools = schools
    return ChildSchoolsChanged(before=before, after=[s.id for s in schools], unassigned=unassigned,
                               cancelled=cancelled, discarded=discarded)


def deactivate(volunteer: User) -> None:
    """The account stops working (every session and token ends); their record stays as it is."""
    volunteer.disable()


# ---- Tasks -------------------------------------------------------------------------------------------

def task_state(task, now=None) -> str:
    """"late" (Task.behind_at: done after its window, or open past it), else the task's own status."""
    return "late" if task.behind_at(now or utcnow()) else task.status.value


def tasks_of(volunteer: User) -> list:
    from inspect_app.plans.services import own_tasks
    return own_tasks(volunteer)


def schools_for(volunteer: User) -> list:
    """The schools a task may send this volunteer to: their assignments, never a child's school."""
    from inspect_app.schools.access import visible_schools
    from inspect_app.schools.models import School
    return list(db.session.scalars(visible_schools(volunteer).order_by(School.district, School.name)))


@dataclass
class Coverage:
    month: object  # date: the month's first day
    checked: list  # (school, number of volunteers' checks) by most checks first
    unchecked: list  # schools no volunteer checked this month
    checks: int


def month_bounds(first: date) -> tuple[datetime, datetime]:
    """The month's first moment and the next month's, in the bureau's zone."""
    tz = local_zone()
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime.combine(first, time.min, tzinfo=tz), datetime.combine(following, time.min, tzinfo=tz)


def month_coverage(first: date) -> Coverage:
    """Which schools volunteers checked in a month (submitted visits, either mode, counted per
    school) and which they have not: one grouped query, whatever the number of visits."""
    from inspect_app.schools.models import School
    from inspect_app.visits.models import Visit, VisitStatus
    start, end = month_bounds(first)
    counts = dict(db.session.execute(
        sa.select(Visit.school_id, sa.func.count()).join(User, User.id == Visit.author_id)
        .where(User.role == Role.VOLUNTEER, Visit.status == VisitStatus.SUBMITTED,
               Visit.server_submitted_at >= start, Visit.server_submitted_at < end)
        .group_by(Visit.school_id)).all())
    schools = list(db.session.scalars(sa.select(School).order_by(School.district, School.name)))
    checked = sorted(((s, counts[s.id]) for s in schools if s.id in counts), key=lambda pair: -pair[1])
    return Coverage(month=first, checked=checked, unchecked=[s for s in schools if s.id not in counts],
                    checks=sum(counts.values()))


def rekey_identities() -> int:
    """Every sealed identity re-sealed with the newest key, all or none (caller commits)."""
    from inspect_app.accounts.escrow import reseal
    users = list(db.session.scalars(sa.select(User).where(User.identity_sealed.is_not(None))))
    for user in users:
        user.identity_sealed = reseal(user.identity_sealed)
    return len(users)


# ---- A volunteer's own history -----------------------------------------------------------------------

@dataclass
class Outcome:
    description: str
    fixed: bool  # "已整改": closed out by the bureau, or put right on the spot


@dataclass
class HistoryEntry:
    school_name: str
    day: object  # the submission moment; shown as a day
    outcomes: list


def history(volunteer: User, limit: int = 100) -> list[HistoryEntry]:
    """What the volunteer sent and what became of each problem: fixed (已整改) or still being fixed
    (整改中). Only the school's name, the day and their own words: no staff name, no ticket record,
    nothing the school wrote."""
    from inspect_app.tickets.models import Ticket, TicketStatus
    from inspect_app.visits.models import Finding, Visit

    visits = list(db.session.scalars(sa.select(Visit).where(Visit.author_id == volunteer.id,
                                                            Visit.server_submitted_at.is_not(None))
                                     .order_by(Visit.server_submitted_at.desc()).limit(limit)))
    if not visits:
        return []
    rows = db.session.execute(sa.select(Finding.visit_id, Finding.description, Finding.fixed_on_site, Ticket.status)
                              .outerjoin(Ticket, Ticket.finding_id == Finding.id)
                              .where(Finding.visit_id.in_([v.id for v in visits]))
                              .order_by(Finding.position, Finding.id)).all()
    found: dict[str, list[Outcome]] = {}
    for row in rows:
        fixed = bool(row.fixed_on_site) or row.status is TicketStatus.CLOSED
        found.setdefault(row.visit_id, []).append(Outcome(description=row.description, fixed=fixed))
    return [HistoryEntry(school_name=v.school.name, day=v.server_submitted_at, outcomes=found.get(v.id, []))
            for v in visits]
