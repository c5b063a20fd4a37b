"""Object-level refusal: nobody reaches a school that is not theirs, through pages or the API."""
import pytest


def test_duty_officer_list_shows_only_their_school(login_as):
    text = login_as("officer").get("/schools/").get_data(as_text=True)
    assert "甲校" in text and "乙校" not in text


def test_volunteer_list_shows_only_assigned_schools(login_as):
    text = login_as("volunteer").get("/schools/").get_data(as_text=True)
    assert "甲校" in text and "乙校" not in text


def test_inspector_sees_every_school(login_as):
    text = login_as("inspector").get("/schools/").get_data(as_text=True)
    assert "甲校" in text and "乙校" in text


def test_search_filters_and_the_fragment_swaps_alone(login_as):
    browser = login_as("inspector")
    fragment = browser.get("/schools/?q=乙", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="results">')
    assert "乙校" in fragment and "甲校" not in fragment
    empty = browser.get("/schools/?q=不存在", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "没有与“不存在”匹配的学校" in empty


@pytest.mark.parametrize("typed", ["%", "_", "100%", "_校", "\\"])
def test_percent_and_underscore_in_the_search_box_are_characters_not_wildcards(login_as, make_school, typed):
    make_school(name="百分之100%达标学校")
    make_school(name="下划线_校")
    make_school(name="反斜杠\\学校")
    fragment = login_as("inspector").get("/schools/", query_string={"q": typed},
                                         headers={"HX-Request": "true"}).get_data(as_text=True)
    shown = {name for name in ("甲校", "乙校", "百分之100%达标学校", "下划线_校", "反斜杠\\学校")
             if name in fragment}
    expected = {"%": {"百分之100%达标学校"}, "_": {"下划线_校"}, "100%": {"百分之100%达标学校"},
                "_校": {"下划线_校"}, "\\": {"反斜杠\\学校"}}[typed]
    assert shown == expected


def test_duty_officer_home_is_their_school_once_the_days_report_is_filed(login_as, world):
    officer = login_as("officer")
    assert officer.get("/").headers["Location"] == "/duties/"  # the day's report comes first (UX.md)
    officer.form_post("/duties/zero")
    assert officer.get("/").headers["Location"] == f"/schools/{world.a.id}"


def test_api_schools_are_scoped_by_role(app, api_token, world):
    client = app.test_client()

    def names(who):
        body = client.get("/api/v1/schools", headers=api_token(who)).get_json()
        return {s["name"] for s in body["schools"]}, body["schools"]

    assert names("officer")[0] == {"甲校"}
    assert names("officer_b")[0] == {"乙校"}
    assert names("volunteer")[0] == {"甲校"}
    assert names("inspector")[0] == {"甲校", "乙校"}
    # Only admins get the poster URL (which carries the token).
    assert all("qr_url" not in s for s in names("inspector")[1])
    admin_schools = names("admin")[1]
    assert all(s["qr_url"].endswith("/s/" + (world.a.qr_token if s["name"] == "甲校" else world.b.qr_token))
               for s in admin_schools)


def test_api_lookup_refuses_another_schools_code(app, api_token, world):
    client = app.test_client()
    response = client.get(f"/api/v1/schools/lookup?qr={world.a.qr_token}", headers=api_token("officer_b"))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    ok = client.get(f"/api/v1/schools/lookup?qr={world.a.qr_token}", headers=api_token("officer"))
    assert ok.get_json()["name"] == "甲校"


def test_volunteer_page_title_gives_nothing_away(login_as, world):
    text = login_as("volunteer").get(f"/s/{world.a.qr_token}").get_data(as_text=True)
    title = text.split("<title>")[1].split("</title>")[0]
    assert "督查" not in title and "甲校" not in title
    brand = text.split('class="brand"')[1].split("</a>")[0]
    assert "督查" not in brand


def test_the_admin_assigns_inspectors_and_volunteers_but_never_to_a_childs_school(db, login_as, world, make_user):
    import sqlalchemy as sa

    from inspect_app.extensions import db
    from inspect_app.schools.models import School, volunteer_child_schools
    parent = make_user("volunteer", pseudonym="志愿者55")
    db.session.execute(sa.insert(volunteer_child_schools), [{"user_id": parent.id, "school_id": world.b.id}])
    db.session.commit()
    admin = login_as("admin")
    page = admin.get(f"/schools/{world.b.id}").get_data(as_text=True)
    assert "志愿者55" in page  # listed by pseudonym only
    ok = admin.form_post(f"/schools/{world.b.id}/assignments", {"user_ids": [str(world.inspector.id),
                                                                             str(world.volunteer.id)]})
    assert ok.status_code == 302
    assert {u.id for u in db.session.get(School, world.b.id).assigned_users} == {world.inspector.id,
                                                                                 world.volunteer.id}
    refused = admin.form_post(f"/schools/{world.b.id}/assignments", {"user_ids": [str(parent.id)]})
    assert refused.status_code == 409 and "志愿者55" in refused.get_data(as_text=True)
    assert "乙校" in login_as("volunteer").get("/schools/").get_data(as_text=True)
