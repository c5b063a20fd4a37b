"""Public complaints (举报投诉): anyone reports a school's problem without an account and follows it
by a tracking code; the bureau triages each one (reject, hand to the school as a ticket, or send
someone to check unannounced). Sits beside tickets and plans, reacting to their signals."""
from flask import Blueprint

bp = Blueprint("complaints", __name__)

from inspect_app.complaints import access, risk, routes, services  # noqa: E402,F401  (services subscribes to signals; risk registers a plan factor)
