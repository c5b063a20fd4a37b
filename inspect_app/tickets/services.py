"""Opening tickets from submitted visits, the school's responses, verification, escalation, notices."""
from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
import sqlalchemy.orm as so
from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError

from inspect_app import bulk
from inspect_app.accounts.models import Role, User
from inspect_app.audit import services as audit
from inspect_app.checklists.models import Severity, VisitMode
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db, known
from inspect_app.i18n import local_zone
from inspect_app.photos.models import Photo
from inspect_app.schools.models import School, school_assignments
from inspect_app.tickets import bp
from inspect_app.tickets.access import independent_verifier_required
from inspect_app.tickets.models import (VERIFIER_ROLES, EventKind, EventPhoto, Notification, Ticket, TicketError,
                                        TicketEvent, TicketStatus, recheck_blocks)
from inspect_app.visits.models import Finding, Visit
from inspect_app.visits.services import visit_submitted

signals = Namespace()
# Sent when a re-check closes a ticket out; what asked for the ticket (a complaint) reacts.
ticket_closed = signals.signal("ticket-closed")

DEFAULT_DEADLINE_HOURS = {Severity.MINOR: 72, Severity.MAJOR: 48, Severity.CRITICAL: 24}


def end_of_day(day: date) -> datetime:
    """23:59:59 of a calendar day where the bureau is: what "rectify by 11月27日" means."""
    tz = local_zone()
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz).astimezone(timezone.utc)


DEADLINE_ROUNDINGS = ("day", "hour")


@bp.record_once
def _check_rounding(state) -> None:
    """A misspelt TICKET_DEADLINE_ROUNDING stops the app at start, not every submission after it."""
    rounding = state.app.config.get("TICKET_DEADLINE_ROUNDING")
    if rounding not in DEADLINE_ROUNDINGS:
        raise RuntimeError(f"TICKET_DEADLINE_ROUNDING must be one of {', '.join(DEADLINE_ROUNDINGS)}, "
                           f"not {rounding!r}")


def planned_deadline(submitted: datetime, hours: int) -> datetime:
    """At least `hours` after submission, rounded up as TICKET_DEADLINE_ROUNDING says. Unrounded,
    deadline minus the item's hours was the exact moment a volunteer submitted a covert check."""
    due = submitted + timedelta(hours=hours)
    rounding = current_app.config["TICKET_DEADLINE_ROUNDING"]
    if rounding == "day":
        return end_of_day(due.astimezone(local_zone()).date())
    if rounding == "hour":
        hour = due.replace(minute=0, second=0, microsecond=0)
        return hour if hour == due else hour + timedelta(hours=1)
    raise ValueError(f"TICKET_DEADLINE_ROUNDING must be 'day' or 'hour', not {rounding!r}")


@visit_submitted.connect
def open_tickets(sender, visit: Visit, **_extra) -> list[int]:
    """Each finding not fixed on the spot becomes a ticket for the school, in the same transaction."""
    findings = [finding for finding in visit.findings if not finding.fixed_on_site]
    if not findings:
        return []
    # The tickets point at the visit and its findings: those are stored first (a visit from the phone
    # already is, visits.services.store; one from the pages by the flush the commit would have made).
    session = db.session()
    session.flush()
    submitted = visit.server_submitted_at or utcnow()
    rows = []
    for finding in findings:
        item = visit.version.item(finding.item_code) if finding.item_code else None
        # The item's own deadline; an ad-hoc finding's follows its severity. A finding the inspector
        # judged critical never waits longer than a critical one would.
        hours = item.deadline_hours if item else DEFAULT_DEADLINE_HOURS[finding.severity]
        if finding.severity is Severity.CRITICAL:
            hours = min(hours, DEFAULT_DEADLINE_HOURS[Severity.CRITICAL])
        rows.append(dict(finding_id=finding.id, visit_id=visit.id, problem_text=None, school_id=visit.school_id,
                         severity=finding.severity, deadline=planned_deadline(submitted, hours)))
    return open_all(session, rows, [finding.description for finding in findings], visit.author_id)


def open_all(session: so.Session, tickets: list[dict], texts: list[str], actor_id: int | None) -> list[int]:
    """Open tickets (开单), each row a ticket's finding_id, visit_id, problem_text, school_id, severity
    and deadline: each with its first event, OPENED by `actor_id` with its `texts` entry (what the school
    is to fix), the columns' defaults giving the rest (open, level 0, version 1, the times), each
    announced to whom an opening concerns. The one way a ticket is opened, for a visit's findings and
    for a complaint handed over. What the rows point to (a visit and its findings, the school) is
    stored already. Returns the new tickets' ids, in order; the caller commits.

    Written as rows, with their entries in the audit chain as the flush would have recorded them, not
    through the unit of work: a visit's tickets and their events as objects were a quarter of its
    whole-visit PUT, to be written once and read again in later requests (issue 18). Every value but
    the ids is decided here (bulk.with_defaults), so what is sent is what is stored and recorded."""
    if not tickets:
        return []
    connection = session.connection()
    written = [bulk.with_defaults(Ticket, row) for row in tickets]
    opened = [bulk.with_defaults(TicketEvent, {"kind": EventKind.OPENED, "actor_id": actor_id, "text": text},
                                 generated=("id", "ticket_id")) for text in texts]
    if connection.dialect.name == "postgresql":
        # Both tables in one statement, each row as sent and numbered by its sequence: as stored.
        ids = connection.execute(_open_statement(), {"parents": bulk.as_json(Ticket.__table__, written),
                                                     "children": bulk.as_json(TicketEvent.__table__, opened)}).all()
    else:
        # SQLite: each table by INSERT … RETURNING the ids, in the order of the rows sent.
        numbered = connection.execute(bulk.inserted(Ticket.__table__), written).all()
        ids = [(row.id, event.id) for row, event in zip(numbered, connection.execute(
            bulk.inserted(TicketEvent.__table__), [dict(event, ticket_id=row.id)
                                                   for row, event in zip(numbered, opened)]).all())]
    for row, event, (ticket_id, event_id) in zip(written, opened, ids):
        row["id"] = event["ticket_id"] = ticket_id
        event["id"] = event_id
    audit.record_rows(session, "create", Ticket.__table__, [(row["id"], row) for row in written])
    audit.record_rows(session, "create", TicketEvent.__table__, [(event["id"], event) for event in opened])
    for row in written:
        for user_id in recipients(EventKind.OPENED, row["school_id"]):
            session.add(Notification(user_id=user_id, ticket_id=row["id"], kind=EventKind.OPENED))
    return [row["id"] for row in written]


@functools.cache
def _open_statement() -> sa.TextClause:
    return bulk.numbered_pairs(Ticket.__table__, TicketEvent.__table__, "ticket_id")


def check_photo_count(count: int) -> None:
    """At most TICKET_STEP_MAX_PHOTOS on one step, checked before any photo is looked at."""
    limit = current_app.config["TICKET_STEP_MAX_PHOTOS"]
    if count > limit:
        raise TicketError(_("Too many photos: at most %(limit)s in one step (you sent %(n)s).",
                            limit=limit, n=count), 413)


def _photos(ids: list[str], owner: User) -> list[Photo]:
    """Evidence photos named by id: they must exist and be the actor's own uploads."""
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise TicketError(_("photo_ids must be a list of photo ids."), 400)
    check_photo_count(len(ids))
    photos = db.session.scalars(sa.select(Photo).where(Photo.id.in_(ids))).all() if ids else []
    if len(photos) != len(set(ids)) or any(p.uploader_id != owner.id for p in photos):
        raise TicketError(_("Some photos were not found among your uploads. Upload them first."), 422)
    return photos


def _attach(event: TicketEvent, photos: list[Photo]) -> None:
    for photo in photos:
        event.photos.append(EventPhoto(photo_id=photo.id))


def replayed(ticket: Ticket, client_id: str | None, digest: str) -> TicketEvent | None:
    """The event already written for this client UUID (a replay), or a 409 if the body differs."""
    if client_id is None:
        return None
    event = db.session.scalar(sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                           TicketEvent.client_id == client_id))
    if event is not None and event.body_hash != digest:
        raise TicketError(_("This id was already used for a different step on this ticket."))
    return event


def respond(ticket: Ticket, officer: User, text: str, photo_ids: list[str], client_id: str | None = None,
            digest: str | None = None) -> TicketEvent:
    """The school's rectification report with after-photos (the caller commits)."""
    text = (text or "").strip()
    if not text:
        raise TicketError(_("Describe what was done to rectify the problem."), 422, "text")
    photos = _photos(photo_ids, officer)
    event = ticket.respond(officer, text[:2000])
    event.client_id, event.body_hash = client_id, digest
    _attach(event, photos)
    notify(ticket, EventKind.RESPONDED)
    return event


def verify(ticket: Ticket, verifier: User, close: bool, note: str, photo_ids: list[str],
           new_deadline: datetime | None, client_id: str | None = None, digest: str | None = None,
           override_reason: str = "", visit: Visit | None = None) -> TicketEvent:
    """Close out with after-photos, or send back with a new deadline (the caller commits).
    `override_reason`: a leader verifying their own finding says why (kept on the record)."""
    photos = _photos(photo_ids, verifier)
    if recheck_blocks(close=close, photos=bool(photos)):
        raise TicketError(_("Closing out needs at least one photo taken at the re-check."), 422, "photos")
    event = ticket.verify(verifier, close, (note or "").strip()[:2000], new_deadline,
                          independent_verifier_required(), override_reason, visit)
    event.client_id, event.body_hash = client_id, digest
    _attach(event, photos)
    notify(ticket, event.kind)
    if close:
        ticket_closed.send(current_app._get_current_object(), ticket=ticket)
    return event


@dataclass
class TicketResult:
    """A follow-up visit's verdict on one ticket (API: ticket_results[n])."""
    ticket_id: int
    close: bool
    note: str = ""
    photo_ids: list[str] = field(default_factory=list)
    new_deadline: datetime | None = None
    override_reason: str = ""


def apply_follow_up(visit: Visit, verifier: User, results: list[TicketResult]) -> list[TicketEvent]:
    """Close out or send back each named ticket of the visit's school on the submitted follow-up visit
    (回头看), through verify() and so the ticket's own guard; a refusal names its place in the list.
    Only tickets that came before this visit: the ones its own findings have just opened (stored
    already, open_tickets) are the school's to rectify first, never closed or re-dated by the visit
    that found them."""
    if results and visit.mode not in VisitMode.MAY_CLOSE_TICKETS:
        raise TicketError(_("Only a follow-up visit verifies tickets."), 422, "ticket_results")
    ids = [r.ticket_id for r in results]
    if len(set(ids)) != len(ids):
        raise TicketError(_("A ticket is named twice in ticket_results."), 422, "ticket_results")
    tickets = {t.id: t for t in db.session.scalars(sa.select(Ticket).where(
        Ticket.id.in_(ids), Ticket.school_id == visit.school_id,
        sa.or_(Ticket.visit_id.is_(None), Ticket.visit_id != visit.id)))} if ids else {}
    events = []
    for n, result in enumerate(results):
        ticket = tickets.get(result.ticket_id)
        where = f"ticket_results[{n}]"
        if ticket is None:
            raise TicketError(_("%(where)s: not a ticket of this school.", where=where), 422, where)
        try:
            events.append(verify(ticket, verifier, result.close, result.note, result.photo_ids, result.new_deadline,
                                 override_reason=result.override_reason, visit=visit))
        except TicketError as error:
            raise TicketError(f"{where}: {error.message}", error.status, where) from None
    return events


@contextmanager
def one_writer_at_a_time() -> Iterator[None]:
    """Around the commit of a step: of two people acting on a ticket at once (its version counter), the
    second is told so, for the pages and the API alike, rather than forking the record."""
    try:
        yield
    except StaleDataError:
        db.session.rollback()
        raise TicketError(_("Someone else acted on this ticket at the same moment. Reload to see what they did."),
                          409) from None


def escalate_overdue(now: datetime | None = None) -> int:
    """Run the ladder over every overdue ticket (for cron); returns how many steps were taken."""
    now = now or utcnow()
    steps = 0
    overdue = db.session.scalars(sa.select(Ticket).where(Ticket.overdue_at(now))).all()
    for ticket in overdue:
        for event in ticket.escalate(now):
            notify(ticket, event.kind)
            steps += 1
    return steps


def _school_people(school_id: int, group: str) -> list[int]:
    """The ids of the school's active duty officers ("officers") or assigned inspectors ("inspectors"),
    each read once per transaction and only when a notice needs them: a visit's tickets are all at one
    school, a 200-finding visit asked 400 times, and a visit's openings notify only the officers (the
    cache goes with the transaction: extensions.known). A whole-visit PUT reads the officers with its
    first query (officers_at, remember_officers). A notice needs whom, not the account: ids, not users
    (loading each user's row as an object was most of this query's cost on every submission, issue 18)."""
    cache = known("school_people")
    if (school_id, group) not in cache:
        # Only users are read: flushing the pending notices first would cost one flush per ticket of a
        # 200-finding visit (docs/limits.md), and they are written at commit anyway.
        with db.session.no_autoflush:
            cache[school_id, group] = list(db.session.scalars(_people_query(group), {"school_id": school_id}))
    return cache[school_id, group]


def _officers(school_id) -> sa.ColumnElement[bool]:
    return sa.and_(User.school_id == school_id, User.active)


def officers_at(school_id) -> sa.ScalarSelect:
    """The ids of the school's active duty officers as one comma-separated text (NULL for none), as a
    clause: for a query that reads the school anyway, so that the notices of the tickets a visit opens
    need no query of their own (remember_officers; issue 18)."""
    return sa.select(sa.func.aggregate_strings(sa.cast(User.id, sa.String), ",")).where(
        _officers(school_id)).scalar_subquery()


def remember_officers(school_id: int, listed: str | None) -> None:
    """What officers_at read for this school, kept for this transaction's notices as _school_people
    would have read them (in the order of their ids)."""
    known("school_people")[school_id, "officers"] = sorted(int(i) for i in listed.split(",")) if listed else []


@functools.cache
def _people_query(group: str) -> sa.Select:
    """Built once per group: every submission asks, and building and keying a select cost about as
    much of the app's time as running it (issue 18)."""
    if group == "officers":
        return sa.select(User.id).where(_officers(sa.bindparam("school_id"))).order_by(User.id)
    return (sa.select(User.id).join(school_assignments, school_assignments.c.user_id == User.id)
            .where(school_assignments.c.school_id == sa.bindparam("school_id"), User.role == Role.INSPECTOR,
                   User.active).order_by(User.id))


def recipients(kind: EventKind, school_id: int, author: User | None = None) -> list[int]:
    """The ids of the users a step of a ticket at `school_id` is announced to, each once. `author`: the
    author of the visit the ticket came from, for a school's response."""
    if kind is EventKind.RESPONDED:
        bureau = _school_people(school_id, "inspectors") + (
            [author.id] if author is not None and author.role in VERIFIER_ROLES else [])
        return list(dict.fromkeys(bureau))
    officers = _school_people(school_id, "officers")
    if kind is EventKind.BUREAU_NOTICE:
        leaders = db.session.scalars(sa.select(User.id).where(User.role == Role.LEADER, User.active)
                                     .order_by(User.id)).all()
        return list(dict.fromkeys([*officers, *_school_people(school_id, "inspectors"), *leaders]))
    return list(officers)


def notify(ticket: Ticket, kind: EventKind) -> None:
    """An inbox entry for everyone concerned (e-mail and group robots follow from it: inspect_app.notify)."""
    author = ticket.visit.author if kind is EventKind.RESPONDED and ticket.visit is not None else None
    for user_id in recipients(kind, ticket.school_id, author):
        db.session.add(Notification(user_id=user_id, ticket=ticket, kind=kind))


def unread_count(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                             .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def opened_by_visit(visit_id: str) -> tuple[int, datetime | None]:
    """How many tickets a submitted visit opened, and the earliest deadline among them."""
    count, earliest = db.session.execute(
        sa.select(sa.func.count(Ticket.id), sa.func.min(Ticket.deadline))
        .join(Finding, Finding.id == Ticket.finding_id).where(Finding.visit_id == visit_id)).one()
    return count, earliest


def school_counts(school: School) -> dict[str, int]:
    """Open and overdue ticket counts for a school's start page."""
    open_count, overdue, responded = db.session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(Ticket.overdue),
                  sa.func.count().filter(Ticket.status == TicketStatus.RESPONDED))
        .where(Ticket.school_id == school.id, Ticket.status.in_(TicketStatus.ACTIVE))).one()
    return {"open": open_count, "overdue": overdue, "responded": responded}
