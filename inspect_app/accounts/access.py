"""Role checks for views. Object-level checks live with each domain's objects."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from inspect_app.accounts.models import Role


def roles_required(*roles: Role):
    """Signed in, and in one of these roles; otherwise 401 (signed out) or 403."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator
