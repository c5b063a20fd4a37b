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


def can_reveal(user) -> bool:
    """The volunteer programme's coordinator: an administrator given manages_volunteers. The one person
    who may open a volunteer's sealed identity (and who runs invitations, tasks and the roster)."""
    return bool(user.is_authenticated and user.role is Role.ADMIN and user.manages_volunteers and user.active)


def sees_reveals(user) -> bool:
    """Who reads the list of reveals: the bureau's leaders (oversight) and the coordinator (their own)."""
    return bool(user.is_authenticated and (user.role is Role.LEADER or can_reveal(user)))
