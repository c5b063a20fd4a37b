"""Who may load a photo file. Photos sit below the domains that use them, so each of those domains
registers a policy here (visits for findings, tickets for evidence) instead of photos importing them."""
from __future__ import annotations

from collections.abc import Callable

from inspect_app.accounts.models import BUREAU_ROLES, User
from inspect_app.photos.models import Photo

Policy = Callable[[User, Photo], bool]
_policies: list[Policy] = []

# The untouched original (with its EXIF) is for the bureau only.


def register_policy(policy: Policy) -> Policy:
    if policy not in _policies:
        _policies.append(policy)
    return policy


def can_view_photo(user: User, photo: Photo, size: str) -> bool:
    if size == "original" and user.role not in BUREAU_ROLES:
        return False
    if photo.uploader_id == user.id:
        return True
    return any(policy(user, photo) for policy in _policies)
