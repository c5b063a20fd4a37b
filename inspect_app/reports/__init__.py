"""Reports: the bureau's dashboard and the daily inspection report due at 16:00 (每日督查专报)."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from inspect_app.reports import present, routes  # noqa: E402,F401
