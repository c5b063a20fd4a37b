"""Sign-in throttling that stops guessing without locking the account's owner out.

The scheme is OWASP's "slow down online guessing attacks with device cookies" (the idea behind
django-axes' lockout per username and address, and behind the "recognised devices" of GitHub or
Dropbox):

- failures are counted per (account, client); the client is the browser when it carries a device
  cookie from an earlier successful sign-in to this account, and otherwise the network address;
- after a few failures each further attempt from that client must wait twice as long as the one
  before, and one client gets at most SIGNIN_MAX_FAILURES_PER_CLIENT guesses at an account per window;
- clients the account does not recognise get at most SIGNIN_MAX_FAILURES_PER_ACCOUNT guesses at it
  per window all together, and one address may fail on at most SIGNIN_MAX_ACCOUNTS_PER_ADDRESS
  accounts per window (password spraying);
- a recognised device is judged by its own failures only, so no stranger's guesses, from however
  many addresses, lock the owner's phone out; and a stranger at one address never blocks the owner
  at another, nor a colleague behind the same school NAT.
A refused attempt checks no password (it must not become an oracle) and is not counted.
The counts live in the database so they hold across worker processes and hosts.
"""
from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from inspect_app.accounts.models import SignInAttempt, User
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db

DEVICE_COOKIE = "signin_device"
# A shared school computer may be used by a few staff; older entries simply stop being recognised.
ACCOUNTS_PER_DEVICE = 8


class SignInThrottled(Exception):
    """Too many failed attempts from this client (or at this account); try again later."""

    def __init__(self, retry_after_s: int):
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Client:
    """Who is knocking: a device this account recognises, or else just an address."""

    ip: str
    device: str | None = None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="signin-device")


def _read_device_cookie(raw: str | None) -> dict | None:
    if not raw:
        return None
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return None
    if not (isinstance(data, dict) and isinstance(data.get("d"), str)
            and isinstance(data.get("u"), list)):
        return None
    return data


def client_for(username: str, ip: str, device_cookie: str | None) -> Client:
    """The client behind a request: its device counts only if it signed in to this account before."""
    data = _read_device_cookie(device_cookie)
    device = data["d"] if data and username in data["u"] else None
    return Client(ip=(ip or "")[:45], device=device)


def remembered_device_cookie(device_cookie: str | None, username: str) -> str:
    """The device cookie after a successful sign-in: this browser is now recognised for the account."""
    data = _read_device_cookie(device_cookie) or {"d": secrets.token_urlsafe(16), "u": []}
    accounts = [u for u in data["u"] if u != username] + [username]
    return _serializer().dumps({"d": data["d"], "u": accounts[-ACCOUNTS_PER_DEVICE:]})


def _counted_since(username: str, now: datetime) -> datetime:
    since = now - current_app.config["SIGNIN_WINDOW"]
    cleared = db.session.scalar(sa.select(User.signin_cleared_at).where(User.username == username))
    return max(since, cleared) if cleared else since


def _this_client(username: str, client: Client):
    if client.device:
        return sa.and_(SignInAttempt.username == username, SignInAttempt.device == client.device)
    return sa.and_(SignInAttempt.username == username, SignInAttempt.ip == client.ip,
                   SignInAttempt.device.is_(None))


def _waits(username: str, client: Client, now: datetime):
    """Every reason this client must wait now, as the moments each one ends."""
    cfg = current_app.config
    window = cfg["SIGNIN_WINDOW"]
    since = _counted_since(username, now)
    mine = _this_client(username, client)
    failed = SignInAttempt.succeeded.is_(False)

    # The client's own failures since its last success: an owner's typo yesterday-and-today never adds up.
    last_ok = db.session.scalar(sa.select(sa.func.max(SignInAttempt.at))
                                .where(mine, SignInAttempt.succeeded.is_(True), SignInAttempt.at >= since))
    own_since = max(since, last_ok) if last_ok else since
    count, first, last = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(SignInAttempt.at), sa.func.max(SignInAttempt.at))
        .where(mine, failed, SignInAttempt.at >= own_since)).one()
    if count >= cfg["SIGNIN_MAX_FAILURES_PER_CLIENT"]:
        yield first + window
    elif count >= cfg["SIGNIN_FREE_FAILURES"]:
        yield last + cfg["SIGNIN_FIRST_DELAY"] * 2 ** (count - cfg["SIGNIN_FREE_FAILURES"])

    if client.device:
        return  # a recognised device answers only for itself
    count, first = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(SignInAttempt.at))
        .where(SignInAttempt.username == username, SignInAttempt.device.is_(None), failed,
               SignInAttempt.at >= since)).one()
    if count >= cfg["SIGNIN_MAX_FAILURES_PER_ACCOUNT"]:
        yield first + window

    # Spraying: how many accounts this address failed on (not how often: that is bounded above).
    accounts, first = db.session.execute(
        sa.select(sa.func.count(sa.distinct(SignInAttempt.username)), sa.func.min(SignInAttempt.at))
        .outerjoin(User, User.username == SignInAttempt.username)
        .where(SignInAttempt.ip == client.ip, SignInAttempt.device.is_(None), failed,
               SignInAttempt.at >= now - window,
               sa.or_(User.signin_cleared_at.is_(None), SignInAttempt.at > User.signin_cleared_at))).one()
    if accounts >= cfg["SIGNIN_MAX_ACCOUNTS_PER_ADDRESS"]:
        yield first + window


def check(username: str, client: Client) -> None:
    """Raise SignInThrottled (with the seconds to wait) when this client may not try now."""
    now = utcnow()
    until = max(_waits(username, client, now), default=None)
    if until is not None and until > now:
        raise SignInThrottled(max(1, math.ceil((until - now) / timedelta(seconds=1))))


def record(username: str, client: Client, succeeded: bool) -> None:
    db.session.add(SignInAttempt(username=username, ip=client.ip, device=client.device,
                                 succeeded=succeeded))
