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
The counts go through inspect_app/ratelimit.py (the `limits` library's moving window; Redis when
REDIS_URL is set, else the database) so they hold across worker processes and hosts. Every attempt
is also kept as a sign_in_attempts row: that is the record an administrator reads, not the count.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from inspect_app import ratelimit
from inspect_app.accounts.models import SignInAttempt, User
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


def _generation(username: str) -> str:
    """Part of every key about the account: an administrator's clearing starts new counts (the old
    ones are left to expire), in Redis as in the database."""
    cleared = db.session.scalar(sa.select(User.signin_cleared_at).where(User.username == username))
    return cleared.isoformat() if cleared else "-"


def _client_key(client: Client) -> tuple[str, str]:
    return ("device", client.device) if client.device else ("address", client.ip)


def _limits():
    cfg, window = current_app.config, current_app.config["SIGNIN_WINDOW"]
    return (ratelimit.limit("signin-client", cfg["SIGNIN_MAX_FAILURES_PER_CLIENT"], window),
            ratelimit.limit("signin-account", cfg["SIGNIN_MAX_FAILURES_PER_ACCOUNT"], window),
            ratelimit.limit("signin-accounts-per-address", cfg["SIGNIN_MAX_ACCOUNTS_PER_ADDRESS"], window))


_DELAY = ratelimit.Cooldown("signin-delay")


def _waits(username: str, client: Client):
    """Every reason this client must wait now, in seconds."""
    per_client, per_account, per_address = _limits()
    generation, mine = _generation(username), _client_key(client)
    # The client's own failures since its last success (a success clears them): a hard bound per
    # window, and before it the progressive delay started by the last failure.
    yield per_client.wait(username, generation, *mine)
    yield _DELAY.wait(username, generation, *mine)
    if client.device:
        return  # a recognised device answers only for itself
    yield per_account.wait(username, generation)
    # Spraying: how many accounts this address failed on (not how often: that is bounded above).
    yield per_address.wait(client.ip)


def check(username: str, client: Client) -> None:
    """Raise SignInThrottled (with the seconds to wait) when this client may not try now."""
    wait = max((w for w in _waits(username, client) if w is not None), default=None)
    if wait is not None:
        raise SignInThrottled(wait)


def record(username: str, client: Client, succeeded: bool) -> None:
    """Count the attempt (caller commits): the rows stay as the record, the counts go to ratelimit."""
    db.session.add(SignInAttempt(username=username, ip=client.ip, device=client.device,
                                 succeeded=succeeded))
    cfg = current_app.config
    per_client, per_account, per_address = _limits()
    generation, mine = _generation(username), _client_key(client)
    if succeeded:
        per_client.clear(username, generation, *mine)
        _DELAY.clear(username, generation, *mine)
        return
    per_client.hit(username, generation, *mine)
    failures = per_client.count(username, generation, *mine)
    if failures >= cfg["SIGNIN_FREE_FAILURES"]:
        delay = cfg["SIGNIN_FIRST_DELAY"] * 2 ** (failures - cfg["SIGNIN_FREE_FAILURES"])
        _DELAY.start(delay.total_seconds(), username, generation, *mine)
    if client.device:
        return
    per_account.hit(username, generation)
    # An account counts once per address and window, however often the address failed on it.
    if ratelimit.limit("signin-address-account", 1, cfg["SIGNIN_WINDOW"]).hit(client.ip, username, generation):
        per_address.hit(client.ip)
