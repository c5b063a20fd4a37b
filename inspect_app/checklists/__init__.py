"""Checklists: versioned templates of items that visits are answered against."""
from flask import Blueprint

bp = Blueprint("checklists", __name__, url_prefix="/checklists")

from inspect_app.checklists import routes  # noqa: E402,F401
