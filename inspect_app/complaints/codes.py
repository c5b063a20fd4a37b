"""Tracking codes: short enough to write down, unambiguous, unguessable, and never stored.

"JY-" and twelve characters from a 32-letter alphabet without 0/O and 1/I: 60 bits. A complaint
keeps only the SHA-256 of its code. A submission that carries the page's idempotency key gets the
code HMAC(SECRET_KEY, key), so a retried submission answers with the same code it would have got
the first time, though the code itself was never stored.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import current_app

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 12  # × 5 bits = 60 bits
PREFIX = "JY"
_SEPARATORS = re.compile(r"[\s\-_.·]+")


def _from_bits(value: int) -> str:
    return "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(LENGTH)))


def new_code(idempotency_key: str | None = None) -> str:
    """The bare twelve characters: derived from the key when there is one, random otherwise."""
    if idempotency_key is None:
        return _from_bits(secrets.randbits(5 * LENGTH))
    digest = hmac.new(current_app.secret_key.encode(), b"complaint-code:" + idempotency_key.encode(),
                      hashlib.sha256).digest()
    return _from_bits(int.from_bytes(digest[:8], "big") >> (64 - 5 * LENGTH))


def shown(code: str) -> str:
    """How people read and write it: JY-7K3M-Q9TX-4HPW."""
    return "-".join([PREFIX, code[0:4], code[4:8], code[8:12]])


def normalise(raw: str | None) -> str | None:
    """The bare code from what someone typed (any case, spaces or dashes, with or without "JY"), or
    None when it cannot be one of ours."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    bare = _SEPARATORS.sub("", raw.upper())
    if len(bare) == LENGTH + len(PREFIX) and bare.startswith(PREFIX):
        bare = bare[len(PREFIX):]
    if len(bare) != LENGTH or any(ch not in ALPHABET for ch in bare):
        return None
    return bare


def code_hash(code: str) -> str:
    return hashlib.sha256(f"complaint:{code}".encode()).hexdigest()
