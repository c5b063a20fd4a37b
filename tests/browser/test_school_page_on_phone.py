"""The school page on a phone: a visit under way is continued or discarded on purpose, and a page the
browser gives no camera or location says so before the visit starts."""
from tests.browser.conftest import eventually, sign_in
from tests.browser.test_offline_visit import SAVED, start_visit


def test_a_draft_is_continued_or_discarded_and_the_phone_forgets_it(server, phone):
    page = phone.new_page()
    sign_in(page, server.url)
    visit_id = start_visit(page, server.url, school_id=8)
    # The tap's own task already says it is saving: "all sent" would be untrue until the phone has it.
    status = page.evaluate("""() => { document.querySelector('#item-G2 button.choice-pass').click();
                                      const sync = document.querySelector('[data-sync-state]');
                                      return [sync.dataset.state, sync.textContent]; }""")
    assert status == ["saving", "正在保存…"]
    page.wait_for_function(SAVED, timeout=30000)
    assert page.inner_text("[data-sync-state]") == "已同步"

    page.goto(f"{server.url}/schools/8")
    assert page.is_visible("text=继续检查") and page.locator("text=开始检查").count() == 0
    page.click("text=继续检查")
    page.wait_for_selector("#checklist.js")
    assert page.get_attribute("#item-G2 button.choice-pass", "aria-pressed") == "true"

    page.goto(f"{server.url}/schools/8")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("text=放弃草稿")
    page.wait_for_selector("text=草稿已放弃")
    assert asked and "无法恢复" in asked[0]
    assert page.is_visible("text=开始检查")
    assert page.evaluate(f"fetch('/api/v1/visits/{visit_id}').then(r => r.status)") == 404
    # The phone let go of it too: nothing left to send it back from the dead.
    assert page.evaluate(f"idbKeyval.get('visit:{visit_id}')") is None
    eventually(page, "window.idbKeyval.get('outbox').then(l => !(l || []).length)")


def test_a_page_without_https_says_the_camera_and_location_cannot_work(server, phone):
    page = phone.new_page()
    sign_in(page, server.url)
    page.goto(f"{server.url}/schools/9")
    page.wait_for_load_state("load")
    assert page.is_hidden("#insecure-banner")  # 127.0.0.1 is a secure context

    insecure = phone.new_page()
    # What a phone reaching the server over http at a LAN address gets: no secure context.
    insecure.add_init_script("Object.defineProperty(window, 'isSecureContext', {get: () => false})")
    insecure.goto(f"{server.url}/schools/9")
    insecure.wait_for_selector("#insecure-banner", state="visible")
    assert "HTTPS" in insecure.inner_text("#insecure-banner")
    assert "相机" in insecure.inner_text("#insecure-banner")


def test_the_navigation_fits_a_360_px_phone_with_its_badge(server, browser):
    from tests.browser.conftest import ARGS  # noqa: F401 - the same browser, a smaller phone
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        for who in ("inspector", "leader", "officer"):
            page = context.new_page()
            sign_in(page, server.url, who)
            page.goto(f"{server.url}/schools/")
            nav = page.evaluate("""() => {
                const nav = document.querySelector('header.bar nav');
                return {scroll: nav.scrollWidth, client: nav.clientWidth,
                        right: Math.max(...[...nav.querySelectorAll('a, .badge')].map(e => e.getBoundingClientRect().right)),
                        links: [...nav.querySelectorAll('a')].map(a => a.textContent.trim())};
            }""")
            assert nav["scroll"] <= nav["client"] and nav["right"] <= 360, (who, nav)
            page.close()
            context.clear_cookies()
    finally:
        context.close()


def test_schools_near_me_lists_the_nearest_first_with_the_distance(server, phone):
    page = phone.new_page()
    sign_in(page, server.url)  # the phone stands at the first demo school's gate
    page.goto(f"{server.url}/")
    page.click("text=附近学校")
    page.wait_for_url("**/schools/?near=*")
    first = page.locator("#results li.row").first
    assert first.locator("a").get_attribute("href") == "/schools/1"
    assert "米" in first.locator(".distance").inner_text()
    assert page.is_visible("text=按距离由近到远")
    # The search button stays one line at 360 px wide.
    page.set_viewport_size({"width": 360, "height": 740})
    box = page.locator("form.search button").bounding_box()
    assert box["height"] < 60


def test_a_failed_item_has_one_text_field_and_keeps_the_note_typed_before(server, phone):
    from tests.browser.test_offline_visit import start_visit as start
    page = phone.new_page()
    sign_in(page, server.url)
    start(page, server.url, school_id=10)
    page.fill("#item-G2 input[name=note]", "门卫不在岗")
    page.click("#item-G2 button.choice-fail")
    assert page.is_hidden("#item-G2 input[name=note]")
    assert page.input_value("#item-G2 textarea") == "门卫不在岗"
    assert "整改单" in page.inner_text("#item-G2 .finding label")


def test_leaving_the_checklist_with_unsent_records_asks_first(server, phone):
    from tests.browser.test_offline_visit import start_visit as start
    page = phone.new_page()
    sign_in(page, server.url)
    start(page, server.url, school_id=11)
    phone.set_offline(True)
    page.click("#item-G2 button.choice-pass")
    eventually(page, "window.safecampusOutbox.pending().then(n => n > 0)")
    page.wait_for_timeout(300)  # the status line has counted it
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.evaluate("setTimeout(() => window.location.assign('/schools/'), 0)")
    page.wait_for_timeout(1000)
    assert asked == ["beforeunload"]
    assert "/visits/" in page.url  # stayed: nothing left behind unsent by accident
    phone.set_offline(False)
