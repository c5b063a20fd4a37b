"""The audit chain's HMAC keys: kept outside the database, so write access to the table alone
cannot forge an entry.

AUDIT_KEYS lists ``id:secret`` pairs, newest first (commas or newlines between them). The first one
signs new entries; every listed one verifies the entries that name it. Rotating means putting a new
pair in front and keeping the old ones: entries never change, and each names the key it was made with.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app

KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,16}")
MIN_SECRET_CHARS = 32


class AuditKeyError(ValueError):
    pass


@dataclass(frozen=True)
class Keyring:
    ids: tuple[str, ...]  # newest first
    secrets: dict[str, bytes]

    @property
    def current(self) -> str:
        return self.ids[0]

    def secret(self, key_id: str) -> bytes:
        """The secret of a listed key (KeyError for a key nobody listed)."""
        return self.secrets[key_id]

    def age(self, key_id: str) -> int:
        """0 for the newest key, 1 for the one before it, and so on."""
        return self.ids.index(key_id)


@lru_cache(maxsize=8)
def parse(text: str) -> Keyring:
    ids, found = [], {}
    for item in re.split(r"[,\n]", text or ""):
        item = item.strip()
        if not item:
            continue
        key_id, sep, secret = item.partition(":")
        if not sep or not KEY_ID.fullmatch(key_id):
            raise AuditKeyError(f"AUDIT_KEYS: {key_id[:16]!r} is not a key id (letters, digits, _ . -, "
                                f"at most 16); write id:secret pairs, newest first")
        if key_id in found:
            raise AuditKeyError(f"AUDIT_KEYS: the key id {key_id!r} is listed twice")
        if len(secret) < MIN_SECRET_CHARS:
            raise AuditKeyError(f"AUDIT_KEYS: the secret of {key_id!r} needs at least {MIN_SECRET_CHARS} "
                                f"characters (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)")
        ids.append(key_id)
        found[key_id] = secret.encode()
    if not ids:
        raise AuditKeyError("AUDIT_KEYS lists no key (expected id:secret, newest first)")
    return Keyring(tuple(ids), found)


def keyring() -> Keyring:
    return parse(current_app.config["AUDIT_KEYS"])


def new_key(key_id: str) -> str:
    """A fresh ``id:secret`` pair for AUDIT_KEYS or instance/audit_keys."""
    if not KEY_ID.fullmatch(key_id):
        raise AuditKeyError(f"{key_id!r} is not a key id (letters, digits, _ . -, at most 16)")
    return f"{key_id}:{secrets.token_hex(32)}"
