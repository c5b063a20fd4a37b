"""Serving photo files: re-encoded sizes to whoever may see the photo, the original to the bureau."""
from flask import abort, current_app, request
from flask_login import current_user, login_required

from inspect_app.extensions import db
from inspect_app.photos import bp
from inspect_app.photos.access import can_view_photo
from inspect_app.photos.models import SIZES, Photo
from inspect_app.photos.storage import storage


@bp.get("/<photo_id>/<size>")
@login_required
def serve_photo(photo_id: str, size: str):
    """One size of a photo, or 404 when it is not the user's to see (existence must not leak)."""
    if size not in SIZES:
        abort(404)
    photo = db.session.get(Photo, photo_id[:36])
    if photo is None or not can_view_photo(current_user, photo, size):
        abort(404)
    try:
        data = storage().get(photo.key(size))
    except FileNotFoundError:
        current_app.logger.error("photo %s: %s file missing", photo.id, size)
        abort(404)
    response = current_app.response_class(data, mimetype="image/jpeg" if size != "original" else photo.mime)
    # A photo never changes under its id; only the signed-in user's browser may keep it.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    if size == "original":
        response.headers["Content-Disposition"] = f'attachment; filename="{photo.id}"'
    # A hash of the bytes served, never the original's SHA-256: a school holding the display size
    # must not get a fingerprint of the volunteer's original file (with its EXIF) to match elsewhere.
    response.add_etag()
    return response.make_conditional(request)
