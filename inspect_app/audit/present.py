"""The audit record as one viewer may read it: a volunteer's personal fields stay behind the logged reveal.

The chain stores every column as it was written (that is what it proves); redaction happens here, on
the way out, the same for every view of it. (The one exception: plain personal data recorded before the
identity escrow is redacted in place under a keyed seal, audit/redaction.py.) Everywhere else a volunteer is known by pseudonym, and only
the volunteer programme admin sees the real name, through a reveal that is itself recorded
(accounts.reveal_identity): the audit trail must not be a way round that.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from inspect_app.accounts.models import Role, User
from inspect_app.audit.models import AuditEntry
from inspect_app.dbtypes import LabelledEnum
from inspect_app.extensions import db
from inspect_app.i18n import date_time

# What identifies the person behind a volunteer's pseudonym. The sign-in name is an admin's working
# tool (the account list shows it to admins), so only other viewers lose it.
PERSONAL = {"users": ("display_name", "email", "phone"), "signin_attempts": ("ip",)}
ADMIN_ONLY = {"users": ("username",), "signin_attempts": ("username",)}


def object_label(object_type: str) -> str:
    """What a recorded table is called on screen; the stored name stays the record's (and the filter's)."""
    labels = {
        "answers": _("Answers"), "auth_sessions": _("Sign-in sessions"), "complaints": _("Complaints"),
        "complaint_replies": _("Complaint replies"), "complaint_photos": _("Complaint photos"), "tasks": _("Tasks"),
        "plans": _("Visit plans"), "reviews": _("Accountability reviews"), "recusals": _("Recusals"),
        "self_reports": _("Schools' daily reports"), "checklist_items": _("Checklist items"),
        "checklist_templates": _("Checklists"), "daily_reports": _("Daily reports"), "findings": _("Problems"),
        "identity_reveals": _("Identity reveals"), "notifications": _("Notices"), "photos": _("Photos"),
        "retired_qr_tokens": _("Replaced codes"), "school_assignments": _("Assignments"),
        "schools": _("Schools"), "signin_attempts": _("Sign-in attempts"),
        "template_versions": _("Checklist versions"), "ticket_event_photos": _("Ticket photos"),
        "ticket_events": _("Ticket steps"), "tickets": _("Tickets"), "users": _("Accounts"),
        "visits": _("Visit records"), "volunteer_child_schools": _("Children's schools"),
        "circulars": _("Daily circulars"), "circular_named_schools": _("Schools named in circulars"),
        "circular_reads": _("Circular read receipts"), "hand_overs": _("Hand-over sheets"),
        "volunteer_invitations": _("Volunteer invitations"), "volunteer_agreements": _("Volunteer agreements"),
    }
    return labels.get(object_type, object_type)


@dataclass(frozen=True)
class EntryView:
    id: int
    at: object
    actor_id: int | None
    action: str
    object_type: str
    object_id: str
    data: str


def _volunteers(entries: list[AuditEntry]) -> tuple[set[int], set[str]]:
    """Ids and usernames of the volunteers these entries are about (an update row names only the id)."""
    ids = {int(e.object_id) for e in entries if e.object_type == "users" and e.object_id.isdigit()}
    names = {str(_load(e).get("username")) for e in entries if e.object_type == "signin_attempts"}
    if not ids and not names:
        return set(), set()
    rows = db.session.execute(sa.select(User.id, User.username).where(
        User.role == Role.VOLUNTEER, sa.or_(User.id.in_(ids), User.username.in_(names)))).all()
    return {r.id for r in rows}, {r.username for r in rows}


def _load(entry: AuditEntry) -> dict:
    try:
        data = json.loads(entry.data)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _about_volunteer(entry: AuditEntry, data: dict, ids: set[int], names: set[str]) -> bool:
    if entry.object_type == "users":
        # The row's own role counts too: an account that was a volunteer when written stays covered.
        return data.get("role") == Role.VOLUNTEER.value or (entry.object_id.isdigit() and int(entry.object_id) in ids)
    if entry.object_type == "signin_attempts":
        return data.get("username") in names
    return False


def readable(entries: list[AuditEntry], viewer: User) -> list[EntryView]:
    """The entries as `viewer` may read them, volunteers' personal fields replaced by a marker."""
    ids, names = _volunteers(entries)
    marker = _("(hidden: a volunteer's personal data)")
    views = []
    for entry in entries:
        view = EntryView(entry.id, entry.at, entry.actor_id, entry.action, entry.object_type, entry.object_id,
                         entry.data)
        data = _load(entry)
        if _about_volunteer(entry, data, ids, names):
            hidden = PERSONAL.get(entry.object_type, ()) + (
                () if viewer.role is Role.ADMIN else ADMIN_ONLY.get(entry.object_type, ()))
            data = {k: marker if k in hidden and v is not None else v for k, v in data.items()}
            view = replace(view, data=json.dumps(data, ensure_ascii=False, sort_keys=True))
        views.append(view)
    return views


# ---- The record in people's words ------------------------------------------------------------------
# What a person reads first: "整改单 #12 · 状态：待整改 → 已反馈", by whom and when. The raw record stays
# one tap away (the page's toggle) for auditors, with the same redaction as above.

def object_noun(object_type: str) -> str:
    """One recorded thing, as a person names it (object_label is the plural for the filter chips)."""
    nouns = {
        "answers": _("Answer"), "auth_sessions": _("Sign-in session"), "checklist_items": _("Checklist item"),
        "complaints": _("Complaint"), "complaint_replies": _("Complaint reply"), "complaint_photos": _("Complaint photo"),
        "tasks": _("Task"), "plans": _("Visit plan"), "reviews": _("Accountability review"), "recusals": _("Recusal"), "self_reports": _("School's daily report"),
        "checklist_templates": _("Checklist"), "daily_reports": _("Daily report"), "findings": _("Problem"),
        "identity_reveals": _("Identity reveal"), "photos": _("Photo"), "retired_qr_tokens": _("Replaced code"),
        "school_assignments": _("Assignment"), "schools": _("School"), "signin_attempts": _("Sign-in attempt"),
        "template_versions": _("Checklist version"), "ticket_event_photos": _("Ticket photo"),
        "ticket_events": _("Ticket step"), "tickets": _("Ticket"), "users": _("Account"),
        "visits": _("Visit record"), "volunteer_child_schools": _("Child's school"),
        "circulars": _("Daily circular"), "circular_named_schools": _("School named in a circular"),
        "circular_reads": _("Circular read receipt"), "hand_overs": _("Hand-over sheet"),
        "volunteer_invitations": _("Volunteer invitation"), "volunteer_agreements": _("Volunteer agreement"),
    }
    return nouns.get(object_type, object_type)


def field_label(name: str) -> str | None:
    """A recorded column's name on screen; None for bookkeeping a person need not read (shown raw)."""
    labels = {
        "status": _("Status"), "deadline": _("Deadline"), "severity": _("Severity"), "note": _("Note"),
        "text": _("Text"), "description": _("Description"), "display_name": _("Real name"),
        "pseudonym": _("Pseudonym"), "role": _("Role"), "active": _("Enabled"), "email": _("E-mail"),
        "phone": _("Phone"), "school_id": _("School"), "username": _("Username"),
        "manages_volunteers": _("Volunteer programme admin"), "password_hash": _("Password"),
        "must_change_password": _("Must change password"), "password_changed_at": _("Password changed"),
        "disabled_at": _("Disabled at"), "signin_cleared_at": _("Failed sign-ins cleared"),
        "name": _("Name"), "name_zh": _("Name"), "district": _("District"), "kind": _("Kind"),
        "address": _("Address"), "radius_m": _("Radius (m)"), "qr_token": _("QR code"),
        "qr_issued_at": _("Code issued"), "result": _("Result"), "mode": _("Kind of visit"),
        "submitted_at": _("Submitted"), "started_at": _("Started"), "closed_at": _("Closed"),
        "opened_at": _("Opened"), "escalation_level": _("Escalation"), "fixed_on_site": _("Fixed on the spot"),
        "signed_at": _("Signed"), "signed_by_id": _("Signed by"), "reason": _("Reason"), "number": _("Version"),
        "code": _("Code"), "text_zh": _("Requirement"), "section_zh": _("Section"),
        "deadline_hours": _("Deadline (hours)"), "photo_required": _("Photo required"),
        "document_evidence": _("Shown by a document"), "desk_review": _("Closed out from the desk"),
        "user_id": _("Person"), "volunteer_id": _("Volunteer"), "succeeded": _("Succeeded"),
        "acknowledged_at": _("Signed for"), "acknowledged_by_id": _("Signed for by"), "issued_at": _("Issued"),
        "issued_by_id": _("Issued by"), "sent_at": _("Sent"), "sent_by_id": _("Sent by"), "read_at": _("Read"),
        "escalated_at": _("Escalated as late"),
    }
    return labels.get(name)


@dataclass(frozen=True)
class Change:
    label: str | None  # None: shown by its recorded name (in the raw record's type)
    name: str
    before: str | None  # None: nothing earlier in the record (or a new row)
    after: str
    recorded: bool = False  # values with no words of their own (a bare code): shown as recorded


@dataclass(frozen=True)
class Described:
    entry: EntryView
    title: str  # "整改单 #12"
    verb: str  # "修改"
    who: str
    changes: list[Change] = field(default_factory=list)


def _columns() -> dict[str, dict[str, sa.Column]]:
    return {table.name: {c.name: c for c in table.columns} for table in db.metadata.tables.values()}


def _enum_class(column: sa.Column | None):
    return getattr(getattr(column, "type", None), "enum_class", None)


def _recorded(column: sa.Column | None) -> bool:
    """An enum without labels (a visit's status): its values are codes, not words."""
    enum_class = _enum_class(column)
    return enum_class is not None and not issubclass(enum_class, LabelledEnum)


def _is_time(column: sa.Column) -> bool:
    try:
        return column.type.python_type is datetime
    except NotImplementedError:
        return False


def _shown(value, column: sa.Column | None) -> str:
    """A recorded value as a person reads it: an enum's label, yes/no, a local time, "—" for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    enum_class = _enum_class(column)
    if enum_class is not None and issubclass(enum_class, LabelledEnum):
        try:
            return enum_class(value).label
        except ValueError:
            return str(value)
    if isinstance(value, str) and column is not None and _is_time(column):
        try:
            return date_time(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def _earlier(views: list[EntryView], viewer: User) -> dict[tuple[str, str], list[EntryView]]:
    """Earlier entries about the same objects (readable by this viewer), oldest first: an update records
    only the new values, and "before" is what the object held in the record just before it."""
    pairs = {(v.object_type, v.object_id) for v in views if v.action == "update"}
    if not pairs:
        return {}
    newest = max(v.id for v in views)
    rows = db.session.scalars(sa.select(AuditEntry).where(
        sa.tuple_(AuditEntry.object_type, AuditEntry.object_id).in_(sorted(pairs)), AuditEntry.id < newest)
        .order_by(AuditEntry.id)).all()
    history: dict[tuple[str, str], list[EntryView]] = {}
    for view in readable(rows, viewer):
        history.setdefault((view.object_type, view.object_id), []).append(view)
    return history


def _before(history: list[EntryView], entry_id: int, key: str):
    found = None
    for view in history:
        if view.id >= entry_id:
            break
        data = json.loads(view.data) if view.data else {}
        if isinstance(data, dict) and key in data:
            found = data[key]
    return found


def describe(views: list[EntryView], viewer: User) -> list[Described]:
    """Each (already redacted) entry as a sentence: what, which field from what to what, who, when."""
    columns = _columns()
    history = _earlier(views, viewer)
    actor_ids = {v.actor_id for v in views if v.actor_id}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    verbs = {"create": _("created"), "update": _("changed"), "delete": _("deleted")}
    redacted_marker = "(changed)"
    described = []
    for view in views:
        try:
            data = json.loads(view.data) if view.data else {}
        except ValueError:
            data = {}
        table = columns.get(view.object_type, {})
        changes = []
        if view.action == "update" and isinstance(data, dict):
            earlier = history.get((view.object_type, view.object_id), [])
            for key, value in data.items():
                if key == "id":
                    continue
                if value == redacted_marker:
                    changes.append(Change(field_label(key), key, None, _("changed (not shown)")))
                    continue
                before = _before(earlier, view.id, key)
                changes.append(Change(field_label(key), key,
                                      None if before is None and not earlier else _shown(before, table.get(key)),
                                      _shown(value, table.get(key)), _recorded(table.get(key))))
        elif ":" in view.object_id and isinstance(data, dict):
            # A link (who checks which school, a volunteer's child's school): both ends are the news.
            changes = [Change(field_label(k), k, None, _shown(v, table.get(k))) for k, v in sorted(data.items())]
        actor = actors.get(view.actor_id)
        who = actor.name_for(viewer) if actor else (_("user %(id)s", id=view.actor_id) if view.actor_id
                                                     else _("System"))
        described.append(Described(view, f"{object_noun(view.object_type)} #{view.object_id}",
                                   verbs.get(view.action, view.action), who, changes))
    return described
