"""What each viewer sees of a complaint, decided once for the pages and the API alike.

The public (whoever holds the code) sees the status, the day it was received and the bureau's public
replies: never a staff name, an internal note, the contact, photos or any other complaint. The bureau
sees the whole complaint; the contact only where access.shows_contact allows.
"""
from __future__ import annotations

from inspect_app.accounts.models import User
from inspect_app.complaints.access import shows_contact
from inspect_app.complaints.models import Complaint


def public_view(complaint: Complaint) -> dict:
    return {"status": complaint.status, "school_name": complaint.school.name, "received_at": complaint.received_at,
            "replies": [{"text": reply.text, "at": reply.at} for reply in complaint.replies]}


def bureau_view(complaint: Complaint, viewer: User) -> dict:
    view = {"id": complaint.id, "status": complaint.status, "school_id": complaint.school_id,
            "school_name": complaint.school.name, "district": complaint.school.district,
            "text": complaint.text, "source": complaint.source, "anonymous": complaint.anonymous,
            "received_at": complaint.received_at, "triaged_at": complaint.triaged_at,
            "closed_at": complaint.closed_at, "ticket_id": complaint.ticket_id,
            "photo_ids": [p.photo_id for p in complaint.photos],
            "replies": [{"text": r.text, "at": r.at, "author": r.author.name_for(viewer) if r.author else None}
                        for r in complaint.replies]}
    if shows_contact(viewer):
        view["contact"] = complaint.contact
        view["contact_erased"] = complaint.contact_erased_at is not None
    return view
