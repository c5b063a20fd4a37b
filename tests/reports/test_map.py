"""The coverage map: each school's state, the JSON the page draws from, the page's empty state, and who
may read any of it. The drawing itself is tested in Chromium (tests/browser/test_map.py)."""
import gzip
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from inspect_app.checklists.models import VisitMode
from inspect_app.extensions import db
from inspect_app.reports import services
from inspect_app.tickets.models import Ticket
from inspect_app.visits.models import Visit

UTC = timezone.utc


def received(app, visit_id, when):
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        visit.server_submitted_at = visit.submitted_at = when
        db.session.commit()


def states(app, **kwargs):
    with app.test_request_context("/"):
        return {s["name"]: s for s in services.school_states(**kwargs)}


def test_each_school_gets_the_state_a_leader_acts_on(app, db, world, make_school, make_visit):
    now = datetime.now(UTC)
    midnight = datetime.combine(now.astimezone(ZoneInfo("Asia/Shanghai")).date(), datetime.min.time(),
                                tzinfo=ZoneInfo("Asia/Shanghai"))
    overdue = make_visit(world.inspector, world.a, fail=("G2",))  # 甲校: visited today, but overdue work
    db.session.get(Ticket, overdue.tickets[0]).deadline = now - timedelta(hours=1)
    db.session.commit()
    today_with_ticket = make_visit(world.inspector, world.b, fail=("G2",))  # 乙校: today outranks open
    assert today_with_ticket.tickets
    open_school = make_school(name="丙校")
    received(app, make_visit(world.inspector, open_school, fail=("G2",)).id, now - timedelta(days=10))
    stale = make_school(name="丁校")
    received(app, make_visit(world.inspector, stale, fail=()).id, now - timedelta(days=10))
    recent = make_school(name="戊校")
    received(app, make_visit(world.inspector, recent, fail=()).id, now - timedelta(days=3))
    yesterday = make_school(name="己校")  # one second before local midnight is not today
    received(app, make_visit(world.inspector, yesterday, fail=()).id, midnight - timedelta(seconds=1))
    make_school(name="庚校")  # never visited
    make_school(name="辛校")

    found = states(app)
    assert {name: s["state"] for name, s in found.items()} == {
        "甲校": "overdue", "乙校": "today", "丙校": "open", "丁校": "unvisited", "戊校": "ok",
        "己校": "ok", "庚校": "unvisited", "辛校": "unvisited"}
    assert (found["甲校"]["open"], found["甲校"]["overdue"], found["甲校"]["days"]) == (1, 1, 0)
    assert (found["丙校"]["open"], found["丙校"]["overdue"], found["丙校"]["days"]) == (1, 0, 10)
    assert found["庚校"]["days"] is None
    # "Not visited for N days" is the reader's N.
    assert states(app, days_unvisited=14)["丁校"]["state"] == "ok"
    assert states(app, days_unvisited=3)["戊校"]["state"] == "unvisited"


def test_a_self_check_does_not_count_as_a_visit(app, world, make_visit):
    make_visit(world.officer, world.a, template="selfcheck", mode=VisitMode.SELF_CHECK, fail=())
    assert states(app)["甲校"]["state"] == "unvisited"


def test_the_map_data_is_compact_compressed_and_filtered_by_district(app, world, make_school, login_as):
    make_school(name="<b>城南小学</b>", district="城南街道", lat=31.81234567, lon=120.1)
    leader = login_as("leader")
    response = leader.get("/reports/map.json", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in response.headers["Vary"]
    data = json.loads(gzip.decompress(response.get_data()))
    assert data["columns"][:3] == ["id", "name", "district"] and data["states"][0] == "overdue"
    assert data["days"] == 7 and data["districts"] == ["城南街道", "澄江街道"]
    rows = {row[1]: row for row in data["schools"]}
    assert set(rows) == {"甲校", "乙校", "<b>城南小学</b>"}
    south = rows["<b>城南小学</b>"]
    assert data["districts"][south[2]] == "城南街道" and south[3] == 31.81235  # a metre is enough
    assert data["states"][south[5]] == "unvisited" and south[6:] == [0, 0, None]

    only = leader.get("/reports/map.json?district=城南街道&days=30").get_json()
    assert [row[1] for row in only["schools"]] == ["<b>城南小学</b>"] and only["days"] == 30
    assert only["districts"] == ["城南街道"]


def test_hostile_filters_read_as_the_defaults(world, login_as):
    leader = login_as("leader")
    for query in ("district=%3Cscript%3E", "district=" + "澄" * 5000, "days=-7", "days=1e9",
                  "days=" + "9" * 5000, "days=7.0", "district=&days="):
        response = leader.get(f"/reports/map.json?{query}")
        assert response.status_code == 200, query
        data = response.get_json()
        assert data["days"] == 7 and len(data["schools"]) == 2, query
        page = leader.get(f"/reports/map?{query}")
        assert page.status_code == 200 and "<script>" not in page.get_data(as_text=True).split("<main")[1]


def test_the_map_and_its_data_are_for_the_bureau_only(world, login_as):
    for who in ("officer", "officer_b", "volunteer"):
        browser = login_as(who)
        assert browser.get("/reports/map.json").status_code == 403, who
        assert browser.get("/reports/map").status_code == 403, who
    anonymous = login_as(None).get("/reports/map.json")
    assert anonymous.status_code == 302 and "甲校" not in anonymous.get_data(as_text=True)
    for who in ("admin", "leader", "inspector"):
        assert len(login_as(who).get("/reports/map.json").get_json()["schools"]) == 2, who


def test_the_page_draws_on_a_blank_canvas_unless_tiles_are_configured(app, world, login_as, monkeypatch):
    leader = login_as("leader")
    response = leader.get("/reports/map?district=澄江街道&days=14")
    page = response.get_data(as_text=True)
    assert 'class="map blank"' in page and "data-tiles" not in page
    assert "/reports/map.json?district=" in page and "days=14" in page
    assert "vendor/leaflet" in page and "vendor/supercluster" in page and "js/map" in page
    assert '<option value="14" selected>' in page and 'selected>澄江街道</option>' in page
    assert "img-src 'self' data: blob:;" in response.headers["Content-Security-Policy"]
    # The words the script puts in popups and the status line come from the page, translated.
    words = json.loads(page.split('id="map-words">')[1].split("</script>")[0])
    assert words["states"][3] == "14 天未检查" and words["days_ago"] == "{n} 天前"
    assert all("%(" not in text for text in [*words.pop("states"), *words.values()])

    monkeypatch.setitem(app.config, "MAP_TILE_URL", "https://tiles.example.gov.cn/{z}/{x}/{y}.png")
    response = leader.get("/reports/map")
    page = response.get_data(as_text=True)
    assert 'class="map"' in page and 'data-tiles="https://tiles.example.gov.cn/{z}/{x}/{y}.png"' in page
    assert "https://tiles.example.gov.cn" in response.headers["Content-Security-Policy"]


def test_with_no_schools_the_page_says_so_and_loads_no_map(make_user, make_browser):
    admin = make_user("admin")
    leader = make_user("leader")
    browser = make_browser()
    browser.sign_in(admin.username)
    page = browser.get("/reports/map").get_data(as_text=True)
    assert "还没有学校" in page and "/schools/import" in page and "leaflet" not in page
    assert browser.get("/reports/map.json").get_json()["schools"] == []
    other = make_browser()
    other.sign_in(leader.username)
    page = other.get("/reports/map").get_data(as_text=True)
    assert "还没有学校" in page and "/schools/import" not in page  # a leader cannot import
