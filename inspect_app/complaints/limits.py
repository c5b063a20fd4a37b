"""Rate limits for the public: submissions per address and per school, wrong tracking codes per address.

Per address, counted through inspect_app/ratelimit.py (the `limits` library: Redis when REDIS_URL is
set, else rows in rate_events), so they hold across gunicorn workers and hosts. Per school, the
complaints themselves are counted: they are in the database anyway. The address is kept only as a
keyed hash and only as long as a window needs it (`flask complaints purge-contacts` and the worker's
retention job prune older rows; Redis expires its own).
"""
from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import gettext as _

from inspect_app.complaints.models import Complaint, RateEvent
from inspect_app.dbtypes import utcnow
from inspect_app import ratelimit
from inspect_app.errors import refuse
from inspect_app.extensions import db

SUBMIT, CODE_MISS = "submit", "code_miss"
WINDOW = timedelta(hours=1)
SCHOOL_WINDOW = timedelta(days=1)


def client_key() -> str:
    address = (request.remote_addr or "")[:45]
    return hmac.new(current_app.secret_key.encode(), b"client:" + address.encode(), hashlib.sha256).hexdigest()


def _retry_after(first: datetime, window: timedelta, now: datetime) -> int:
    return max(1, math.ceil(((first + window) - now) / timedelta(seconds=1)))


def _too_many(message, seconds: int):
    """429 with Retry-After; `message(minutes)` words the wait for people."""
    refuse(429, message(max(1, math.ceil(seconds / 60))), Retry_After=str(seconds))


def _submissions() -> ratelimit.Limit:
    return ratelimit.limit("complaint-" + SUBMIT, current_app.config["COMPLAINTS_PER_ADDRESS_PER_HOUR"], WINDOW)


def _code_misses() -> ratelimit.Limit:
    return ratelimit.limit("complaint-" + CODE_MISS, current_app.config["COMPLAINT_CODE_MISSES_PER_HOUR"], WINDOW)


def check_submission(school_id: int) -> None:
    """429 with Retry-After when this address or this school has had its share of complaints."""
    cfg, now = current_app.config, utcnow()
    wait = _submissions().wait(client_key())
    if wait is not None:
        _too_many(lambda m: _("Too many complaints from this network in a short time. Please try again in "
                              "%(minutes)s minutes, or call the bureau's hotline.", minutes=m), wait)
    count, first = db.session.execute(sa.select(sa.func.count(), sa.func.min(Complaint.received_at)).where(
        Complaint.school_id == school_id, Complaint.logged_by_id.is_(None),
        Complaint.received_at >= now - SCHOOL_WINDOW)).one()
    if count >= cfg["COMPLAINTS_PER_SCHOOL_PER_DAY"]:
        _too_many(lambda m: _("This school has received very many complaints today. Please try again in "
                              "%(minutes)s minutes, or call the bureau's hotline.", minutes=m),
                  _retry_after(first, SCHOOL_WINDOW, now))


def count_submission() -> None:
    _submissions().hit(client_key())


def check_code_guessing() -> None:
    """Before a tracking code is looked up: an address that keeps missing is made to wait."""
    wait = _code_misses().wait(client_key())
    if wait is not None:
        current_app.logger.warning("complaint code guessing refused for client %s", client_key()[:12])
        _too_many(lambda m: _("Too many wrong tracking codes. Please check the code and try again in "
                              "%(minutes)s minutes.", minutes=m), wait)


def count_code_miss(shape_ok: bool) -> None:
    """A wrong code is counted (committed now: the 404 that follows rolls back) and logged."""
    _code_misses().hit(client_key())
    db.session.commit()
    current_app.logger.warning("complaint code miss (%s) from client %s",
                               "unknown" if shape_ok else "malformed", client_key()[:12])


def prune(now: datetime) -> int:
    """Rows older than every window that counts them (fixed counters carry their expiry: past it, gone)."""
    return db.session.execute(sa.delete(RateEvent).where(RateEvent.at < now - max(WINDOW, SCHOOL_WINDOW))).rowcount
