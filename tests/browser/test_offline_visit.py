"""A visit survives a dead network and syncs exactly once — in real Chromium on a phone-sized screen."""
import json
import sqlite3
import time

from itsdangerous.encoding import base64_decode

from inspect_app import PROJECT_ROOT
from tests.browser.conftest import eventually, sign_in, submit_visit

PHOTO = PROJECT_ROOT.parent / "shared" / "fixtures" / "photos" / "jpg_hdr_iphone_hdr_NO.jpg"


SNAPSHOT = """async () => {
  const entries = [];
  for (const key of await idbKeyval.keys()) entries.push([key, await idbKeyval.get(key)]);
  window.__queue = entries;
  return entries.length;
}"""
REPLAY = """async () => {
  for (const [key, value] of window.__queue) await idbKeyval.set(key, value);
  await window.safecampusOutbox.flush();
  return window.safecampusOutbox.pending();
}"""
SAVED = "() => document.querySelector('[data-sync-state]').dataset.state === 'saved'"
HAS_FIX = """async () => {
  const visit = await idbKeyval.get("visit:" + window.safecampusOutbox.visitId());
  return !!(visit && visit.location);
}"""


def start_visit(page, base: str, school_id: int = 1) -> str:
    """Start from the school page; the phone creates the visit, the server has it once synced."""
    page.goto(f"{base}/schools/{school_id}")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.click("text=开始检查")
    page.wait_for_url("**/visits/new?*")
    page.wait_for_selector("#checklist.js")
    visit_id = page.evaluate("window.safecampusOutbox.visitId()")
    # Once more so the service worker controls the page and keeps a copy: the draft resumes.
    page.reload()
    page.wait_for_selector("#checklist.js")
    assert page.evaluate("!!navigator.serviceWorker.controller")
    assert page.evaluate("window.safecampusOutbox.visitId()") == visit_id
    page.wait_for_function(SAVED, timeout=30000)
    return visit_id


# Taps every passed item in one go, as a thumb going down the list fast does (the click reaches the
# page's own handler, and the status says 正在保存 from the first, so a wait for "saved" after this
# waits for them all). A Playwright click per item (its checks, pointer events and round trip) was
# 50 ms each, 28 a visit, in every test that only needs a visit answered. The failed items are
# tapped for real: a failure opens its finding.
ANSWER_PASSES = """codes => codes.forEach(code => document.querySelector(`#item-${code} button.choice-pass`).click())"""


def answer_everything(page, fail=("G1",)):
    codes = page.eval_on_selector_all("#checklist article.item", "els => els.map(e => e.id.slice(5))")
    page.evaluate(ANSWER_PASSES, [code for code in codes if code not in fail])
    for code in codes:
        if code in fail:
            page.click(f"#item-{code} button.choice-fail")
    return codes




def test_offline_visit_with_photos_survives_a_reload_and_syncs_exactly_once(server, phone):
    page = phone.new_page()
    sign_in(page, server.url)
    visit_id = start_visit(page, server.url)
    visits_before, photos_before = server.count("visits"), server.count("photos")

    phone.set_offline(True)
    codes = answer_everything(page)
    page.set_input_files("#item-G1 input[type=file]", str(PHOTO))
    page.wait_for_selector("#item-G1 .thumbs img", timeout=20000)
    assert "离线" in page.inner_text("[data-sync-state]")

    # Mid-visit reload with no network: the service worker serves the page, IndexedDB the answers.
    page.reload()
    page.wait_for_selector("#checklist.js")
    assert page.inner_text("#progress .count") == f"{len(codes)} / {len(codes)}"
    assert page.get_attribute("#item-G1 button.choice-fail", "aria-pressed") == "true"
    assert page.locator("#item-G1 .thumbs img").count() == 1
    assert page.evaluate(SNAPSHOT) >= 3  # the visit, its photo, the outbox
    assert server.count("photos") == photos_before  # nothing could have left the phone

    phone.set_offline(False)
    page.click("#sync-now")
    page.wait_for_function(SAVED, timeout=30000)
    assert server.count("visits") == visits_before and server.count("photos") == photos_before + 1
    # The same queue replayed three times: still one visit and one set of photos.
    for _ in range(3):
        assert page.evaluate(REPLAY) == 0
    assert server.count("visits") == visits_before and server.count("photos") == photos_before + 1

    submit_visit(page)
    page.wait_for_selector("text=到场核验", timeout=30000)  # sent, then on to the summary
    visit = page.evaluate(f"fetch('/api/v1/visits/{visit_id}').then(r => r.json())")
    assert visit["status"] == "submitted"
    assert [(f["code"], len(f["photos"])) for f in visit["findings"]] == [("G1", 1)]
    assert visit["flags"]["incomplete"] is False and visit["flags"]["on_site"] is True
    assert server.count("photos") == photos_before + 1


def submitted_offline(page, server, phone) -> str:
    """A visit at the third school answered and submitted with no signal; the phone is still offline."""
    sign_in(page, server.url)
    visit_id = start_visit(page, server.url, school_id=3)
    phone.set_offline(True)
    answer_everything(page, fail=())
    submit_visit(page)
    assert "已在本机提交" in page.inner_text("#submit-reason")
    return visit_id


def test_submitting_while_offline_is_sent_when_the_signal_returns(server, phone):
    page = phone.new_page()
    visit_id = submitted_offline(page, server, phone)
    phone.set_offline(False)  # the page's "online" listener sends it without a tap
    page.wait_for_selector("text=到场核验", timeout=30000)
    assert page.evaluate(f"fetch('/api/v1/visits/{visit_id}').then(r => r.json())")["status"] == "submitted"


# A round whose first request fails three seconds later, as a request sent as the signal went does
# (a TypeError); the requests after it go out as usual.
FAILING_ROUND = """() => {
  const real = window.fetch;
  window.fetch = (...args) => {
    window.fetch = real;
    return new Promise((_, reject) => setTimeout(() => reject(new TypeError("Failed to fetch")), 3000));
  };
  window.safecampusOutbox.flush();
}"""


def test_a_signal_back_during_a_failing_round_sends_at_once(server, phone):
    """A phone regaining its signal while a round is still failing for the lack of it sends as soon as
    that round ends, not at the next 30 s tick (the "online" event came while the round was busy)."""
    page = phone.new_page()
    visit_id = submitted_offline(page, server, phone)
    page.evaluate(FAILING_ROUND)
    phone.set_offline(False)  # its "online" event comes while that round still waits
    page.wait_for_selector("text=到场核验", timeout=15000)  # the summary, after the next round
    assert page.evaluate(f"fetch('/api/v1/visits/{visit_id}').then(r => r.json())")["status"] == "submitted"


# The moment the outbox lets go of a visit it has just sent, another tap is saved first (as a thumb
# going down the list does): that later change must still go.
TAP_AS_IT_DEQUEUES = """([first, second]) => new Promise(resolve => {
  const idb = window.idbKeyval, update = idb.update, fetch = window.fetch;
  let sent = false, armed = true;
  window.fetch = (...args) => fetch(...args).then(r => {
    if (String(args[0]).includes("/api/v1/visits/")) sent = true;
    return r;
  });
  idb.update = function (key, fn) {
    if (!(armed && sent && key === "outbox")) return update.call(idb, key, fn);
    armed = false;
    document.querySelector(`#item-${second} button.choice-pass`).click();
    return new Promise(r => setTimeout(r, 500)).then(() => update.call(idb, key, fn)).then(v => {
      resolve(true);
      return v;
    });
  };
  document.querySelector(`#item-${first} button.choice-pass`).click();
})"""


def test_a_tap_saved_as_the_outbox_lets_go_of_the_visit_is_still_sent(server, phone):
    page = phone.new_page()
    sign_in(page, server.url)
    visit_id = start_visit(page, server.url, school_id=5)  # a school of its own: the draft stays open
    codes = page.eval_on_selector_all("#checklist article.item", "els => els.map(e => e.id.slice(5))")
    assert page.evaluate(TAP_AS_IT_DEQUEUES, codes[:2])
    page.wait_for_function(SAVED, timeout=30000)
    eventually(page, f"""fetch('/api/v1/visits/{visit_id}').then(r => r.json()).then(v =>
        ['{codes[0]}', '{codes[1]}'].every(code => v.answers.some(a => a.code === code)))""", timeout=10)


def test_the_phone_shrinks_a_12mp_photo_before_upload(server, phone):
    page = phone.new_page()
    sign_in(page, server.url)
    uploads = []
    page.on("request", lambda r: uploads.append(r) if r.method == "PUT" and "/api/v1/photos/" in r.url else None)
    visit_id = start_visit(page, server.url)
    page.click("#item-G1 button.choice-fail")
    page.set_input_files("#item-G1 input[type=file]", str(PHOTO))
    page.wait_for_selector("#item-G1 .thumbs img", timeout=20000)
    page.wait_for_function(SAVED, timeout=30000)
    # Chromium does not hand a file part's bytes to Playwright, but it counts them (Content-Length).
    lengths = [int(r.all_headers().get("content-length", 0)) for r in uploads]
    assert lengths and 0 < max(lengths) <= 200 * 1024 < PHOTO.stat().st_size, lengths
    # Chromium encodes WebP, so the phone sends WebP (photos.js); the server takes Chromium's own
    # WebP and serves its usual JPEG sizes made from it.
    visit = page.evaluate(f"fetch('/api/v1/visits/{visit_id}').then(r => r.json())")
    photo = visit["findings"][0]["photos"][0]
    with sqlite3.connect(server.db) as conn:
        mime, size = conn.execute("SELECT mime, size_bytes FROM photos WHERE id = ?", (photo["id"],)).fetchone()
    assert mime == "image/webp" and size <= 200 * 1024, (mime, size)
    for url in (photo["url"], photo["thumb_url"]):
        served = page.evaluate(f"fetch('{url}').then(r => [r.status, r.headers.get('Content-Type')])")
        assert served == [200, "image/jpeg"], (url, served)


def test_an_expired_csrf_token_is_renewed_before_the_replay(make_server, phone):
    # The page's token is made when start_visit reloads the page; from there to the offline tap takes
    # 0.4 s here, so 3 s leaves a loaded machine several times that, and 4.5 s is all the test waits.
    server = make_server(CSRF_TIME_LIMIT_S="3")
    page = phone.new_page()
    renewals = []
    page.on("request", lambda r: renewals.append(r.url) if r.url.endswith("/api/v1/csrf") else None)
    sign_in(page, server.url)
    visit_id = start_visit(page, server.url)
    phone.set_offline(True)
    page.click("#item-G2 button.choice-pass")
    # Within the limit so far: the replay below is the first thing to meet an expired token (had the
    # page been too slow, the save above would have renewed it and the replay would prove nothing).
    assert renewals == []
    # Wait until the page's token is older than the server accepts (its signature carries the whole
    # second it was made; the server refuses it once more than 3 whole seconds have passed since),
    # counted from when it was made rather than from here, which is seconds later on a loaded machine.
    token = json.loads(page.get_attribute("body", "hx-headers"))["X-CSRFToken"]
    made = int.from_bytes(base64_decode(token.split(".")[-2]), "big")
    time.sleep(max(0.0, made + 4 + 0.5 - time.time()))
    phone.set_offline(False)
    page.click("#sync-now")
    page.wait_for_function(SAVED, timeout=30000)
    assert len(renewals) == 1  # refused once with the old token, renewed, sent again
    visit = page.evaluate(f"fetch('/api/v1/visits/{visit_id}').then(r => r.json())")
    assert {"code": "G2", "result": "pass", "note": ""} in visit["answers"]


def test_the_app_is_installable(server, phone):
    page = phone.new_page()
    page.goto(server.url + "/accounts/sign-in")
    manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert page.request.get(server.url + icon["src"]).status == 200
    assert page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")


def test_a_page_never_opened_shows_the_offline_page(server, phone):
    page = phone.new_page()
    sign_in(page, server.url)
    page.goto(server.url + "/schools/1")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    phone.set_offline(True)
    response = page.goto(server.url + "/schools/7")
    assert response.from_service_worker
    assert "网络未连接" in page.content()
    phone.set_offline(False)
    # Once that page answers again, the phone loads it without a tap (its address never changed).
    page.wait_for_function("() => !document.querySelector('[data-offline-page]')", timeout=20000)
    assert page.url == server.url + "/schools/7" and "开始检查" in page.content()


def test_a_school_kept_offline_can_start_and_finish_a_visit_with_no_signal(server, phone):
    page = phone.new_page()
    sign_in(page, server.url)
    page.goto(server.url + "/schools/?q=江阴市青阳中学")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    button = page.locator("button.pack").first
    button.click()
    page.wait_for_function("() => !document.getElementById('pack-summary').hidden", timeout=20000)
    summary = page.inner_text("#pack-summary")
    assert "1" in summary and ("KB" in summary or "MB" in summary)
    school_url = page.get_attribute("#results a.stretch", "href")
    visits_before = server.count("visits")

    phone.set_offline(True)
    response = page.goto(server.url + school_url)
    assert response.from_service_worker
    page.click("text=开始检查")
    page.wait_for_selector("#checklist.js")
    answer_everything(page, fail=())
    # The check-in place is the phone's first fix; a person finishing a visit has had one long before,
    # a test answering every item in a millisecond on a loaded machine may not yet.
    eventually(page, HAS_FIX, timeout=15)
    submit_visit(page)
    assert "已在本机提交" in page.inner_text("#submit-reason")
    assert server.count("visits") == visits_before

    phone.set_offline(False)
    page.wait_for_selector("text=到场核验", timeout=30000)
    assert server.count("visits") == visits_before + 1
    visit_id = page.url.rsplit("/", 1)[1]
    visit = page.evaluate(f"fetch('/api/v1/visits/{visit_id}').then(r => r.json())")
    assert visit["status"] == "submitted" and visit["location"] is not None


def test_the_in_app_scanner_reads_a_school_code_and_opens_the_school(server, phone, tmp_path):
    import qrcode
    import sqlite3
    with sqlite3.connect(server.db) as conn:
        token = conn.execute("SELECT qr_token FROM schools ORDER BY id LIMIT 1").fetchone()[0]
    picture = tmp_path / "poster.png"
    qrcode.make(f"{server.url}/s/{token}").save(picture)
    page = phone.new_page()
    scripts = []
    page.on("request", lambda r: scripts.append(r.url) if "qr-scanner" in r.url else None)
    sign_in(page, server.url)
    assert not scripts  # no other page loads the scanner
    page.goto(server.url + "/scan")
    page.set_input_files("#scan-file", str(picture))
    page.wait_for_url(f"**/s/{token}", timeout=20000)
    # The school's start panel: a new visit, or the one this inspector left in progress here earlier.
    assert "开始检查" in page.content() or "继续检查" in page.content()
    assert any("qr-scanner" in url for url in scripts)


def test_the_scanner_refuses_a_code_that_is_not_ours(server, phone, tmp_path):
    import qrcode
    picture = tmp_path / "elsewhere.png"
    qrcode.make("https://example.com/s/abc").save(picture)
    page = phone.new_page()
    page.goto(server.url + "/scan")
    page.set_input_files("#scan-file", str(picture))
    page.wait_for_function("() => document.getElementById('scan-status').textContent.length > 0", timeout=20000)
    assert "不是本系统的二维码" in page.inner_text("#scan-status")
    assert page.url.endswith("/scan")


def test_signing_out_with_unsent_records_warns_first(server, phone):
    page = phone.new_page()
    sign_in(page, server.url)
    start_visit(page, server.url, school_id=4)
    phone.set_offline(True)
    page.click("#item-G2 button.choice-pass")
    eventually(page, "window.safecampusOutbox.pending().then(n => n > 0)")
    # Back online, but the server cannot be reached yet: the record is still unsent at sign-out.
    page.route("**/api/v1/**", lambda route: route.abort())
    phone.set_offline(False)
    messages = []

    def refuse(dialog):
        messages.append(dialog.message)
        dialog.dismiss()
    page.once("dialog", refuse)
    page.locator("form[data-sign-out]:not(:has([name=everywhere])) button[type=submit]").click()
    page.wait_for_timeout(500)
    assert messages and "尚未发送" in messages[0]
    assert "/accounts/sign-in" not in page.url  # still signed in: nothing was thrown away
