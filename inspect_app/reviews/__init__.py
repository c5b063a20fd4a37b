"""一案双查 (accountability review): when a later check fails an item an inspector passed at the
same school days before, a review opens for the leader, who upholds or dismisses it with a note.
Sits above visits (reacting to visit_submitted); never shown to schools or volunteers."""
from flask import Blueprint

bp = Blueprint("reviews", __name__, url_prefix="/reviews")

from inspect_app.reviews import models, routes, services  # noqa: E402,F401  (services subscribes to visits)
