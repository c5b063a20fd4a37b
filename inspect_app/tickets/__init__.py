"""Tickets: every finding not fixed on the spot goes to the school to rectify, and closes only
when someone other than the school has verified it (整改 → 回头看 → 销号)."""
from flask import Blueprint

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

from inspect_app.tickets import access, follow_up, routes, services  # noqa: E402,F401  (they subscribe to visits)
