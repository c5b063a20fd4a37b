"""How the daily report reads: times as an official document writes them, its photos for the PDF."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from babel.dates import format_skeleton
from flask_babel import get_locale, get_timezone

from inspect_app.extensions import db
from inspect_app.photos.services import thumbnails
from inspect_app.reports import bp


def _moment(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@bp.app_template_filter("document_time")
def document_time(value: datetime | str | None) -> str:
    """"2026年11月25日 16:00" in Chinese, in the bureau's zone: never an ISO string on a document."""
    if value is None:
        return ""
    local = _moment(value).astimezone(get_timezone())
    return f"{format_skeleton('yMMMd', local, locale=get_locale())} {local.strftime('%H:%M')}"


def document_day(value: date | datetime | str) -> date:
    """The bureau's calendar day of a moment (a datetime or its ISO string, as a report keeps it), not
    its UTC day; a bare YYYY-MM-DD is a calendar day already and is not moved between zones."""
    if isinstance(value, str) and len(value) == 10:
        return date.fromisoformat(value)
    if not isinstance(value, (datetime, str)):
        return value
    return _moment(value).astimezone(get_timezone()).date()


@bp.app_template_filter("document_date")
def document_date(value: date | datetime | str | None) -> str:
    """"2026年11月25日", the bureau's day (document_day)."""
    if value is None:
        return ""
    return format_skeleton("yMMMd", document_day(value), locale=get_locale())


def first_photos(content: dict) -> dict[str, bytes]:
    """The thumbnail of each problem's first photo, by a name the PDF template refers to it by."""
    return thumbnails([p["photos"][0] for school in content["problems_by_school"] for p in school["problems"]
                       if p["photos"]])


def circular_excerpt(content: dict, named_ids: set[int], school_id: int) -> dict:
    """What one school sees of a circular: its own problems, good practice and overdue tickets when
    it is named, and the good practice of every named school. Never another school's problems, and
    nothing of who checked, how (a covert check) or when: only what a problem is and how serious."""
    from inspect_app.reports.circulars import items_by_school
    from inspect_app.tickets.models import Ticket
    items = items_by_school(content)
    own = items.get(school_id) if school_id in named_ids else None
    overdue = []
    if own is not None and content["overdue"]:
        ours = set(db.session.scalars(sa.select(Ticket.id).where(
            Ticket.id.in_([t["ticket_id"] for t in content["overdue"]]), Ticket.school_id == school_id)))
        overdue = [{"description": t["description"], "deadline": t["deadline"]}
                   for t in content["overdue"] if t["ticket_id"] in ours]
    return {
        "named": own is not None,
        "problems": [{"description": p["description"], "severity": p["severity"],
                      "fixed_on_site": p["fixed_on_site"]} for p in (own or {}).get("problems", [])],
        "good": (own or {}).get("good", []),
        "overdue": overdue,
        "district_good": [{"school": items[i]["school"], "note": note}
                          for i in sorted(named_ids & set(items), key=lambda i: items[i]["school"])
                          for note in items[i]["good"]],
    }
