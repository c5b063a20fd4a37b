"""Schools: the register, responsible inspectors, QR tokens and posters, the scan landing."""
from flask import Blueprint

bp = Blueprint("schools", __name__)

from inspect_app.schools import routes  # noqa: E402,F401
