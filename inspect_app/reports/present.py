"""How the daily report reads: times as an official document writes them, its photos for the PDF."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from babel.dates import format_skeleton
from flask_babel import get_locale, get_timezone

from inspect_app.extensions import db
from inspect_app.photos.models import Photo
from inspect_app.photos.storage import storage
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


@bp.app_template_filter("document_date")
def document_date(value: datetime | str | None) -> str:
    """"2026年11月25日"; a bare YYYY-MM-DD is a calendar day and is not moved between zones."""
    if value is None:
        return ""
    if isinstance(value, str) and len(value) == 10:
        value = date.fromisoformat(value)
    if not isinstance(value, datetime):
        return format_skeleton("yMMMd", value, locale=get_locale())
    return format_skeleton("yMMMd", _moment(value).astimezone(get_timezone()), locale=get_locale())


def first_photos(content: dict) -> dict[str, bytes]:
    """The thumbnail of each problem's first photo, by a name the PDF template refers to it by."""
    wanted = [p["photos"][0] for school in content["problems_by_school"] for p in school["problems"] if p["photos"]]
    found = {}
    for photo in db.session.scalars(sa.select(Photo).where(Photo.id.in_(wanted))) if wanted else []:
        try:
            found[photo.id] = storage().get(photo.key("thumb"))
        except FileNotFoundError:  # a missing file leaves its problem without a picture, not the PDF
            continue
    return found
