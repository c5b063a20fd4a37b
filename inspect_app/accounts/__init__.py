"""Accounts: users, roles, sign-in sessions and API tokens."""
from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/accounts")

from inspect_app.accounts import routes  # noqa: E402,F401  (registers the views on bp)
