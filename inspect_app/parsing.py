"""One parsing layer for everything a client sends: ids, times, days, numbers, text and JSON bodies.

Each helper refuses what the database or the calendar cannot hold (a 26-digit id, year 1 in +01:00,
a NUL byte, a lone UTF-16 surrogate) with a FieldError whose message is for the user, so no input
reaches a place where it would become a 500. The URL converter and the request guard below apply
the same rules to paths, query strings and forms before any view runs.
"""
from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone

from flask import Flask, current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from inspect_app.errors import DomainError, refuse

# Ids are INTEGER columns: 32-bit signed on PostgreSQL (64-bit on SQLite, the smaller one rules).
MAX_ID = 2**31 - 1
# Far past any list's last page, and small enough that page × page size stays a 64-bit offset.
MAX_PAGE = 1_000_000
# Inspections began long after 2000 and the app will not outlive 2100; anything outside is a typo or
# a probe, and far enough from year 1 and 9999 that a time-zone shift cannot overflow.
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
# NUL (PostgreSQL refuses it in text) and lone surrogates (not encodable as UTF-8).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


class FieldError(DomainError):
    """A field the client sent is malformed; the message is for the user."""

    status = 422


def in_url(parse, value, status: int = 404):
    """`parse(value)` for a value taken from the address (a path segment, the query string): malformed,
    it names nothing, so the refusal carries `status` (404; 400 for a query a page cannot read) with
    the parser's message, and no view needs a try/except to say so."""
    try:
        return parse(value)
    except FieldError as error:
        raise FieldError(error.message, status) from None


def or_none(parse, value):
    """`parse(value)`, or None where the value is malformed: for what a client adds unasked (its clock,
    a hidden field's replay key), which must never refuse the step it came with."""
    try:
        return parse(value)
    except FieldError:
        return None


def parse_uuid(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise FieldError(_("“%(value)s” is not a valid id.", value=_shown(value))) from None


def parse_id(value, name: str, text: bool = False) -> int | None:
    """A database id: in JSON an integer (never true/false or "1"); with text=True, the digits of a query string."""
    if value is None or (value == "" and not text):
        return None
    # Twenty digits already overflow 64 bits; a longer string is not converted at all.
    if text and isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value) if len(value) <= 20 else MAX_ID + 1
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(_("%(name)s must be a whole number.", name=name))
    if not 1 <= value <= MAX_ID:
        raise FieldError(_("%(name)s is not an id we could have issued.", name=name))
    return value


def id_arg(value: str) -> int:
    """For ``request.args.get(name, type=id_arg)``: a malformed or impossible id reads as absent."""
    try:
        return parse_id(value, "id", text=True)
    except FieldError as error:
        raise ValueError(str(error)) from None


def page_arg(value: str) -> int:
    """For ``request.args.get("page", 1, type=page_arg)``: a page number whose offset the database can hold."""
    if not (value.isascii() and value.isdigit()) or len(value) > 20 or not 1 <= int(value) <= MAX_PAGE:
        raise ValueError(value)
    return int(value)


def parse_time(value: str | None) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise FieldError(_("“%(value)s” is not a time with an offset (ISO 8601).", value=_shown(value)))
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(_("“%(value)s” is not a time with an offset (ISO 8601).", value=_shown(value))) from None
    if moment.tzinfo is None:
        raise FieldError(_("The time “%(value)s” needs an offset, such as +08:00.", value=_shown(value)))
    try:
        in_range = EARLIEST <= moment < LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise FieldError(_("The time “%(value)s” is outside the years 2000–2099.", value=_shown(value)))
    return moment


def parse_day(value: str | None) -> date | None:
    """A calendar day written YYYY-MM-DD, within the years the app can report on."""
    if value in (None, ""):
        return None
    try:
        day = date.fromisoformat(value)
    except (TypeError, ValueError):
        raise FieldError(_("Dates are written YYYY-MM-DD.")) from None
    if not EARLIEST.date() <= day < LATEST.date():
        raise FieldError(_("The date “%(value)s” is outside the years 2000–2099.", value=_shown(value)))
    return day


def parse_month(value: str | None) -> date | None:
    """A calendar month written YYYY-MM, as its first day, within the years the app can report on."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}", value):
        raise FieldError(_("Months are written YYYY-MM."))
    return parse_day(value + "-01")


def parse_number(value, low: float, high: float, name: str) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise FieldError(_("%(name)s must be a number.", name=name))
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise FieldError(_("%(name)s must be a number.", name=name)) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise FieldError(_("%(name)s must be between %(low)s and %(high)s.", name=name, low=low, high=high))
    return number


# A position as a phone's GPS gives it, and the bounds every way in holds it to (the API's schema, the
# visit page's form, a photo's fields).
LAT_RANGE = (-90, 90)
LON_RANGE = (-180, 180)
ACCURACY_RANGE = (0, 100_000)  # metres


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    accuracy_m: float | None = None


def parse_location(lat, lon, accuracy_m=None) -> Location | None:
    """A position from a phone's numbers or their text: None when neither lat nor lon came, refused
    when only one did."""
    lat = parse_number(lat, *LAT_RANGE, "lat")
    lon = parse_number(lon, *LON_RANGE, "lon")
    accuracy = parse_number(accuracy_m, *ACCURACY_RANGE, "accuracy_m")
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise FieldError(_("Send both lat and lon, or neither."))
    return Location(lat, lon, accuracy)


def parse_text(value, name: str, limit: int) -> str:
    """Text stripped of surrounding space; refused (not cut) past `limit` characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldError(_("%(name)s must be text.", name=name))
    value = value.strip()
    if len(value) > limit:
        raise FieldError(_("%(name)s is too long: at most %(limit)s characters (you sent %(n)s).",
                           name=name, limit=limit, n=len(value)))
    if _UNSTORABLE.search(value):
        raise FieldError(_("%(name)s contains characters that cannot be stored.", name=name))
    return value


def _shown(value) -> str:
    """A short, printable echo of what was sent, for an error message."""
    return _UNSTORABLE.sub("\ufffd", str(value)[:40])


class BodyTooLarge(DomainError):
    """The JSON body is over its size or nesting limit."""

    status = 413


def load_json(data: bytes, max_depth: int):
    """Parse a JSON document, refusing deep nesting and text that cannot be stored."""
    try:
        document = json.loads(data)
    except RecursionError:
        raise BodyTooLarge(_("The request is nested too deeply (at most %(n)s levels).", n=max_depth)) from None
    except ValueError:
        # Also invalid UTF-8 (UnicodeDecodeError is a ValueError).
        raise FieldError(_("The request body is not valid JSON."), 400) from None
    _check_document(document, max_depth, strings=_may_hold_unstorable(data))
    return document


def _may_hold_unstorable(data: bytes) -> bool:
    """Whether a parsed string of `data` could hold a NUL or a lone surrogate. Only three ways lead there:
    a \\u escape, a UTF-16 or UTF-32 body (json.loads detects them by their NUL bytes) and a surrogate
    written in UTF-8 (0xED 0xA0–0xBF, which json.loads lets through). Without any of those bytes no
    string needs reading: a whole visit's ~150 strings were most of this check's time (issue 18)."""
    return b"\\u" in data or b"\x00" in data or b"\xed" in data


def _check_document(document, max_depth: int, strings: bool = True) -> None:
    # Iterative, so a document just under the parser's recursion limit costs no stack here either.
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if strings and _UNSTORABLE.search(node):
                raise FieldError(_("The request contains characters that cannot be stored "
                                   "(a NUL byte or a lone surrogate)."), 400)
        elif isinstance(node, (dict, list)):
            if depth > max_depth:
                raise BodyTooLarge(_("The request is nested too deeply (at most %(n)s levels).", n=max_depth))
            if isinstance(node, dict):
                if strings:
                    stack.extend((key, depth) for key in node)
                node = node.values()
            stack.extend((child, depth + 1) for child in node if strings or isinstance(child, (dict, list)))


def json_document():
    """The request's JSON body within JSON_MAX_BYTES and JSON_MAX_DEPTH (413 past them, 400 if broken),
    parsed and checked once per request (the validation and the view both read it; neither changes it).
    Kept on the request, not on `g`: an app context outlives its request where one was pushed around it."""
    if hasattr(request, "parsed_json_document"):
        return request.parsed_json_document
    config = current_app.config
    # Werkzeug stops reading past this (chunked bodies too) and raises 413 before anything is parsed.
    request.max_content_length = config["JSON_MAX_BYTES"]
    try:
        data = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise BodyTooLarge(_("The request is too large: at most %(kb)s KB.",
                             kb=config["JSON_MAX_BYTES"] // 1024)) from None
    request.parsed_json_document = load_json(data, config["JSON_MAX_DEPTH"])
    return request.parsed_json_document


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in every route: an id past the column's range is simply not found (404), never a database error."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)


def _unstorable_input() -> bool:
    sources = [request.args] + ([request.form] if request.mimetype in _FORM_TYPES else [])
    return any(isinstance(text, str) and _UNSTORABLE.search(text)
               for values in sources for pair in values.items(multi=True) for text in pair)


_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def init_app(app: Flask) -> None:
    """Register the bounded `int` converter (before any blueprint) and the query/form guard."""
    app.url_map.converters["int"] = BoundedIntConverter

    @app.before_request
    def refuse_unstorable_input():
        if _unstorable_input():
            refuse(400, _("The request contains characters that cannot be stored "
                        "(a NUL byte or a lone surrogate)."))
