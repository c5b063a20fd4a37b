"""The public complaint form on a phone: a phone camera's photo is shrunk before it is sent (photos.js,
as for a visit), the complaint is stored with it, and the page stays light on a weak signal."""
import sqlite3

from tests.browser.test_tickets_on_phone import PHONE_PHOTO

FORM = "form[data-shrink-photos]"
BUDGET = 60 * 1024  # the checklist's first-visit budget (docs/benchmarks.md), which this page keeps too


def test_a_phone_photo_is_shrunk_before_it_is_sent_and_stored_with_the_complaint(server, phone):
    original = PHONE_PHOTO.read_bytes()
    page = phone.new_page()
    loaded = []
    page.on("requestfinished", lambda request: loaded.append(request))
    page.goto(f"{server.url}/complaints/new?school_id=1")
    page.wait_for_load_state("networkidle")
    # Opening the form fetches neither htmx nor the resizer: the resizer comes with the first photo.
    urls = [r.url for r in loaded]
    assert not any("htmx" in u or "browser-image-compression" in u for u in urls), urls
    sizes = [r.sizes() for r in loaded]
    assert sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes) <= BUDGET

    sent = []
    page.on("request", lambda request: sent.append(request)
            if request.method == "POST" and "/complaints/new" in request.url else None)
    page.fill("#text", "校门口上学时段无人值守，车辆随意停放")
    page.set_input_files(FORM + " input[type=file]", files=[
        {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": original}])
    # Sent at once, while the photo may still be shrinking: the form waits for it, then posts.
    page.click(FORM + " button[type=submit]")
    page.wait_for_selector("#tracking-code", timeout=120000)
    assert "Internal Server Error" not in page.content()

    assert len(sent) == 1
    # What crossed the network: Chromium does not hand a file part's bytes to Playwright, but it
    # counts them (Content-Length of the multipart body).
    length = int(sent[0].all_headers().get("content-length", 0))
    assert 0 < length < len(original) // 3, (length, len(original))
    with sqlite3.connect(server.db) as conn:
        rows = conn.execute(
            "SELECT c.text, p.size_bytes, p.width, p.height FROM complaints c "
            "JOIN complaint_photos cp ON cp.complaint_id = c.id JOIN photos p ON p.id = cp.photo_id "
            "ORDER BY c.id DESC LIMIT 1").fetchall()
    assert len(rows) == 1
    text, size, width, height = rows[0]
    assert text == "校门口上学时段无人值守，车辆随意停放"
    # The stored original is what the phone sent: the shrunk JPEG (≤ 500 KB, ≤ 1600 px), not 2.2 MB.
    assert size <= 600 * 1024 < len(original)
    assert max(width, height) <= 1600


def test_without_the_script_the_original_photo_is_still_accepted(server, browser):
    """No JavaScript (or a browser that cannot replace the picked files): a plain upload, within the
    server's limit, is taken as it is."""
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    before = server.count("complaint_photos")
    page.goto(f"{server.url}/complaints/new?school_id=2")
    page.fill("#text", "食堂后门的消防通道被杂物堵塞")
    page.set_input_files(FORM + " input[type=file]", str(PHONE_PHOTO))
    page.click(FORM + " button[type=submit]")
    page.wait_for_selector("#tracking-code", timeout=60000)
    assert server.count("complaint_photos") == before + 1
    with sqlite3.connect(server.db) as conn:
        size = conn.execute("SELECT p.size_bytes FROM complaint_photos cp JOIN photos p ON p.id = cp.photo_id "
                            "ORDER BY cp.complaint_id DESC LIMIT 1").fetchone()[0]
    assert size == PHONE_PHOTO.stat().st_size
    context.close()
