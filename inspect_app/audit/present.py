"""The audit record as one viewer may read it: a volunteer's personal fields stay behind the logged reveal.

The chain stores every column as it was written (that is what it proves); redaction happens here, on
the way out, the same for every view of it. Everywhere else a volunteer is known by pseudonym, and only
the volunteer programme admin sees the real name, through a reveal that is itself recorded
(accounts.reveal_identity): the audit trail must not be a way round that.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace

import sqlalchemy as sa
from flask_babel import gettext as _

from inspect_app.accounts.models import Role, User
from inspect_app.audit.models import AuditEntry
from inspect_app.extensions import db

# What identifies the person behind a volunteer's pseudonym. The sign-in name is an admin's working
# tool (the account list shows it to admins), so only other viewers lose it.
PERSONAL = {"users": ("display_name", "email"), "signin_attempts": ("ip",)}
ADMIN_ONLY = {"users": ("username",), "signin_attempts": ("username",)}


def object_label(object_type: str) -> str:
    """What a recorded table is called on screen; the stored name stays the record's (and the filter's)."""
    labels = {
        "answers": _("Answers"), "auth_sessions": _("Sign-in sessions"), "complaints": _("Complaints"),
        "complaint_replies": _("Complaint replies"), "complaint_photos": _("Complaint photos"), "tasks": _("Tasks"), "checklist_items": _("Checklist items"),
        "checklist_templates": _("Checklists"), "daily_reports": _("Daily reports"), "findings": _("Problems"),
        "identity_reveals": _("Identity reveals"), "notifications": _("Notices"), "photos": _("Photos"),
        "retired_qr_tokens": _("Replaced codes"), "school_assignments": _("Assignments"),
        "schools": _("Schools"), "signin_attempts": _("Sign-in attempts"),
        "template_versions": _("Checklist versions"), "ticket_event_photos": _("Ticket photos"),
        "ticket_events": _("Ticket steps"), "tickets": _("Tickets"), "users": _("Accounts"),
        "visits": _("Visit records"), "volunteer_child_schools": _("Children's schools"),
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
