"""The parent-volunteer programme: invitations, registration with an agreement, the coordinator's
tasks and roster, and a volunteer's own history. A volunteer's identity is sealed (accounts/escrow.py)."""
from flask import Blueprint

# A neutral prefix: the address bar of a volunteer's phone is on screen at the gate too, and a school that
# guesses URLs must not read the word "volunteer" echoed back (tests/test_covert_source.py).
bp = Blueprint("volunteers", __name__, url_prefix="/programme")

from inspect_app.volunteers import models, routes  # noqa: E402,F401
