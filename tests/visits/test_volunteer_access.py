"""One rule for where a volunteer may check (issue 10, volunteer): the schools the programme admin
assigned them, never their own child's. Holding a poster adds nothing, so every way in agrees: the
scan, the school page, the blank checklist, the start form, the offline pack and the API."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from tests.visits.test_api import _fresh_clock, body  # noqa: F401 - the autouse clock body() reads


def _paths(browser, bearer, school, templates):
    """(path, status) for every way a volunteer could begin a covert check at `school`, poster in hand."""
    covert = templates["covert"]
    qr = school.qr_token
    page = browser.get(f"/s/{qr}")  # before the start below, which would turn it into "continue"
    start = browser.form_post("/visits/start", {
        "school_id": school.id, "mode": "covert", "template_id": covert.id, "qr_token": qr,
        "lat": "31.9", "lon": "120.28", "accuracy_m": "10", "client_time": datetime.now(timezone.utc).isoformat()})
    return {
        "scan": (page.status_code, 'value="covert"' in page.get_data(as_text=True)),
        "school page": browser.get(f"/schools/{school.id}").status_code,
        "blank checklist": browser.get(f"/visits/new?school_id={school.id}&mode=covert"
                                       f"&template_id={covert.id}&qr={qr}").status_code,
        "start form": start.status_code,
        "offline pack": browser.get(f"/visits/pack/{school.id}").status_code,
        "api lookup": browser.get(f"/api/v1/schools/lookup?qr={qr}").status_code,
        "api checklists": browser.get(f"/api/v1/checklists?mode=covert&school_id={school.id}").status_code,
        "api visit": bearer.put(f"/api/v1/visits/{uuid.uuid4()}", json={
            **body(None, templates, template="covert", mode="covert", school=school), "qr_token": qr}).status_code,
    }


@pytest.fixture
def paths(app, login_as, api_token, templates):
    def run(school):
        browser = login_as("volunteer")
        client = app.test_client()
        token = api_token("volunteer")

        class Bearer:
            def put(self, url, json):
                return client.put(url, json=json, headers=token)
        return _paths(browser, Bearer(), school, templates)
    return run


def test_a_volunteer_checks_an_assigned_school_by_every_path(paths, world):
    assert paths(world.a) == {
        "scan": (200, True), "school page": 200, "blank checklist": 200, "start form": 302,
        "offline pack": 200, "api lookup": 200, "api checklists": 200, "api visit": 201}


def test_a_poster_of_an_unassigned_school_opens_nothing_by_any_path(paths, world):
    assert paths(world.b) == {
        "scan": (403, False), "school page": 404, "blank checklist": 403, "start form": 403,
        "offline pack": 404, "api lookup": 403, "api checklists": 404, "api visit": 403}


def test_the_scan_tells_a_volunteer_who_assigns_schools(login_as, world):
    page = login_as("volunteer").get(f"/s/{world.b.qr_token}").get_data(as_text=True)
    assert "这所学校不在您的名单中" in page and "项目负责人" in page
    assert "您只能打开本校" not in page  # that is the duty officer's sentence
