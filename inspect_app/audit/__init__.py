"""Audit: an append-only record of every state change, chained by hashes (一案双查 needs a record
nobody can quietly rewrite)."""
from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

from inspect_app.audit import routes  # noqa: E402,F401
