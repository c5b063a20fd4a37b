"""Who runs the programme: the coordinator (accounts.access.can_reveal: an admin with manages_volunteers)."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from inspect_app.accounts.access import can_reveal


def coordinator_required(view):
    """Signed in as the programme coordinator; 401 (signed out) or 403 otherwise."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not can_reveal(current_user):
            abort(403)
        return view(*args, **kwargs)
    return wrapped
