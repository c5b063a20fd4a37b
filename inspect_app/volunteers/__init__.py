"""The parent-volunteer programme: invitations, registration with an agreement, the coordinator's
tasks and roster, and a volunteer's own history. A volunteer's identity is sealed (accounts/escrow.py)."""
from flask import Blueprint

bp = Blueprint("volunteers", __name__, url_prefix="/volunteers")

from inspect_app.volunteers import models, routes  # noqa: E402,F401
