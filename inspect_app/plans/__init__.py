"""Plans: checks the bureau assigns to an inspector or a volunteer at a school within a window
(one per complaint, or drawn by a sealed sampling plan: planning.py, risk.py). Sealed from schools:
no school-facing page, notice or API answer reads this package."""
from flask import Blueprint

bp = Blueprint("plans", __name__, url_prefix="/plans")

from inspect_app.plans import models, routes, services  # noqa: E402,F401  (services subscribes to visits)
