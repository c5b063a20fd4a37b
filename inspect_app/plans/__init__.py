"""Plans: checks the bureau assigns to an inspector or a volunteer at a school within a window
(today one per complaint; the sampling plans of the plans issue will add more). Sealed from schools:
no school-facing page, notice or API answer reads this package."""
from flask import Blueprint

bp = Blueprint("plans", __name__, url_prefix="/tasks")

from inspect_app.plans import models, services  # noqa: E402,F401  (services subscribes to visits)
