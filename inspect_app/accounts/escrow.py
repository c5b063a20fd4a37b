"""Identity escrow: a volunteer's real name and phone, sealed with a key that is not in the database.

Everyone, the app's own pages included, knows a volunteer by pseudonym; who they really are is needed
only when something goes wrong (a parent behaved badly at a gate, a complaint about a check) and then
only by the programme coordinator, through a logged reveal (accounts.routes.reveal_identity). So the
database holds the identity only as a Fernet token (AES-128-CBC + HMAC-SHA256 from the `cryptography`
package, never home-made): a copy of the database, a backup or a read-only SQL account tells nobody
who the volunteers are.

VOLUNTEER_IDENTITY_KEYS lists Fernet keys, newest first (commas or newlines between them), or, when
unset, one key generated once into instance/volunteer_identity_keys (as the audit keys are). The first
key seals; every listed key opens (MultiFernet). Rotating: put a new key in front (`flask volunteers
new-key`), restart every process, run `flask volunteers rekey` (re-seals every identity with the new
key), then drop the old key. docs/volunteers.md says the same step by step.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class IdentityKeyError(ValueError):
    pass


@dataclass(frozen=True)
class Identity:
    real_name: str
    phone: str | None


@lru_cache(maxsize=8)
def parse(text: str) -> MultiFernet:
    keys = [k.strip() for k in re.split(r"[,\n]", text or "") if k.strip()]
    if not keys:
        raise IdentityKeyError("VOLUNTEER_IDENTITY_KEYS lists no key (Fernet keys, newest first; "
                               "`flask volunteers new-key` prints one)")
    fernets = []
    for n, key in enumerate(keys, 1):
        try:
            fernets.append(Fernet(key.encode()))
        except ValueError:
            # Never echo the value: it is a secret, and this message may reach a log.
            raise IdentityKeyError(f"VOLUNTEER_IDENTITY_KEYS: key number {n} is not a Fernet key "
                                   f"(32 url-safe base64-encoded bytes; `flask volunteers new-key` prints one)") from None
    return MultiFernet(fernets)


def _keys() -> MultiFernet:
    return parse(current_app.config["VOLUNTEER_IDENTITY_KEYS"])


def new_key() -> str:
    return Fernet.generate_key().decode()


def seal(identity: Identity) -> str:
    payload = json.dumps({"real_name": identity.real_name, "phone": identity.phone}, ensure_ascii=False)
    return _keys().encrypt(payload.encode()).decode()


def unseal(token: str) -> Identity:
    """The identity behind a sealed token; IdentityKeyError when no listed key opens it (a key was
    dropped before `rekey` ran, or the column was tampered with)."""
    try:
        data = json.loads(_keys().decrypt(token.encode()))
    except InvalidToken:
        raise IdentityKeyError("no key in VOLUNTEER_IDENTITY_KEYS opens this identity") from None
    return Identity(real_name=data["real_name"], phone=data.get("phone"))


def reseal(token: str) -> str:
    """The same identity sealed with the newest key (MultiFernet.rotate keeps the original timestamp)."""
    try:
        return _keys().rotate(token.encode()).decode()
    except InvalidToken:
        raise IdentityKeyError("no key in VOLUNTEER_IDENTITY_KEYS opens this identity") from None
