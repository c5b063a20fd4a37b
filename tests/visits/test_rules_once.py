"""Each visit rule is one function in visits/services.py, and the page and the API give the same answer."""
import json
import re
import uuid

import pydantic
import pytest

from inspect_app.api import schemas
from inspect_app.parsing import FieldError, Location, parse_location
from inspect_app.photos.services import parse_fields
from inspect_app.visits.models import Visit
from tests.visits.test_api import _fresh_clock, body  # noqa: F401 - the autouse clock body() reads

UNKNOWN = 999_999


@pytest.mark.parametrize("who, school, mode, template, status", [
    ("inspector", "a", "overt", "onsite", 200),
    ("inspector", UNKNOWN, "overt", "onsite", 403),      # no such school reads as one you may not visit
    ("officer", "a", "overt", "onsite", 403),            # not this role's kind of visit
    ("inspector", "a", "covert", "onsite", 422),         # a checklist of another mode
    ("inspector", "a", "sideways", "onsite", 422),       # no such mode
    ("inspector", "a", "follow_up", "onsite", 200),      # a follow-up (回头看) is a visit, on the overt checklists
    ("volunteer", "a", "follow_up", "covert", 403),      # only inspectors and leaders follow up
])
def test_starting_a_visit_answers_the_same_on_the_page_and_over_the_api(
        login_as, api_token, app, world, templates, who, school, mode, template, status):
    school_id = world.a.id if school == "a" else school
    page = login_as(who).get(f"/visits/new?school_id={school_id}&mode={mode}&template_id={templates[template].id}")
    data = body(world, templates, template=template, submitted=False) | {"school_id": school_id, "mode": mode}
    api = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", json=data, headers=api_token(who))
    assert (page.status_code, api.status_code) == (status, 201 if status == 200 else status)
    if status == 403:
        # The page says why in the API's words, not only "forbidden".
        assert api.get_json()["error"]["message"] in page.get_data(as_text=True)


def test_a_place_reads_the_same_from_a_form_a_photo_and_json(app):
    """One reading of a position (parsing.parse_location) for the visit page, a photo's fields and the
    API's schema: the same bounds, and both lat and lon or neither."""
    with app.test_request_context():
        assert parse_location("31.9", "120.28", "") == parse_location(31.9, 120.28) == Location(31.9, 120.28, None)
        assert parse_location(None, "") is None
        for lat, lon in ((31.9, None), (91, 0), ("北", 0)):
            with pytest.raises(FieldError):
                parse_location(lat, lon)
            with pytest.raises(FieldError):
                parse_fields({"lat": lat, "lon": lon})
        assert parse_fields({"lat": "31.9", "lon": "120.28", "accuracy_m": "8"}).accuracy_m == 8
        # An accuracy alone is kept as sent (a replay of that upload must match it), with no position.
        alone = parse_fields({"accuracy_m": "8"})
        assert (alone.lat, alone.lon, alone.accuracy_m) == (None, None, 8)
    for lat, lon in ((91, 0), (0, 180.5)):
        with pytest.raises(pydantic.ValidationError):
            schemas.Location(lat=lat, lon=lon)
    assert schemas.Location(lat=90, lon=-180).lat == 90


def test_the_page_reads_a_garbled_start_position_as_none(login_as, world, templates, db):
    start = login_as("inspector").form_post("/visits/start", {
        "school_id": world.a.id, "mode": "overt", "template_id": templates["onsite"].id,
        "lat": "31.9", "lon": "far east"})
    assert start.status_code == 302
    visit = db.session.get(Visit, start.headers["Location"].rsplit("/", 1)[1])
    assert visit.lat is None and visit.distance_m is None


def test_the_phone_gets_the_submit_rule_and_its_words_from_the_server(login_as, world, templates, make_visit):
    draft = make_visit(world.inspector, world.a, submit=False)
    page = login_as("inspector").get(f"/visits/{draft.id}").get_data(as_text=True)
    state = json.loads(re.search(r'<script type="application/json" id="visit-state">(.*?)</script>', page,
                                 re.S).group(1))
    rule = state["submit_rule"]
    photo_items = [i["code"] for i in state["items"] if i["photo_required"]]
    assert photo_items and all(rule["items"][c] == {"unanswered": "left", "fail": "needs_photo"} for c in photo_items)
    assert all(rule["items"][i["code"]] == {"unanswered": "left"} for i in state["items"] if not i["photo_required"])
    assert rule["added"] == {"empty": "adhoc_empty", "described": None}
    assert [p["kind"] for p in rule["phrases"]] == ["needs_photo", "left", "adhoc_empty"]
    assert rule["phrases"][0]["one"] == "第 {first} 项需要照片" and rule["join"] == "；"


def test_the_api_refuses_to_submit_what_the_page_would_not(app, api_token, world, templates):
    data = body(world, templates)
    data["answers"] = data["answers"][1:]
    response = app.test_client().put(f"/api/v1/visits/{uuid.uuid4()}", json=data, headers=api_token("inspector"))
    assert response.status_code == 422
    assert templates["onsite"].codes[0] in response.get_json()["error"]["message"]


def test_an_added_problem_needs_words_on_the_page_as_over_the_api(login_as, world, templates, db):
    browser = login_as("inspector")
    visit_id = browser.form_post("/visits/start", {"school_id": world.a.id, "mode": "overt",
                                                   "template_id": templates["onsite"].id}
                                 ).headers["Location"].rsplit("/", 1)[1]
    added = browser.form_post(f"/visits/{visit_id}/findings")
    finding_id = added.headers["Location"].rsplit("#finding-", 1)[1]
    blank = browser.form_post(f"/visits/{visit_id}/findings/{finding_id}",
                              {"description": "   ", "severity": "major"})
    assert blank.status_code == 422
    said = browser.form_post(f"/visits/{visit_id}/findings/{finding_id}",
                             {"description": " 楼梯扶手松动 ", "severity": "major", "fixed_on_site": "y"})
    assert said.status_code == 302
    finding = db.session.get(Visit, visit_id).findings[0]
    assert (finding.description, finding.severity.value, finding.fixed_on_site) == ("楼梯扶手松动", "major", True)
