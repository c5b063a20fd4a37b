"""Counting requests across workers and hosts, on the `limits` library.

`limits` gives the strategies (a moving window: "at most N in any hour", so nobody times a burst
at a window's edge) and the storages. We use it directly rather than through Flask-Limiter: our
limits are not per route but per meaning (one client's guesses at one account, a school's
complaints), are checked in services before a password is hashed or a code looked up, and answer
with our own Chinese messages and Retry-After; Flask-Limiter's decorators and its 429 page would
be bypassed everywhere.

Where the counts live:
- `REDIS_URL` set: Redis (limits' RedisStorage; atomic Lua scripts), shared by every process on
  every machine. Keys carry `RATELIMIT_KEY_PREFIX` so test runs, or two deployments on one Redis,
  never count each other.
- otherwise the application's database (`DatabaseStorage` below, a limits storage of our own over
  the `rate_events` table): SQLite on a laptop is shared by `make run`'s gunicorn workers as it
  always was. Its entries are written in the request's own transaction (a refused request that
  rolls back counted nothing, as before); on PostgreSQL a transaction-level advisory lock per key
  makes "count, then add" one step across processes.
"""
from __future__ import annotations

import functools
import hashlib
import math
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from inspect_app.dbtypes import utcnow
from inspect_app.errors import refuse
from inspect_app.extensions import db

EXTENSION = "inspect_ratelimit"
# Moving-window entries and fixed counters share rate_events; a fixed counter's row carries the
# moment it expires (in the future), an entry the moment it was made.
ENTRY, COUNTER = "limits", "limits-counter"


def _digest(key: str) -> str:
    # rate_events.key is 64 characters: a limits key holds names and the client's keyed hash.
    return hashlib.sha256(key.encode()).hexdigest()


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


class DatabaseStorage(Storage, MovingWindowSupport):
    """The embedded default: a limits storage over the app's own database session."""

    STORAGE_SCHEME = ["inspect+database"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return sa.exc.SQLAlchemyError

    @staticmethod
    def now() -> datetime:
        return utcnow()

    def _lock(self, digest: str) -> None:
        """Serialise writers of one key across processes until the request's transaction ends."""
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"),
                               {"k": int(digest[:15], 16)})

    def _window(self, digest: str, expiry: float, now: datetime) -> tuple[float, int]:
        from inspect_app.complaints.models import RateEvent
        count, first = db.session.execute(sa.select(sa.func.count(), sa.func.min(RateEvent.at)).where(
            RateEvent.bucket == ENTRY, RateEvent.key == digest,
            RateEvent.at > now - timedelta(seconds=expiry))).one()
        return (_epoch(first) if first else _epoch(now)), count

    # Moving window (the strategy every limit here uses)
    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        from inspect_app.complaints.models import RateEvent
        digest, now = _digest(key), self.now()
        self._lock(digest)
        if self._window(digest, expiry, now)[1] + amount > limit:
            return False
        db.session.add_all(RateEvent(bucket=ENTRY, key=digest, at=now) for _ in range(amount))
        db.session.flush()
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        return self._window(_digest(key), expiry, self.now())

    # Fixed counters (limits' base storage API: a count that expires `expiry` s after its first hit)
    def _live_counter(self, digest: str, now: datetime):
        from inspect_app.complaints.models import RateEvent
        return db.session.execute(sa.select(sa.func.count(), sa.func.min(RateEvent.at)).where(
            RateEvent.bucket == COUNTER, RateEvent.key == digest, RateEvent.at > now)).one()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        from inspect_app.complaints.models import RateEvent
        digest, now = _digest(key), self.now()
        self._lock(digest)
        count, expires = self._live_counter(digest, now)
        expires = expires or now + timedelta(seconds=expiry)
        db.session.add_all(RateEvent(bucket=COUNTER, key=digest, at=expires) for _ in range(amount))
        db.session.flush()
        return count + amount

    def get(self, key: str) -> int:
        return self._live_counter(_digest(key), self.now())[0]

    def get_expiry(self, key: str) -> float:
        now = self.now()
        expires = self._live_counter(_digest(key), now)[1]
        return _epoch(expires or now)

    def clear(self, key: str) -> None:
        from inspect_app.complaints.models import RateEvent
        db.session.execute(sa.delete(RateEvent).where(RateEvent.bucket.in_((ENTRY, COUNTER)),
                                                      RateEvent.key == _digest(key)))

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        from inspect_app.complaints.models import RateEvent
        return db.session.execute(sa.delete(RateEvent).where(RateEvent.bucket.in_((ENTRY, COUNTER)))).rowcount


def init_app(app) -> None:
    """Choose the storage once per app: Redis when REDIS_URL is set, else the database."""
    url = app.config.get("REDIS_URL")
    if url:
        # Errors wrapped as limits' StorageError (answered 503 below); short timeouts, so a Redis
        # that stopped answering holds no worker for long.
        storage = storage_from_string(url, key_prefix=app.config["RATELIMIT_KEY_PREFIX"], wrap_exceptions=True,
                                      socket_timeout=2, socket_connect_timeout=2)
    else:
        storage = DatabaseStorage()
    app.extensions[EXTENSION] = storage


def storage() -> Storage:
    return current_app.extensions[EXTENSION]


def _now() -> float:
    store = storage()
    return _epoch(store.now()) if isinstance(store, DatabaseStorage) else time.time()


def _counted(method):
    """Redis not answering: 503 with Retry-After and a message in words, never a 500 and never a
    request let through uncounted (the limits exist because someone may be guessing right now)."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except StorageError:
            current_app.logger.exception("rate-limit storage unavailable")
            refuse(503, _("The service is briefly unavailable. Please try again in a minute."), Retry_After="60")
    return wrapper


def _item(amount: int, window: timedelta) -> RateLimitItemPerSecond:
    return RateLimitItemPerSecond(amount, max(1, int(window.total_seconds())))


class Limit:
    """At most `amount` hits per moving `window` for each key (one limit, many clients). The stored
    key carries the amount and the window (limits' `key_for`), so changing a setting starts fresh counts."""

    def __init__(self, name: str, amount: int, window: timedelta):
        self.name, self.item = name, _item(amount, window)
        self.limiter = MovingWindowRateLimiter(storage())

    @_counted
    def wait(self, *key: str) -> int | None:
        """Seconds until one more hit is allowed, or None when it is allowed now."""
        if self.limiter.test(self.item, self.name, *key):
            return None
        reset = self.limiter.get_window_stats(self.item, self.name, *key).reset_time
        return max(1, math.ceil(reset - _now()))

    @_counted
    def hit(self, *key: str) -> bool:
        """Count one hit; False (and nothing counted) when the limit was already reached."""
        return self.limiter.hit(self.item, self.name, *key)

    @_counted
    def count(self, *key: str) -> int:
        return self.item.amount - self.limiter.get_window_stats(self.item, self.name, *key).remaining

    @_counted
    def clear(self, *key: str) -> None:
        self.limiter.clear(self.item, self.name, *key)


def limit(name: str, amount: int, window: timedelta) -> Limit:
    return Limit(name, amount, window)


class Cooldown:
    """A wait that starts now and lasts `seconds` (limits' fixed counter with an expiry)."""

    def __init__(self, name: str):
        self.name = name

    def _key(self, *key: str) -> str:
        return "/".join(("cooldown", self.name, *key))

    @_counted
    def start(self, seconds: float, *key: str) -> None:
        store = storage()
        store.clear(self._key(*key))
        if seconds > 0:
            store.incr(self._key(*key), max(1, math.ceil(seconds)))

    @_counted
    def wait(self, *key: str) -> int | None:
        store = storage()
        if store.get(self._key(*key)) <= 0:
            return None
        left = store.get_expiry(self._key(*key)) - _now()
        return max(1, math.ceil(left)) if left > 0 else None

    @_counted
    def clear(self, *key: str) -> None:
        storage().clear(self._key(*key))
