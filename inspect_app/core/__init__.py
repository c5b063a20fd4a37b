"""The shell around the domains: home page by role, health check, language choice."""
from flask import Blueprint

bp = Blueprint("core", __name__)

from inspect_app.core import routes  # noqa: E402,F401
