"""Receiving a photo: idempotent on the phone's UUID, image work outside any transaction."""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from inspect_app.accounts.models import User
from inspect_app.errors import DomainError
from inspect_app.extensions import db
from inspect_app.idempotency import first_writer_wins
from inspect_app.parsing import ACCURACY_RANGE, parse_location, parse_number, parse_time, parse_uuid
from inspect_app.photos.models import SIZES, Photo, file_key
from inspect_app.photos.processing import PhotoRejected, ProcessedPhoto, process
from inspect_app.photos.storage import forget, storage


@dataclass(frozen=True)
class PhotoFields:
    captured_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    finding_id: str | None = None


def parse_fields(form) -> PhotoFields:
    """What an upload says of its photo (the API's form fields), refused where malformed."""
    place = parse_location(form.get("lat"), form.get("lon"))
    # The accuracy is kept as sent, with a position or without: it is part of what a replay must match.
    return PhotoFields(captured_at=parse_time(form.get("captured_at")), finding_id=parse_uuid(form.get("finding_id")),
                       lat=place.lat if place else None, lon=place.lon if place else None,
                       accuracy_m=parse_number(form.get("accuracy_m"), *ACCURACY_RANGE, "accuracy_m"))


def _request_hash(sha256: str, fields: PhotoFields) -> str:
    payload = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(fields).items()}
    return hashlib.sha256(json.dumps([sha256, payload], sort_keys=True).encode()).hexdigest()


def read_upload(upload) -> bytes:
    """The uploaded file's bytes, refusing (413) past the limit without reading much further."""
    limit = current_app.config["PHOTO_MAX_BYTES"]
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PhotoRejected(413, "too_large", "too_large")
    return data


class PhotoConflict(DomainError):
    """Another upload already used this id with different content."""

    status = 409

    def __init__(self):
        super().__init__(_l("This photo id was already used for another upload."))


def receive_photo(photo_id: str, uploader: User | None, data: bytes, fields: PhotoFields,
                  processed: ProcessedPhoto | None = None) -> tuple[Photo, bool]:
    """Store the photo once; (photo, created). An identical replay returns the stored one.
    `uploader` None: the public's (a complaint). `processed`: the caller already ran `process(data)`
    (to refuse a set of photos before storing any)."""
    sha256 = hashlib.sha256(data).hexdigest()
    request_hash = _request_hash(sha256, fields)
    existing = db.session.get(Photo, photo_id)
    if existing is not None:
        return _replay(existing, uploader, request_hash), False
    if fields.finding_id is not None:
        _check_room(fields.finding_id)
    # End the read transaction: decoding a 12 MP photo must not hold a database lock.
    db.session.rollback()
    processed = processed or process(data)

    files = {"original": data, "display": processed.display, "thumb": processed.thumb}
    keys = [file_key(photo_id, sha256, size) for size in SIZES]
    store = storage()
    # Files first, the row after: a row never names a file that is not there. A store that fails
    # halfway (StorageUnavailable, 503) leaves no row; what it had put is taken back where it can be.
    put = []
    try:
        for key, size in zip(keys, SIZES):
            store.put(key, files[size])
            put.append(key)
    except BaseException:
        _take_back(store, photo_id, sha256, put)
        raise

    def record() -> tuple[Photo, bool]:
        winner = db.session.get(Photo, photo_id)
        if winner is not None:  # a concurrent upload of this id got there while we were decoding
            return winner, False
        photo = Photo(id=photo_id, uploader_id=uploader.id if uploader else None, finding_id=fields.finding_id, sha256=sha256,
                      request_hash=request_hash, mime=processed.mime, size_bytes=len(data),
                      width=processed.width, height=processed.height, captured_at=fields.captured_at,
                      lat=fields.lat, lon=fields.lon, accuracy_m=fields.accuracy_m,
                      exif_time=processed.exif_time, exif_lat=processed.exif_lat,
                      exif_lon=processed.exif_lon, flags_text=" ".join(processed.flags))
        db.session.add(photo)
        return photo, True
    try:
        photo, created = first_writer_wins(record)
    except BaseException:
        db.session.rollback()
        _take_back(store, photo_id, sha256, keys)  # the row did not make it: neither do its files
        raise
    if not created:
        # The winner's files have other names unless the bytes match; then they are the same files.
        if photo.sha256 != sha256:
            forget(store, keys)
        return _replay(photo, uploader, request_hash), False
    return photo, True


def _take_back(store, photo_id: str, sha256: str, keys: list[str]) -> None:
    """Delete a failed upload's files, unless a concurrent upload of the same photo (same id, same
    bytes, so the same keys) committed its row meanwhile: those files are now that row's."""
    try:
        winner = db.session.get(Photo, photo_id)
    except sa.exc.SQLAlchemyError:  # the database is what failed: we cannot tell, so take them back
        db.session.rollback()
        winner = None
    if winner is None or winner.sha256 != sha256:
        forget(store, keys)


def _check_room(finding_id: str) -> None:
    """A finding holds at most FINDING_MAX_PHOTOS photos; checked before the image is decoded."""
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Photo).where(Photo.finding_id == finding_id))
    if count >= current_app.config["FINDING_MAX_PHOTOS"]:
        raise PhotoRejected(422, "too_many", "too_many")


def _replay(existing: Photo, uploader: User | None, request_hash: str) -> Photo:
    if existing.uploader_id != (uploader.id if uploader else None) or existing.request_hash != request_hash:
        raise PhotoConflict()
    return existing


def photos_for_findings(finding_ids: list[str]) -> dict[str, list[Photo]]:
    if not finding_ids:
        return {}
    photos = db.session.scalars(_photos_of_findings(), {"ids": list(finding_ids)}).all()
    grouped: dict[str, list[Photo]] = {}
    for photo in photos:
        grouped.setdefault(photo.finding_id, []).append(photo)
    return grouped


@functools.cache
def _photos_of_findings() -> sa.Select:
    """Built once: every visit shown asks, and building and keying a select cost about as much of the
    app's time as running it (issue 18)."""
    return (sa.select(Photo).where(Photo.finding_id.in_(sa.bindparam("ids", expanding=True)))
            .order_by(Photo.created_at, Photo.id))


def thumbnails(photo_ids: list[str]) -> dict[str, bytes]:
    """The thumbnail files of these photos, for a document (the daily report, a hand-over sheet):
    a missing file leaves its problem without a picture rather than failing the document. A store
    that cannot be reached fails it (StorageUnavailable, 503: try again), so a signed report is never
    handed out with its pictures silently missing."""
    found = {}
    store = storage()
    for photo in db.session.scalars(sa.select(Photo).where(Photo.id.in_(photo_ids))) if photo_ids else []:
        try:
            found[photo.id] = store.get(photo.key("thumb"))
        except FileNotFoundError:
            continue
    return found
