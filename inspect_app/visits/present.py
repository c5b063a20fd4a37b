"""A visit as the API shows it to one viewer: schools get no source and no exact covert time."""
from __future__ import annotations

from flask import url_for

from inspect_app.accounts.models import User
from inspect_app.checklists.models import VisitMode
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
    data = {
        "id": visit.id, "school_id": visit.school_id,
        "status": visit.status.value,
        "answers": [{"code": a.code, "result": a.result.value, "note": a.note} for a in visit.answers],
        "findings": [{
            "id": f.id, "code": f.item_code, "description": f.description, "severity": f.severity.value,
            "fixed_on_site": f.fixed_on_site,
            "photos": [photo_json(p, full) for p in photos.get(f.id, [])],
            **({"location": {"lat": f.lat, "lon": f.lon, "accuracy_m": f.accuracy_m} if f.lat is not None else None,
                "captured_at": _iso(f.captured_at)} if full else {}),
        } for f in visit.findings],
    }
    if full:
        flags = services.flags(visit, photos)
        data.update(
            mode=visit.mode.value, version_id=visit.version_id, template=visit.version.template.code, author_id=visit.author_id, started_at=_iso(visit.started_at),
            submitted_at=_iso(visit.submitted_at), server_started_at=_iso(visit.server_started_at),
            server_submitted_at=_iso(visit.server_submitted_at), corrects=visit.corrects_id,
            location={"lat": visit.lat, "lon": visit.lon, "accuracy_m": visit.accuracy_m}
            if visit.lat is not None else None,
            flags=vars(flags))
    else:
        # The school's view: "督查组", no mode or template (they would tell volunteers apart),
        # the date only for a covert check, no location, no flags.
        data["source"] = "inspection_group"
        moment = visit.server_submitted_at
        data["date"] = moment.date().isoformat() if moment else None
        if visit.mode is not VisitMode.COVERT:
            data["submitted_at"] = _iso(visit.submitted_at)
    return data
