"""Visits: an unannounced check of one school against one checklist version, with its findings."""
from flask import Blueprint

bp = Blueprint("visits", __name__, url_prefix="/visits")

from inspect_app.visits import access, routes  # noqa: E402,F401  (access registers the photo policy)
