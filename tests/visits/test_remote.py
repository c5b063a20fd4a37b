"""Remote checks (电话督导): recorded against the overt checklists by phone, with no location, QR scan
or site photo asked for or judged, marked as remote wherever the mode shows, never closing a ticket."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from inspect_app.checklists.models import MODES_BY_ROLE, VisitMode
from inspect_app.tickets.models import Ticket
from inspect_app.visits.models import Finding, Visit


def remote_body(world, templates, fail_code="G1", finding_id=None, mode="remote"):
    moment = datetime.now(timezone.utc)
    codes = templates["onsite"].codes
    return {
        "school_id": world.a.id, "version_id": templates["onsite"].version_id, "mode": mode,
        "started_at": (moment - timedelta(minutes=10)).isoformat(), "submitted_at": moment.isoformat(),
        "qr_token": world.a.qr_token,  # whatever the phone sends, a call proves no scan
        "location": {"lat": 30.0, "lon": 118.0, "accuracy_m": 10},  # the inspector's office, far away
        "answers": [{"code": c, "result": "fail" if c == fail_code else "pass"} for c in codes],
        "findings": [{"id": finding_id or str(uuid.uuid4()), "code": fail_code, "description": "电话询问：未落实一测二问三登记",
                      "location": {"lat": 30.0, "lon": 118.0}}],
    }


def test_a_remote_check_needs_no_location_scan_or_photo_and_opens_tickets(app, db, world, templates, api_token):
    assert "G1" in templates["onsite"].photo_codes  # on site, a failed G1 needs a photo
    visit_id = str(uuid.uuid4())
    response = app.test_client().put(f"/api/v1/visits/{visit_id}", headers=api_token("inspector"),
                                     json=remote_body(world, templates))
    assert response.status_code == 201, response.get_json()
    flags = response.get_json()["flags"]
    assert flags["remote"] is True and flags["no_location"] is False and flags["missing_photos"] == []
    assert flags["distance_m"] is None and flags["qr_scanned"] is False
    visit = db.session.get(Visit, visit_id)
    assert visit.mode is VisitMode.REMOTE and visit.lat is None and not visit.qr_scanned
    assert all(f.lat is None for f in db.session.scalars(sa.select(Finding).where(Finding.visit_id == visit_id)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(Ticket.visit_id == visit_id)) == 1


def test_the_same_visit_on_site_still_needs_its_photo(app, world, templates, api_token):
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token("inspector"),
                                     json=remote_body(world, templates, mode="overt"))
    assert response.status_code == 201
    assert response.get_json()["flags"]["missing_photos"] == ["G1"]  # flagged on site, not for a call


@pytest.mark.parametrize("who, status", [("volunteer", 403), ("officer", 403), ("leader", 201), ("inspector", 201)])
def test_who_may_check_by_phone(app, world, templates, api_token, who, status):
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", headers=api_token(who),
                                     json=remote_body(world, templates))
    assert response.status_code == status, response.get_json()


def test_remote_is_marked_wherever_the_mode_shows(app, world, templates, login_as, make_visit):
    inspector = login_as("inspector")
    school_page = inspector.get(f"/schools/{world.a.id}").get_data(as_text=True)
    assert "开始电话督导" in school_page
    assert "开始电话督导" not in login_as("officer").get(f"/schools/{world.a.id}").get_data(as_text=True)
    done = make_visit(world.inspector, world.a, mode="remote", fail=("G1",), photo=False)
    summary = inspector.get(f"/visits/{done.id}").get_data(as_text=True)
    assert "电话督导" in summary and "不要求定位" in summary and "离学校" not in summary
    assert "电话督导" in inspector.get("/visits/").get_data(as_text=True)
    # The school sees what was found, never how (the mode stays the bureau's, as for every check).
    school_view = login_as("officer").get(f"/visits/{done.id}").get_data(as_text=True)
    assert "电话督导" not in school_view


def test_the_rule_a_remote_check_never_closes_a_ticket():
    assert VisitMode.REMOTE.remote and not VisitMode.OVERT.remote
    assert VisitMode.REMOTE not in VisitMode.MAY_CLOSE_TICKETS
    assert all(VisitMode.REMOTE not in modes for role, modes in MODES_BY_ROLE.items()
               if role.value in ("volunteer", "duty_officer", "admin"))
