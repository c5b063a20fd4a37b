"""Photos: distrusted uploads made safe (re-encoded, oriented, stripped), stored, and served."""
from flask import Blueprint

bp = Blueprint("photos", __name__, url_prefix="/photos")

from inspect_app.photos import routes  # noqa: E402,F401
