"""Receiving a complaint (public or logged by staff), triage, resolution, the queue, retention.

The pages and the API call these same functions; every refusal is a DomainError with the field it
belongs under, so the public page shows it beside what was typed and the API in its error shape.
"""
from __future__ import annotations

import difflib
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from blinker import Namespace
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from inspect_app.accounts.models import BUREAU_ROLES, FIELD_ROLES, User
from inspect_app.checklists.models import ChecklistTemplate, Severity
from inspect_app.complaints import limits
from inspect_app.complaints.codes import code_hash, new_code, normalise
from inspect_app.complaints.models import (CONTACT_MAX_CHARS, REPLY_MAX_CHARS, TEXT_MAX_CHARS, Complaint,
                                           ComplaintError, ComplaintPhoto, ComplaintReply, ComplaintSource,
                                           ComplaintStatus)
from inspect_app.dbtypes import utcnow
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.i18n import working_days_back
from inspect_app.idempotency import body_hash, first_writer_wins
from inspect_app.parsing import FieldError, parse_text, parse_uuid
from inspect_app.photos.processing import process
from inspect_app.photos.services import PhotoFields, read_upload, receive_photo
from inspect_app.plans.services import create_task, task_done
from inspect_app.schools.access import resolve_qr_token
from inspect_app.schools.models import School
from inspect_app.tickets.models import Ticket
from inspect_app.tickets.services import DEFAULT_DEADLINE_HOURS, open_all, planned_deadline, ticket_closed

# Who triages (and so sees the complainant's contact), and who reads the queue: the bureau.
TRIAGE_ROLES = FIELD_ROLES
QUEUE_ROLES = BUREAU_ROLES
# Similar complaints about one school within this many days are shown together.
DUPLICATE_DAYS = 3
DUPLICATE_RATIO = 0.6
# A uuid5 namespace: a retried submission's photos get the same ids, so they too are stored once.
PHOTO_NAMESPACE = uuid.UUID("5b0f7f36-0a43-4c4d-9a2b-6c1d3e0f4a11")


# ---- the school a complaint is about ------------------------------------------------------------

def school_for(school_id, qr: str | None) -> School:
    """The school named by a poster's token or by id; refused in words the public understands."""
    if qr:
        school, retired = resolve_qr_token(qr)
        if school is None:
            raise DomainError(_("This code is not one of ours. Please check the poster or choose the school "
                                "from the list."), 404, "school_id")
        if retired:
            raise DomainError(_("This code was replaced by a new poster. Please scan the poster now on display "
                                "at the school, or choose the school from the list."), 410, "school_id")
        return school
    school = db.session.get(School, school_id) if isinstance(school_id, int) else None
    if school is None:
        raise DomainError(_("Choose the school from the list."), 404 if school_id else 422, "school_id")
    return school


# ---- receiving ----------------------------------------------------------------------------------

@dataclass
class Submission:
    text: str | None
    contact: str | None = None
    anonymous: bool = True
    photos: list[bytes] = field(default_factory=list)
    idempotency_key: str | None = None
    website: str | None = None  # the honeypot: people never see it, form-filling robots fill it in


@dataclass
class Received:
    complaint: Complaint
    code: str | None  # None only for a replay whose code can no longer be derived (secret rotated)
    created: bool


def check_photo_count(n: int) -> None:
    limit = current_app.config["COMPLAINT_MAX_PHOTOS"]
    if n > limit:
        raise DomainError(_("Too many photos: at most %(limit)s (you sent %(n)s).", limit=limit, n=n), 413, "photos")


def read_photos(uploads) -> list[bytes]:
    """The uploaded files' bytes (empty file inputs skipped), each within PHOTO_MAX_BYTES, counted first."""
    chosen = [u for u in uploads if u and (u.filename or u.content_length)]
    check_photo_count(len(chosen))
    return [read_upload(upload) for upload in chosen]


def _text(value, name: str, limit: int, field: str) -> str:
    try:
        return parse_text(value, name, limit)
    except FieldError as error:
        error.field = field
        raise


def _clean(sent: Submission) -> tuple[str, str | None, str | None]:
    if sent.website:
        # Not a person: nothing is stored, and the answer says no more than a refusal.
        raise DomainError(_("The complaint could not be accepted. Please reload the page and try again."), 400)
    text = _text(sent.text, _("Description"), TEXT_MAX_CHARS, "text")
    if not text:
        raise FieldError(_("Please describe what you saw."), field="text")
    contact = _text(sent.contact, _("Contact"), CONTACT_MAX_CHARS, "contact") or None
    try:
        key = parse_uuid(sent.idempotency_key)
    except FieldError:
        raise FieldError(_("The form is out of date. Please reload the page and try again."),
                         field="idempotency_key") from None
    return text, contact, key


def receive(school: School, sent: Submission, source: ComplaintSource = ComplaintSource.ONLINE,
            logged_by: User | None = None) -> Received:
    """Store the complaint once (a retry with the same key answers with the same code), photos and all,
    or refuse it with nothing stored. Commits."""
    text, contact, key = _clean(sent)
    check_photo_count(len(sent.photos))
    shas = [hashlib.sha256(data).hexdigest() for data in sent.photos]
    digest = body_hash({"school": school.id, "text": text, "contact": contact, "anonymous": sent.anonymous,
                        "source": source.value, "photos": shas})
    if key is not None and (replay := _replayed(key, digest)) is not None:
        return replay
    if logged_by is None:
        limits.check_submission(school.id)
    processed = [process(data) for data in sent.photos]  # every photo refused or accepted before any is stored
    db.session.rollback()  # end the read transaction before storing photos (receive_photo commits each)
    photo_ids = []
    for index, (data, done) in enumerate(zip(sent.photos, processed)):
        photo_id = str(uuid.uuid5(PHOTO_NAMESPACE, f"{key}:{index}")) if key else str(uuid.uuid4())
        receive_photo(photo_id, None, data, PhotoFields(), processed=done)
        photo_ids.append(photo_id)
    code = new_code(key)

    def attempt() -> Received:
        if key is not None and (replay := _replayed(key, digest)) is not None:
            return replay
        complaint = Complaint(school_id=school.id, text=text, contact=contact, anonymous=sent.anonymous,
                              source=source, code_hash=code_hash(code), body_hash=digest, logged_by=logged_by,
                              submission_hash=hashlib.sha256(key.encode()).hexdigest() if key else None)
        complaint.photos = [ComplaintPhoto(photo_id=pid) for pid in photo_ids]
        db.session.add(complaint)
        if logged_by is None:
            limits.count_submission()
        return Received(complaint, code, True)
    return first_writer_wins(attempt)


def _replayed(key: str, digest: str) -> Received | None:
    complaint = db.session.scalar(sa.select(Complaint).where(
        Complaint.submission_hash == hashlib.sha256(key.encode()).hexdigest()))
    if complaint is None:
        return None
    if complaint.body_hash != digest:
        raise ComplaintError(_("This form was already sent with other content. Reload the page to send "
                               "a new complaint."))
    code = new_code(key)
    return Received(complaint, code if code_hash(code) == complaint.code_hash else None, False)


# ---- the tracking page --------------------------------------------------------------------------

def find_by_code(raw: str | None) -> Complaint:
    """The complaint behind a tracking code; guessing is rate limited and logged, a wrong shape says so."""
    limits.check_code_guessing()
    code = normalise(raw)
    complaint = db.session.scalar(sa.select(Complaint).where(Complaint.code_hash == code_hash(code))) if code else None
    if complaint is None:
        limits.count_code_miss(code is not None)
        if code is None:
            raise DomainError(_("This is not a tracking code: it reads JY- and then 12 letters and digits, "
                                "such as JY-7K3M-Q9TX-4HPW."), 404)
        raise DomainError(_("No complaint has this tracking code. Please check each character."), 404)
    return complaint


# ---- triage -------------------------------------------------------------------------------------

TRIAGE_ACTIONS = ("reject", "ticket", "visit")


@dataclass
class Triage:
    action: str
    reply: str | None = None
    problem: str | None = None  # what the school reads (ticket): the bureau's words, not the complainant's
    severity: str | None = None
    assignee_id: int | None = None
    window_start: date | None = None
    window_end: date | None = None
    # ticket: the on-site checklist item the substantiated complaint is about, if any (一案双查: a pass
    # of that item at the school within REVIEW_WINDOW_DAYS opens a review of the inspector who gave it).
    item_code: str | None = None


signals = Namespace()
# A complaint handed to the school as a real problem, naming the checklist item it concerns: the
# reviews domain (一案双查) answers with a review of any recent pass of that item there.
complaint_substantiated = signals.signal("complaint-substantiated")
# The checklist whose items a complaint may name: the on-site check, what inspectors pass or fail.
COMPLAINT_TEMPLATE = "onsite"


def complaint_items() -> list:
    """The items a substantiated complaint may be about (the on-site check's current version)."""
    template = db.session.scalar(sa.select(ChecklistTemplate).where(ChecklistTemplate.code == COMPLAINT_TEMPLATE))
    return list(template.current_version.items) if template and template.current_version else []


def triage_refused(user: User) -> DomainError | None:
    if user.role not in TRIAGE_ROLES:
        return DomainError(_("Only inspectors and leaders triage complaints."), 403)
    return None


def tasks_refusal() -> str:
    return _("Tasks are for the people the bureau assigns checks to.")


def system_reply(kind: str) -> str:
    """What the complainant's page says when no one wrote a reply (always in Chinese: the public's language)."""
    with force_locale("zh"):
        return {"ticket": _("Your complaint was handed to the school to rectify. The bureau will verify the result."),
                "visit": _("The bureau will check this at the school."),
                "ticket_closed": _("The school rectified the problem and the bureau verified it on site."),
                "visit_done": _("The bureau checked at the school. Any problem found was handed to the school "
                                "to rectify.")}[kind]


def triage(complaint: Complaint, actor: User, sent: Triage) -> None:
    """Reject with a public reason, hand to the school as a ticket, or send someone to check (the caller commits)."""
    if refusal := triage_refused(actor):
        raise refusal
    if sent.action not in TRIAGE_ACTIONS:
        raise FieldError(_("Choose what to do with the complaint."), field="action")
    reply = _text(sent.reply, _("Reply"), REPLY_MAX_CHARS, "reply")
    if sent.action == "reject":
        complaint.reject(actor, reply)
    elif sent.action == "ticket":
        if sent.item_code and sent.item_code not in {item.code for item in complaint_items()}:
            raise FieldError(_("Choose the checklist item from the list."), field="item_code")
        complaint.hand_to_school(actor, _open_ticket(complaint, actor, sent), reply or system_reply("ticket"))
        if sent.item_code:
            complaint_substantiated.send(current_app._get_current_object(), complaint=complaint,
                                         item_code=sent.item_code)
    else:
        assignee = db.session.get(User, sent.assignee_id) if sent.assignee_id else None
        complaint.check_untriaged()  # before a task is made for a complaint already dealt with
        create_task(assignee, complaint.school, sent.window_start, sent.window_end, actor, complaint.id)
        complaint.plan_visit(actor, reply or system_reply("visit"))


def _open_ticket(complaint: Complaint, actor: User, sent: Triage) -> Ticket:
    complaint.check_untriaged()
    problem = _text(sent.problem, _("Problem for the school"), TEXT_MAX_CHARS, "problem")
    if not problem:
        raise FieldError(_("Write the problem as the school should read it."), field="problem")
    try:
        severity = Severity(sent.severity or Severity.MAJOR.value)
    except ValueError:
        raise FieldError(_("Choose a severity."), field="severity") from None
    [ticket_id] = open_all(db.session(), [dict(
        finding_id=None, visit_id=None, problem_text=problem, school_id=complaint.school_id, severity=severity,
        deadline=planned_deadline(utcnow(), DEFAULT_DEADLINE_HOURS[severity]))], [problem], actor.id)
    return db.session.get(Ticket, ticket_id)


@ticket_closed.connect
def resolve_from_ticket(sender, ticket: Ticket, **_extra) -> None:
    complaint = db.session.scalar(sa.select(Complaint).where(Complaint.ticket_id == ticket.id))
    if complaint is not None and complaint.status is ComplaintStatus.TRIAGED:
        complaint.resolve(system_reply("ticket_closed"))


@task_done.connect
def resolve_from_visit(sender, task, **_extra) -> None:
    if task.source_complaint_id is None:
        return
    complaint = db.session.get(Complaint, task.source_complaint_id)
    if complaint is not None and complaint.status is ComplaintStatus.VISIT_PLANNED:
        complaint.resolve(system_reply("visit_done"))


# ---- the queue ----------------------------------------------------------------------------------

@dataclass
class QueueFilters:
    status: ComplaintStatus | None = None
    school_id: int | None = None
    district: str | None = None
    older_than_days: int | None = None


def queue_query(filters: QueueFilters) -> sa.Select:
    query = sa.select(Complaint).join(School, School.id == Complaint.school_id).options(
        so.contains_eager(Complaint.school))
    if filters.status is not None:
        query = query.where(Complaint.status == filters.status)
    if filters.school_id is not None:
        query = query.where(Complaint.school_id == filters.school_id)
    if filters.district:
        query = query.where(School.district == filters.district)
    if filters.older_than_days:
        query = query.where(Complaint.received_at <= utcnow() - timedelta(days=filters.older_than_days))
    return query.order_by(Complaint.received_at.desc(), Complaint.id.desc())


# What a complaint's full view reads besides the row (bureau_view): loaded for a whole page at once.
WITH_RECORD = (so.selectinload(Complaint.replies).joinedload(ComplaintReply.author),
               so.selectinload(Complaint.photos))


def queue(filters: QueueFilters, limit: int = 500) -> list[Complaint]:
    return list(db.session.scalars(queue_query(filters).limit(limit)))


def similar(a: Complaint, b: Complaint) -> bool:
    """Likely the same problem: the same school, within a few days, and much the same words."""
    return (a.school_id == b.school_id and abs(a.received_at - b.received_at) <= timedelta(days=DUPLICATE_DAYS)
            and difflib.SequenceMatcher(None, a.text, b.text).ratio() >= DUPLICATE_RATIO)


def grouped(complaints: list[Complaint]) -> list[list[Complaint]]:
    """Likely duplicates together (linked through any similar pair), in the list's order."""
    by_school: dict[int, list[Complaint]] = {}
    for complaint in complaints:
        by_school.setdefault(complaint.school_id, []).append(complaint)
    parent = {c.id: c.id for c in complaints}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    for same_school in by_school.values():
        for i, a in enumerate(same_school):
            for b in same_school[i + 1:]:
                if similar(a, b):
                    parent[root(b.id)] = root(a.id)
    groups: dict[int, list[Complaint]] = {}
    for complaint in complaints:
        groups.setdefault(root(complaint.id), []).append(complaint)
    return list(groups.values())


def duplicates_of(complaint: Complaint) -> list[Complaint]:
    window = timedelta(days=DUPLICATE_DAYS)
    near = db.session.scalars(sa.select(Complaint).where(
        Complaint.school_id == complaint.school_id, Complaint.id != complaint.id,
        Complaint.received_at.between(complaint.received_at - window, complaint.received_at + window))
        .limit(200))
    return [other for other in near if similar(complaint, other)]


# ---- overdue triage and counts ------------------------------------------------------------------

def triage_cutoff(now: datetime) -> datetime:
    """Complaints received before this moment and still untriaged are overdue: the deadline is the end
    of the second working day after the day of receipt (`COMPLAINT_TRIAGE_WORKING_DAYS`)."""
    return working_days_back(now, current_app.config["COMPLAINT_TRIAGE_WORKING_DAYS"])


def untriaged_overdue(now: datetime | None = None, limit: int = 200) -> list[Complaint]:
    cutoff = triage_cutoff(now or utcnow())
    return list(db.session.scalars(
        sa.select(Complaint).options(so.joinedload(Complaint.school))
        .where(Complaint.status == ComplaintStatus.RECEIVED, Complaint.received_at < cutoff)
        .order_by(Complaint.received_at).limit(limit)))


def untriaged_overdue_count(now: datetime | None = None) -> int:
    cutoff = triage_cutoff(now or utcnow())
    return db.session.scalar(sa.select(sa.func.count()).select_from(Complaint).where(
        Complaint.status == ComplaintStatus.RECEIVED, Complaint.received_at < cutoff)) or 0


def counts_between(start: datetime, end: datetime) -> dict[str, int]:
    """Complaints received, triaged and resolved within [start, end), for the daily report."""
    def count(column, *extra) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)
                                 .where(column >= start, column < end, *extra)) or 0
    return {"received": count(Complaint.received_at), "triaged": count(Complaint.triaged_at),
            "resolved": count(Complaint.closed_at, Complaint.status == ComplaintStatus.RESOLVED)}


# ---- retention ----------------------------------------------------------------------------------

def purge_contacts(now: datetime | None = None) -> int:
    """Erase the contact of every complaint closed more than COMPLAINT_CONTACT_RETENTION_DAYS ago (PIPL),
    and rate-limit events no window counts any more. Returns how many contacts were erased."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["COMPLAINT_CONTACT_RETENTION_DAYS"])
    due = db.session.scalars(sa.select(Complaint).where(
        Complaint.status.in_(ComplaintStatus.CLOSED), Complaint.closed_at < cutoff,
        Complaint.contact.is_not(None))).all()
    for complaint in due:
        complaint.erase_contact(now)  # through the ORM: the audit chain records that it happened
    limits.prune(now)
    return len(due)

