"""Turn an untrusted upload into the files we keep and serve.

Nothing of the upload is served as it came: the display size and the thumbnail are re-encoded
JPEGs with no metadata, so EXIF, GPS and any bytes appended to the file are gone. The original is
kept privately with its SHA-256; its EXIF time and GPS are read as metadata and validated.
Pure functions on bytes: no database here, so the work happens outside any transaction.
"""
from __future__ import annotations

import hashlib
import io
import math
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from inspect_app.errors import DomainError
from inspect_app.i18n import local_zone
from inspect_app.parsing import LAT_RANGE, LON_RANGE

register_heif_opener()

DISPLAY_EDGE = 1600
THUMB_EDGE = 320
MAX_PIXELS = 50_000_000  # a 48 MP phone photo passes; a pixel bomb does not
JPEG_QUALITY = 80

# Magic numbers of what phones send; anything else is refused before Pillow sees it.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic"}


class PhotoRejected(DomainError):
    """The upload cannot be accepted: HTTP status, the API's machine code, and the reason whose words
    photo_messages() gives in the user's language when the refusal is shown."""

    def __init__(self, status: int, code: str, reason: str):
        super().__init__(reason, status, code=code)
        self.reason = reason

    @property
    def message(self) -> str:
        return photo_messages()[self.reason]


def photo_messages() -> dict[str, str]:
    limit_mb = current_app.config["PHOTO_MAX_BYTES"] // (1024 * 1024)
    return {
        "empty": _("The photo file is empty. Please take the photo again."),
        "unsupported": _("This is not a photo we can read. Use JPEG, PNG, WebP or HEIC."),
        "bomb": _("This image is far too large in pixels. Please take a normal photo."),
        "damaged": _("The photo file is damaged or incomplete. Please take it again."),
        "too_large": _("The photo is too large (at most %(mb)s MB). Please take it again.", mb=limit_mb),
        "too_many": _("This problem already has %(n)s photos, the most one problem can hold.",
                      n=current_app.config["FINDING_MAX_PHOTOS"]),
    }


@dataclass
class ProcessedPhoto:
    sha256: str
    mime: str
    width: int
    height: int
    display: bytes
    thumb: bytes
    exif_time: datetime | None = None
    exif_lat: float | None = None
    exif_lon: float | None = None
    flags: list[str] = field(default_factory=list)


def sniff(data: bytes) -> str | None:
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis"}:
        return "HEIF"
    return None


def _rational(value) -> float:
    return float(value[0]) / float(value[1]) if isinstance(value, tuple) else float(value)


def _gps(exif) -> tuple[float | None, float | None, bool]:
    """(lat, lon, invalid): NaN, 0/0 and out-of-range values are dropped and reported."""
    try:
        gps = exif.get_ifd(0x8825)
    except Exception:  # noqa: BLE001 - a broken IFD is just missing metadata
        return None, None, True
    if not gps or 2 not in gps or 4 not in gps:
        return None, None, False
    try:
        def degrees(parts) -> float:
            d, m, s = (_rational(p) for p in parts)
            return d + m / 60 + s / 3600
        lat, lon = degrees(gps[2]), degrees(gps[4])
        if str(gps.get(1, "N")).upper().startswith("S"):
            lat = -lat
        if str(gps.get(3, "E")).upper().startswith("W"):
            lon = -lon
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        return None, None, True
    if not (math.isfinite(lat) and math.isfinite(lon) and LAT_RANGE[0] <= lat <= LAT_RANGE[1]
            and LON_RANGE[0] <= lon <= LON_RANGE[1]):
        return None, None, True
    return round(lat, 7), round(lon, 7), False


def _exif_time(exif) -> tuple[datetime | None, bool]:
    try:
        raw = exif.get_ifd(0x8769).get(36867) or exif.get(306)
    except Exception:  # noqa: BLE001
        return None, True
    if not raw:
        return None, False
    try:
        # EXIF time has no zone; phones in China write local time, the bureau's (Asia/Shanghai, UTC+8).
        local = datetime.strptime(str(raw).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, True
    return local.replace(tzinfo=local_zone()).astimezone(timezone.utc), False


def _encode(image: Image.Image, edge: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS if edge <= THUMB_EDGE else Image.Resampling.BICUBIC)
    out = io.BytesIO()
    # No exif= argument: nothing of the original's metadata is written.
    copy.save(out, "JPEG", quality=JPEG_QUALITY, optimize=False, progressive=True)
    return out.getvalue()


def _rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGB", image.size, (255, 255, 255))
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB") if image.mode != "RGB" else image


def process(data: bytes) -> ProcessedPhoto:
    if not data:
        raise PhotoRejected(422, "empty_file", "empty")
    kind = sniff(data)
    if kind is None:
        raise PhotoRejected(415, "unsupported_media_type", "unsupported")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    flags: list[str] = []
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
            if image.width * image.height > MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            exif = image.getexif()
            original_size = image.size
            if kind == "JPEG":
                # Let the decoder scale by 1/2, 1/4 or 1/8 while decoding: far less work for 12 MP.
                long_edge = max(image.size)
                if long_edge > DISPLAY_EDGE:
                    scale = DISPLAY_EDGE / long_edge
                    image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
            image.load()
            transposed = ImageOps.exif_transpose(image)
            if transposed.size != image.size:  # rotated a quarter turn: so is the original's size
                original_size = original_size[::-1]
            image = _rgb(transposed)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRejected(422, "too_many_pixels", "bomb") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            IndexError, KeyError, TypeError, ZeroDivisionError, MemoryError):
        raise PhotoRejected(422, "damaged_image", "damaged") from None

    lat, lon, gps_invalid = _gps(exif)
    taken, time_invalid = _exif_time(exif)
    if gps_invalid:
        flags.append("exif_gps_invalid")
    if time_invalid:
        flags.append("exif_time_invalid")
    return ProcessedPhoto(
        sha256=hashlib.sha256(data).hexdigest(), mime=FORMATS[kind],
        width=original_size[0], height=original_size[1],
        display=_encode(image, DISPLAY_EDGE), thumb=_encode(image, THUMB_EDGE),
        exif_time=taken, exif_lat=lat, exif_lon=lon, flags=flags,
    )
