"""Pages of the API's lists: `?limit=` (at most MAX_PAGE) and `?cursor=`, answered with `next_cursor`
and `next` (the next page's address; null on the last page) and the same address in a `Link` header.

Keyset pages, not offsets: the cursor carries the sort key of the last row sent, and the next page
starts after it. A page then costs the same however deep it is (an offset makes the database count
through every row before it), and a row added or closed meanwhile neither repeats nor skips one. The
cursor only says where to resume: the list's own filters (who may see what) are applied to every
page, so a forged cursor shows nothing it would not show anyway.

A client that asks without `limit` and `cursor` gets the first MAX_PAGE rows in the order it always
got, as before (docs/limits.md).
"""
from __future__ import annotations

import base64
import binascii
import enum
import json
from datetime import datetime

import sqlalchemy as sa
from flask import request, url_for
from flask_babel import gettext as _

from inspect_app.api.schemas import MAX_PAGE
from inspect_app.errors import refuse
from inspect_app.extensions import db


def _plain(value):
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, enum.Enum):
        return value.value
    return value


def encode(values) -> str:
    text = json.dumps([_plain(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _typed(key, value):
    """The value as the key's column holds it; anything else is not a cursor we gave out."""
    column_type = key.type
    if isinstance(column_type, sa.types.TypeDecorator):  # UTCDateTime: a datetime underneath
        column_type = column_type.impl_instance
    kind = column_type.python_type
    if isinstance(value, dict):
        value = datetime.fromisoformat(value["t"])
        if kind is not datetime or value.tzinfo is None:
            raise ValueError
        return value
    if issubclass(kind, enum.Enum):
        return kind(value)
    if type(value) is not kind:  # an int is no bool, a str no int
        raise ValueError
    return value


def decode(cursor: str, keys: list) -> list:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError
        return [_typed(key, value) for key, value in zip(keys, values)]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        refuse(400, _("This page cursor is not one this list gave out."))


def page(query: sa.Select, keys: list, descending: bool = False, limit: int = MAX_PAGE,
         cursor: str | None = None) -> tuple[list, str | None]:
    """One page of `query` ordered by `keys` (columns ending in a unique one), and the cursor after it."""
    query = query.order_by(None)  # the keys are the order
    if cursor:
        after = decode(cursor, keys)
        resume = sa.tuple_(*keys) < sa.tuple_(*after) if descending else sa.tuple_(*keys) > sa.tuple_(*after)
        query = query.where(resume)
    query = query.order_by(*(key.desc() for key in keys) if descending else keys)
    rows = list(db.session.scalars(query.limit(limit + 1)))  # one more than asked says whether a page follows
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode([getattr(last, key.key) for key in keys])


def links(next_cursor: str | None, limit: int) -> dict:
    """The answer's page fields; the `Link` header is set by `with_link`."""
    if next_cursor is None:
        return {"next_cursor": None, "next": None}
    args = {**request.args.to_dict(), "cursor": next_cursor, "limit": limit}
    return {"next_cursor": next_cursor,
            "next": url_for(request.endpoint, **(request.view_args or {}), **args)}


def with_link(response, page_fields: dict):
    if page_fields["next"]:
        response.headers["Link"] = f'<{page_fields["next"]}>; rel="next"'
    return response
