"""A photo: the private original, the served sizes, and what we know of when and where it was taken."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from inspect_app.accounts.models import User
from inspect_app.dbtypes import UTCDateTime, utcnow
from inspect_app.extensions import db


class Photo(db.Model):
    __tablename__ = "photos"

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)  # the phone's UUID
    # None: sent by the public with a complaint (no account); such a photo is the complaint's to show.
    uploader_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    # Not a foreign key: a photo may arrive before the visit that holds its finding.
    finding_id: so.Mapped[str | None] = so.mapped_column(sa.String(36), index=True)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    # Hash of what the phone sent as fields, to tell an identical replay from a different body.
    request_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    mime: so.Mapped[str] = so.mapped_column(sa.String(32))
    size_bytes: so.Mapped[int]
    width: so.Mapped[int]
    height: so.Mapped[int]
    # Told by the phone at capture (canvas re-encoding drops EXIF, so these are the primary record).
    captured_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    lat: so.Mapped[float | None]
    lon: so.Mapped[float | None]
    accuracy_m: so.Mapped[float | None]
    # Read from the file's EXIF when present and valid.
    exif_time: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    exif_lat: so.Mapped[float | None]
    exif_lon: so.Mapped[float | None]
    flags_text: so.Mapped[str] = so.mapped_column("flags", sa.String(255), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    uploader: so.Mapped[User | None] = so.relationship()

    @property
    def flags(self) -> list[str]:
        return self.flags_text.split() if self.flags_text else []

    def key(self, size: str) -> str:
        """Storage key of one size; the content hash in the name keeps a racing upload's files apart."""
        return file_key(self.id, self.sha256, size)


SIZES = ("original", "display", "thumb")


def file_key(photo_id: str, sha256: str, size: str) -> str:
    suffix = "" if size == "original" else ".jpg"
    return f"{size}/{photo_id[:2]}/{photo_id}-{sha256[:16]}{suffix}"
