"""From an in-app notice to the outbox, and from the outbox out.

Every domain writes its notices as `Notification` rows and knows nothing of e-mail or robots. When a
session flushes new notices, `enqueue` adds their outside deliveries to the same flush: an e-mail to
each recipient who gave an address, and one post per group summing up what the flush noticed (one
per kind and school, or kind and day), so a 200-finding visit is one group message, not 200.
`deliver_due` sends what is due after commit and retries failures with backoff.

A school is never told the hour of a bureau step (tickets.present: "督查组" on a date), and an e-mail
that arrives the minute a covert check is submitted would tell it. So the outside delivery of a bureau
step's notice to a school (and to a group, whose members the app cannot know) waits until
NOTIFY_SCHOOL_AT of the next day, unless TICKET_DEADLINE_ROUNDING=hour already gives the hour away.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _

from inspect_app.accounts.models import BUREAU_ROLES, User
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.i18n import date_only, date_time, local_zone
from inspect_app.notify.channels import GROUP_POSTS_PER_RUN, DeliveryError, configured, post_group, send_mails, \
    smtp_settings
from inspect_app.notify.models import Channel, Delivery, DeliveryStatus
from inspect_app.schools.models import School
from inspect_app.tickets.models import EventKind, Notification, Ticket

# Steps someone of the bureau took at an hour the school is not told (tickets.present.record_entry).
BUREAU_STEPS = frozenset({EventKind.OPENED, EventKind.CLOSED, EventKind.REOPENED, EventKind.HAND_OVER})
SHEET_KINDS = frozenset({EventKind.HAND_OVER, EventKind.HAND_OVER_OVERDUE})
GROUPS = (Channel.DINGTALK, Channel.WECOM)
LEASE = timedelta(minutes=10)  # a row being sent; a process that dies mid-send leaves it due again after this
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
GROUP_ITEMS = 10  # lines listed in one group post; the rest are counted
# Sent and given-up rows hold people's addresses and what they were told: kept this long for questions
# ("did the school get it?"), then deleted, at most PRUNE_PER_RUN a run so a backlog never makes one slow.
KEEP = timedelta(days=30)
PRUNE_PER_RUN = 5000


def install() -> None:
    """Hook the outbox onto every session (once per process)."""
    if not sa.event.contains(so.Session, "before_flush", enqueue):
        sa.event.listen(so.Session, "before_flush", enqueue)


def release_at(now: datetime) -> datetime:
    """When a bureau step's notice may leave the app for a school: NOTIFY_SCHOOL_AT the next day
    (local), which tells the day and nothing finer; at once if deadlines already tell the hour."""
    config = current_app.config
    if config.get("TICKET_DEADLINE_ROUNDING") == "hour":
        return now
    hours, minutes = (int(part) for part in config["NOTIFY_SCHOOL_AT"].split(":"))
    tomorrow = now.astimezone(local_zone()).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(hours, minutes), tzinfo=local_zone()).astimezone(now.tzinfo)


def retry_after(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after each failed attempt, at most six hours."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def enqueue(session: so.Session, _flush_context, _instances) -> None:
    """The outside deliveries of the notices in this flush, added to it (so they commit or roll back
    with the step that caused them)."""
    notes = [obj for obj in session.new if isinstance(obj, Notification)]
    if not notes or not has_app_context():
        return
    channels = configured(current_app.config)
    if not channels:
        return
    now = utcnow()
    # A notice names its ticket by object or, when the ticket was written as a row (tickets.services.
    # open_all), by id: those are read in a few queries here, not one each.
    # (A notice given its ticket as an object has no ticket_id until this flush writes it.)
    named = {note.ticket_id for note in notes if note.ticket is None and note.ticket_id is not None}
    read = {ticket.id: ticket for chunk in _chunks(named)
            for ticket in session.scalars(sa.select(Ticket).where(Ticket.id.in_(chunk)))}
    tickets = [note.ticket or read.get(note.ticket_id) for note in notes]
    # A circular or a morning's reminders notify every school at once: their names are read in a few
    # queries here, not one each.
    school_ids = {note.school_id for note in notes if note.school_id} | {
        ticket.school_id for ticket in tickets if ticket is not None and ticket.school_id}
    schools = dict(row for chunk in _chunks(school_ids)
                   for row in session.execute(sa.select(School.id, School.name).where(School.id.in_(chunk))))
    with force_locale("zh"):  # the bureau's channels are read in Chinese, whoever's request it was
        about = [_About.of(note, ticket, schools) for note, ticket in zip(notes, tickets)]
        if Channel.EMAIL in channels:
            _mails(session, about, now)
        groups = [channel for channel in GROUPS if channel in channels]
        if groups:
            _group_posts(session, about, groups, now)


class _About:
    """What one notice is about, read once: its kind, ticket, school and day."""

    def __init__(self, note: Notification, ticket: Ticket | None, school_id: int | None, school_name: str):
        self.note, self.ticket, self.school_id, self.school_name = note, ticket, school_id, school_name
        self.kind = note.kind

    @classmethod
    def of(cls, note: Notification, ticket: Ticket | None, schools: dict[int, str]) -> _About:
        school_id = ticket.school_id if ticket is not None else note.school_id
        return cls(note, ticket, school_id, schools.get(school_id, ""))

    def headline(self) -> str:
        where = self.school_name or (date_only(self.note.day) if self.note.day else "")
        return f"{self.kind.label} · {where}" if where else self.kind.label

    def details(self) -> list[str]:
        lines = []
        if self.school_name:
            lines.append(_("School: %(name)s", name=self.school_name))
        if self.note.day is not None:
            lines.append(_("Day: %(day)s", day=date_only(self.note.day)))
        if self.ticket is not None and self.kind not in SHEET_KINDS:
            lines.append(_("Problem: %(text)s", text=self.ticket.description))
            lines.append(_("Rectify by: %(when)s", when=date_time(self.ticket.deadline)))
        return lines


def _link(path: str) -> str:
    return _("Open SafeCampus Inspect: %(url)s", url=current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path)


def _mails(session: so.Session, about: list[_About], now: datetime) -> None:
    people = {row.id: row for chunk in _chunks({a.note.user_id for a in about}) for row in session.execute(
        sa.select(User.id, User.email, User.role, User.active).where(User.id.in_(chunk)))}
    later, title, inbox = None, _("SafeCampus Inspect"), _link("/tickets/notifications")
    for a in about:
        person = people.get(a.note.user_id)
        if person is None or not person.email or not person.active:
            continue
        held = person.role not in BUREAU_ROLES and a.kind in BUREAU_STEPS
        if held and later is None:
            later = release_at(now)
        body = "\n".join([a.kind.label, *a.details(), "", inbox])
        session.add(Delivery(channel=Channel.EMAIL, notification=a.note, user_id=person.id, address=person.email,
                             subject=f"{title}: {a.headline()}"[:255], body=body, next_try_at=later if held else now))


def _group_posts(session: so.Session, about: list[_About], channels: list[Channel], now: datetime) -> None:
    """One post per kind and school (a ticket's notices) or kind and day (a day's reminders, the
    circular): the recipients of one step get one line between them, not one each."""
    batches: dict[tuple, list[_About]] = defaultdict(list)
    for a in about:
        key = (a.kind, a.school_id if a.ticket is not None else None,
               a.note.day if a.ticket is None else None)
        batches[key].append(a)
    for (kind, _school_id, day), batch in batches.items():
        first = batch[0]
        if first.ticket is not None:
            # A sheet's notice names one of its tickets only to find the sheet: the headline says it all.
            where = first.school_name
            items = [] if kind in SHEET_KINDS else _unique(a.ticket.description for a in batch)
        else:
            where = date_only(day) if day else ""
            items = _unique(a.school_name for a in batch if a.school_name) if kind is not EventKind.CIRCULAR else []
        lines = [f"【{_('SafeCampus Inspect')}】{kind.label}" + (f" · {where}" if where else "")]
        lines += [f"{n}. {text}" for n, text in enumerate(items[:GROUP_ITEMS], 1)]
        if len(items) > GROUP_ITEMS:
            lines.append(_("… and %(n)s more", n=len(items) - GROUP_ITEMS))
        lines.append(_link("/"))
        due = release_at(now) if kind in BUREAU_STEPS else now
        for channel in channels:
            session.add(Delivery(channel=channel, notification=first.note, subject=lines[0][:255],
                                 body="\n".join(lines), next_try_at=due))


def _chunks(ids: set[int], size: int = 1000) -> list[list[int]]:
    """Ids in slices a query's IN list can bind on any database (SQLite's limit on bound values)."""
    ordered = sorted(ids)
    return [ordered[n:n + size] for n in range(0, len(ordered), size)]


def _unique(texts) -> list[str]:
    return list(dict.fromkeys(" ".join(str(t).split()) for t in texts))


def deliver_due(now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Send every delivery due by `now` on the channels configured (for the scheduler, every minute;
    `flask notify send`). Each row is claimed first (attempts + 1, a short lease), so two machines
    running this at once never send one twice; a failure waits `retry_after(attempts)` and is logged,
    and after NOTIFY_MAX_ATTEMPTS it is given up (the in-app notice stays). Rows done with for 30 days
    are deleted. Commits; returns counts."""
    now = now or utcnow()
    config = current_app.config
    channels = configured(config)
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    _prune(now)
    if not channels:
        return counts
    claimed = []
    for channel in sorted(channels):
        due = db.session.scalars(
            sa.select(Delivery.id).where(Delivery.channel == channel, Delivery.status == DeliveryStatus.PENDING,
                                         Delivery.next_try_at <= now)
            .order_by(Delivery.next_try_at, Delivery.id)
            .limit(GROUP_POSTS_PER_RUN if channel in GROUPS else limit)).all()
        claimed += [row_id for row_id in due if _claim(row_id, now)]
    db.session.commit()
    if not claimed:
        return counts
    rows = db.session.scalars(sa.select(Delivery).where(Delivery.id.in_(claimed)).order_by(Delivery.id)).all()
    outcome: dict[int, str | None] = {}
    mails = [row for row in rows if row.channel is Channel.EMAIL]
    if mails:
        outcome.update(send_mails(smtp_settings(config), mails))
    for row in rows:
        if row.channel in GROUPS:
            try:
                post_group(row.channel, config, row.body)
                outcome[row.id] = None
            except DeliveryError as error:
                outcome[row.id] = str(error)
    for row in rows:
        counts[_record(row, outcome.get(row.id, "not attempted"), now)] += 1
    db.session.commit()
    return counts


def _prune(now: datetime) -> None:
    """Delete rows done with (sent or given up) for longer than KEEP; a pending row is never deleted."""
    done = (sa.select(Delivery.id).where(Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.FAILED]),
                                         Delivery.next_try_at < now - KEEP).limit(PRUNE_PER_RUN))
    db.session.execute(sa.delete(Delivery).where(Delivery.id.in_(done.scalar_subquery()))
                       .execution_options(synchronize_session=False))
    db.session.commit()


def _claim(row_id: int, now: datetime) -> bool:
    """Take a due row for this run; False when another run took it first (its lease moved it on)."""
    taken = db.session.execute(
        sa.update(Delivery).where(Delivery.id == row_id, Delivery.status == DeliveryStatus.PENDING,
                                  Delivery.next_try_at <= now)
        .values(attempts=Delivery.attempts + 1, next_try_at=now + LEASE)
        .execution_options(synchronize_session=False))
    return taken.rowcount == 1


def _record(row: Delivery, error: str | None, now: datetime) -> str:
    log = current_app.logger
    if error is None:
        row.status, row.sent_at, row.last_error = DeliveryStatus.SENT, now, None
        return "sent"
    row.last_error = error[:500]
    if row.attempts >= current_app.config["NOTIFY_MAX_ATTEMPTS"]:
        row.status = DeliveryStatus.FAILED
        log.error("notice delivery %s (%s) given up after %s attempts: %s", row.id, row.channel.value,
                  row.attempts, error)
        return "failed"
    row.next_try_at = now + retry_after(row.attempts)
    log.warning("notice delivery %s (%s) failed at attempt %s, next try %s: %s", row.id, row.channel.value,
                row.attempts, row.next_try_at.isoformat(timespec="seconds"), error)
    return "retrying"
