"""What a parent downloads: a poster's page signed out, on a brand-new phone with the service worker
on, fetches only what that page uses. The inspector's scripts (the visit, the photo resizer) and htmx
come to a phone only after someone signs in on it, and then the worker keeps them for offline use."""
import sqlite3

from tests.browser.conftest import eventually, sign_in

STAFF_ONLY = ("/static/js/visit.", "/static/js/photos.", "browser-image-compression", "htmx", "idb-keyval")

# Every URL the phone's caches hold (the service worker's precache among them).
CACHED = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
  }
  return urls;
}"""


def test_a_poster_page_signed_out_fetches_no_staff_script_until_someone_signs_in(server, phone):
    with sqlite3.connect(server.db) as conn:
        token = conn.execute("SELECT qr_token FROM schools ORDER BY id LIMIT 1").fetchone()[0]
    fetched = []
    # On the context, so the service worker's own fetches are seen too (its precache).
    phone.on("request", lambda request: fetched.append(request.url))
    page = phone.new_page()
    page.goto(f"{server.url}/s/{token}")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_load_state("networkidle")
    cached = page.evaluate(CACHED)
    # The worker is installed and holds the shell: the page works offline without the rest.
    assert any("/static/js/app." in url for url in cached) and any("/offline" in url for url in cached), cached
    assert not [url for url in fetched + cached if any(name in url for name in STAFF_ONLY)]

    sign_in(page, server.url)
    eventually(page, f"({CACHED})().then(urls => urls.some(u => u.includes('/static/js/visit.')) "
                     "&& urls.some(u => u.includes('browser-image-compression')))")
