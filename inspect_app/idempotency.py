"""Idempotent PUTs under concurrency: the first writer wins, every other request answers as a replay.

Two requests carrying the same client-chosen id (a phone's outbox retrying, two tabs, a flaky
network) can both look, both find nothing and both write. The loser then meets the winner's row: a
unique violation on the id (IntegrityError), or, on a row with a version counter, an update that
matched nothing (StaleDataError). That is neither the client's fault nor a server error. The loser
rolls back and runs its attempt once more; the attempt now finds the winner's row and answers
exactly as a later replay would: 200 for the same body, 409 for a different one.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from inspect_app.extensions import db

T = TypeVar("T")
LOST_RACE = (sa.exc.IntegrityError, StaleDataError)


def first_writer_wins(attempt: Callable[[], T]) -> T:
    """Run `attempt` and commit; after losing a race to a concurrent writer, roll back and run it again.

    `attempt` must look for an existing row before writing (that is what makes it idempotent). A
    second loss is raised to the caller: it is no longer the same race.
    """
    try:
        result = attempt()
        db.session.commit()
        return result
    except LOST_RACE:
        db.session.rollback()
    result = attempt()
    db.session.commit()
    return result


def body_hash(body: dict) -> str:
    """What a replay of an idempotent PUT must match: the same client id with another body is a conflict."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
