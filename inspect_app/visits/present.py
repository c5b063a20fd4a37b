"""A visit as the API shows it to one viewer: schools get no source, no template and no time of day."""
from __future__ import annotations

from flask import url_for

from inspect_app.accounts.models import User
from inspect_app.i18n import local_day
from inspect_app.photos.models import Photo
from inspect_app.visits import services
from inspect_app.visits.access import shows_source
from inspect_app.visits.models import Visit


def _iso(moment):
    return moment.isoformat() if moment is not None else None


def photo_json(photo: Photo, with_metadata: bool) -> dict:
    data = {"id": photo.id,
            "url": url_for("photos.serve_photo", photo_id=photo.id, size="display"),
            "thumb_url": url_for("photos.serve_photo", photo_id=photo.id, size="thumb")}
    if with_metadata:
        data.update(captured_at=_iso(photo.captured_at), sha256=photo.sha256, flags=photo.flags,
                    location={"lat": photo.lat, "lon": photo.lon, "accuracy_m": photo.accuracy_m}
                    if photo.lat is not None else None,
                    exif={"time": _iso(photo.exif_time), "lat": photo.exif_lat, "lon": photo.exif_lon})
    return data


def visit_json(visit: Visit, viewer: User) -> dict:
    full = shows_source(viewer, visit)
    photos = services.photos_by_finding(visit)
    if not full:
        return _school_view(visit, photos)
    flags = services.flags(visit, photos)
    return {
        "id": visit.id, "school_id": visit.school_id,
        "status": visit.status.value,
        "answers": [{"code": a.code, "result": a.result.value, "note": a.note} for a in visit.answers],
        "findings": [{
            "id": f.id, "code": f.item_code, "description": f.description, "severity": f.severity.value,
            "fixed_on_site": f.fixed_on_site,
            "photos": [photo_json(p, True) for p in photos.get(f.id, [])],
            "location": {"lat": f.lat, "lon": f.lon, "accuracy_m": f.accuracy_m} if f.lat is not None else None,
            "captured_at": _iso(f.captured_at),
        } for f in visit.findings],
        "mode": visit.mode.value, "version_id": visit.version_id, "template": visit.version.template.code,
        "author_id": visit.author_id, "started_at": _iso(visit.started_at),
        "submitted_at": _iso(visit.submitted_at), "server_started_at": _iso(visit.server_started_at),
        "server_submitted_at": _iso(visit.server_submitted_at), "corrects": visit.corrects_id,
        "location": {"lat": visit.lat, "lon": visit.lon, "accuracy_m": visit.accuracy_m}
        if visit.lat is not None else None,
        "flags": vars(flags),
    }


def _school_view(visit: Visit, photos: dict[str, list[Photo]]) -> dict:
    """What the summary page shows a school, and no more: "督查组", the day it reached us (Asia/Shanghai,
    whatever the mode), each problem with the requirement it failed and its photos. No mode, template,
    answers or item codes (V1-V9 name the volunteers' template), no finding ids (an item's finding id
    is uuid5(visit id, item code), so it names the code too), no times, places or flags."""
    def requirement(finding) -> str | None:
        item = visit.version.item(finding.item_code) if finding.item_code else None
        return item.text if item else None

    return {
        "id": visit.id, "school_id": visit.school_id, "status": visit.status.value,
        "source": "inspection_group", "date": local_day(visit.server_submitted_at),
        "findings": [{"description": f.description, "requirement": requirement(f), "severity": f.severity.value,
                      "fixed_on_site": f.fixed_on_site,
                      "photos": [photo_json(p, False) for p in photos.get(f.id, [])]} for f in visit.findings],
    }
