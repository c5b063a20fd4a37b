"""The JSON API (v1): what the phone's offline outbox and outside programs rely on."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from inspect_app.api import (complaints, duties, plans, reviews, routes, tickets, visits,  # noqa: E402,F401
                             volunteers)
