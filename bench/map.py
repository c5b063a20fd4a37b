"""The map over a province: 20,000 schools served, clustered and panned on a throttled phone.

    .venv/bin/python -m bench.map [--reuse] [--runs 5] [--throttle 4]

Builds its own scratch database `inspect_map` (PostgreSQL, the province of `bench.scale`: 20,000
schools in 100 districts, 250,000 visits, 500,000 tickets; its own name, so it never drops the
database another benchmark is measuring), then:

1. times `reports.services.school_states()` in the app and the size of `/reports/map.json`;
2. serves the app with gunicorn and opens `/reports/map` in Debian's Chromium as a 390 px phone
   whose CPU is slowed down (`--throttle`, 4× as Lighthouse's mobile run), and measures the time to
   the first drawing of the map, the time each redraw takes after a pan or a zoom, and the frame
   times while the map is being dragged (what "pans smoothly" means: frames under 50 ms).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import sqlalchemy as sa

from bench import scale
from inspect_app import PROJECT_ROOT

NAME = "inspect_map"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{NAME}"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-map-pass-1"  # noqa: S105 - a scratch database's own user


def app():
    from inspect_app import create_app
    from inspect_app.config import Config
    return create_app(Config, SQLALCHEMY_DATABASE_URI=URL, WTF_CSRF_ENABLED=False)  # the test client signs in


def leader(application) -> None:
    """A leader to sign in as (the province's inspectors have no usable password)."""
    from inspect_app.accounts.models import Role, User
    from inspect_app.extensions import db
    with application.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "bench-leader"))
        if user is None:
            user = User(username="bench-leader", display_name="基准领导", role=Role.LEADER)
            db.session.add(user)
        user.set_password(PASSWORD)
        db.session.commit()


def measure_server(application, runs: int) -> None:
    import gzip

    from inspect_app.reports import services
    with application.test_request_context("/"):
        times = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            states = services.school_states()
            times.append((time.perf_counter() - started) * 1000)
        print(f"school_states: {len(states)} schools, first {times[0]:.0f} ms, "
              f"then median {statistics.median(times[1:]):.0f} ms, max {max(times[1:]):.0f} ms")
    client = application.test_client()
    with client.session_transaction():
        pass
    response = client.post("/accounts/sign-in", data={"username": "bench-leader", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    started = time.perf_counter()
    body = client.get("/reports/map.json").get_data()
    took = (time.perf_counter() - started) * 1000
    print(f"/reports/map.json: {len(body) / 1024:.0f} KB, {len(gzip.compress(body)) / 1024:.0f} KB gzipped, "
          f"{took:.0f} ms in the test client")


# Records every frame's duration in the page while a finger drags the map (Leaflet only moves its
# panes during a drag; the clusters are recomputed once, when the finger lets go).
FRAMES = """() => { window.frames_ = []; let last = performance.now();
  const tick = (now) => { window.frames_.push(now - last); last = now; if (window.frames_) requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""


def drag(page) -> list[float]:
    box = page.locator("#map").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.evaluate(FRAMES)
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 41):
        page.mouse.move(x - step * 4, y - step * 3)
    page.mouse.up()
    page.wait_for_timeout(600)  # the redraw after letting go
    frames = page.evaluate("() => { const f = window.frames_; window.frames_ = null; return f.slice(1); }")
    return frames


# The alternative measured against: every school as its own circle on the canvas, no clusters.
ALL_CIRCLES = """async () => {
  const map = window.inspectMap;
  map.off("moveend");
  map.eachLayer((layer) => { if (layer instanceof L.LayerGroup) layer.clearLayers(); });
  const data = await (await fetch(document.getElementById("map").dataset.src)).json();
  const started = performance.now();
  const group = L.layerGroup(data.schools.map((row) => L.circleMarker([row[3], row[4]], {radius: 8})));
  group.addTo(map);
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return performance.now() - started;
}"""
RENDERED = "() => document.getElementById('map').dataset.rendered"


def measure_browser(throttle: float, runs: int) -> None:
    from playwright.sync_api import sync_playwright
    port = 5391
    env = {**os.environ, "DATABASE_URL": URL, "FLASK_APP": "wsgi", "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                               "wsgi:app"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        time.sleep(3)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=3,
                                          is_mobile=True, has_touch=True, locale="zh-CN")
            page = context.new_page()
            base = f"http://127.0.0.1:{port}"
            page.goto(base + "/accounts/sign-in")
            page.fill("#username", "bench-leader")
            page.fill("#password", PASSWORD)
            page.click("button.primary")
            page.wait_for_url(lambda url: "/accounts/sign-in" not in url)
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
            firsts, starts, redraws, frames, baseline = [], [], [], [], []
            for _ in range(runs):
                page.goto(base + "/reports/map")
                page.wait_for_function(RENDERED, timeout=120000)
                firsts.append(page.evaluate("performance.now()"))
                starts.append(float(page.evaluate("document.getElementById('map').dataset.startMs")))
                centre = page.evaluate("() => { const c = window.inspectMap.getCenter(); return [c.lat, c.lng]; }")
                frames += drag(page)  # the whole province in view: clusters
                for zoom in (9, 11, 13, 15):
                    page.evaluate(f"window.inspectMap.setView({centre}, {zoom}, {{animate: false}})")
                    page.wait_for_timeout(300)
                    redraws.append(float(page.evaluate("document.getElementById('map').dataset.renderMs")))
                frames += drag(page)  # close in: single schools
                state = page.evaluate("Object.assign({}, document.getElementById('map').dataset)")
            # What clustering saves: the same 20,000 schools as one canvas circle each.
            page.goto(base + "/reports/map")
            page.wait_for_function(RENDERED, timeout=120000)
            took = page.evaluate(ALL_CIRCLES)
            baseline = drag(page)
            browser.close()
        frames.sort()
        print(f"throttle {throttle}x: first drawing after {statistics.median(firsts):.0f} ms (median of {runs}; "
              f"of which indexing and drawing {statistics.median(starts):.0f} ms), "
              f"redraw after a zoom median {statistics.median(redraws):.1f} ms, max {max(redraws):.1f} ms; "
              f"drag frames p50 {frames[len(frames) // 2]:.1f} ms, p95 {frames[int(len(frames) * .95)]:.1f} ms, "
              f"max {frames[-1]:.1f} ms; last view {state.get('clusters')} clusters, {state.get('markers')} markers")
        baseline.sort()
        print(f"without clustering (20,000 canvas circles): drawn in {took:.0f} ms; drag frames "
              f"p50 {baseline[len(baseline) // 2]:.1f} ms, p95 {baseline[int(len(baseline) * .95)]:.1f} ms, "
              f"max {baseline[-1]:.1f} ms")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--throttle", type=float, default=4)
    parser.add_argument("--reuse", action="store_true", help="measure the database built last time")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    # Both need PUBLIC_BASE_URL in the environment, like any flask command.
    scale.build(NAME) if not args.reuse else scale.upgrade(NAME)
    if args.build_only:
        return
    application = app()
    leader(application)
    measure_server(application, args.runs)
    measure_browser(args.throttle, args.runs)


if __name__ == "__main__":
    main()
