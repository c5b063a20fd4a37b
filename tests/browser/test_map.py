"""The coverage map in Chromium at 360 px: markers and clusters account for every school, a cluster
zooms in, a dot opens the school's figures (its name as text, never as markup), the district filter
narrows the map, and with no tiles the map is drawn on a blank canvas with district labels and a scale."""
import subprocess
import sys

import pytest

from inspect_app import PROJECT_ROOT
from tests.browser.conftest import sign_in

HOSTILE = '<img src=x id=injected onerror="document.title=1">小学'
# 600 schools on a grid in three districts, east of the demo city, and one with a hostile name.
ADD_SCHOOLS = f"""
from inspect_app import create_app
from inspect_app.extensions import db
from inspect_app.schools.models import School, SchoolKind
app = create_app()
with app.app_context():
    for i in range(600):
        db.session.add(School(district="测试区%d" % (i % 3), name="测试学校%d" % i, kind=SchoolKind.PRIMARY,
                              address="", lat=31.6 + (i // 30) * 0.004, lon=120.6 + (i % 30) * 0.004))
    db.session.add(School(district="测试区0", name={HOSTILE!r}, kind=SchoolKind.PRIMARY, address="",
                          lat=31.55, lon=120.55))
    db.session.commit()
"""
RENDERED = "() => document.getElementById('map').dataset.rendered === 'true'"


@pytest.fixture(scope="module")
def province(server):
    subprocess.run([sys.executable, "-c", ADD_SCHOOLS], cwd=PROJECT_ROOT, env=server.env, check=True,
                   capture_output=True, timeout=120)
    return server


@pytest.fixture
def small_phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    yield context
    context.close()


def open_map(context, base, query=""):
    page = context.new_page()
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    sign_in(page, base, "leader")
    page.goto(f"{base}/reports/map{query}")
    page.wait_for_function(RENDERED, timeout=30000)
    return page, refused


def view(page) -> dict:
    return page.evaluate("""() => {
        const el = document.getElementById('map');
        const icons = [...document.querySelectorAll('.map-cluster-icon')];
        return {clusters: Number(el.dataset.clusters), markers: Number(el.dataset.markers), icons: icons.length,
                inClusters: icons.reduce((n, i) => n + Number(i.dataset.count), 0),
                zoom: window.inspectMap.getZoom(),
                legend: [...document.querySelectorAll('#map-legend .count')].reduce((n, c) => n + Number(c.textContent), 0)};
    }""")


def test_every_school_is_a_marker_or_in_a_cluster_and_a_cluster_zooms_in(province, small_phone):
    total = province.count("schools")
    page, refused = open_map(small_phone, province.url)
    first = view(page)
    # The whole bureau fits the first view: each school is drawn once, alone or in a cluster.
    assert first["clusters"] == first["icons"] > 0
    assert first["inClusters"] + first["markers"] == total == first["legend"]
    assert f"共 {total} 所学校" in page.inner_text("#map-status")
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".map-district").count() >= 1  # no tiles: the districts are named on the canvas
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing overflows the phone

    # A cluster inside the map's frame (those just outside it are drawn too, ready for a pan).
    centre = page.evaluate("""() => {
        const frame = document.getElementById('map').getBoundingClientRect();
        for (const icon of document.querySelectorAll('.map-cluster-icon')) {
            const r = icon.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;
            if (x > frame.left + 30 && x < frame.right - 60 && y > frame.top + 30 && y < frame.bottom - 60) return [x, y];
        }
    }""")
    renders = page.evaluate("document.getElementById('map').dataset.renders")
    page.mouse.click(*centre)
    page.wait_for_function(f"() => Number(document.getElementById('map').dataset.renders) > {renders}")
    closer = view(page)
    # The zoom at which the tapped cluster splits: the map shows finer pieces than before.
    assert closer["zoom"] > first["zoom"]
    assert closer["clusters"] + closer["markers"] > first["clusters"] + first["markers"]
    assert not refused, refused


SETTLED = """() => new Promise((done) => {
  const map = window.inspectMap;
  let quiet = setTimeout(done, 400);
  map.on("move moveend zoom", () => { clearTimeout(quiet); quiet = setTimeout(done, 400); });
})"""


def test_a_dot_opens_the_schools_figures_with_its_name_as_text(province, small_phone):
    page, refused = open_map(small_phone, province.url)
    page.evaluate("window.inspectMap.setView([31.55, 120.55], 17, {animate: false})")
    page.wait_for_function("() => document.getElementById('map').dataset.markers === '1'")
    assert page.evaluate("document.getElementById('map').dataset.clusters") == "0"
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.wait_for_selector(".map-popup")
    assert popup.query_selector("strong").inner_text() == HOSTILE
    assert page.locator("#injected").count() == 0 and page.title() != "1"
    text = popup.inner_text()
    assert "测试区0" in text and "从未检查" in text and "未销号整改单" in text
    link = popup.query_selector('[data-field="school"]').get_attribute("href")
    assert link.startswith("/schools/") and link != "/schools/1"
    assert popup.query_selector('[data-field="route"]').get_attribute("href").startswith("geo:31.55,120.55")
    # The popup pans the map into view (and the pan redraws the markers): a tap during that glide can
    # land beside the link, as a thumb would. Tap once the map has been still for a moment.
    page.evaluate(SETTLED)
    page.click('[data-field="school"]')
    page.wait_for_url(f"**{link}")
    assert HOSTILE in page.inner_text("h1")
    assert not refused, refused


def test_the_district_filter_narrows_the_map(province, small_phone):
    page, _ = open_map(small_phone, province.url)
    page.select_option("#district", "测试区1")
    page.wait_for_url("**district=*")
    page.wait_for_function(RENDERED, timeout=30000)
    narrowed = view(page)
    assert narrowed["inClusters"] + narrowed["markers"] == 200 == narrowed["legend"]
    assert page.locator(".map-district").all_inner_texts() == ["测试区1"]
