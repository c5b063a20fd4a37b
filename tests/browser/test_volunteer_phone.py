"""A parent volunteer's phone at the school gate (issue 10, volunteer): the screen, the tab and the
home-screen app read as a notes app from start to submit, and the volunteer still sees what they did."""
from tests.browser.conftest import sign_in, submit_visit
from tests.browser.test_offline_visit import SAVED

GIVEAWAYS = ("暗访", "督查", "督学", "志愿者", "检查", "SafeCampus")


def _screen(page) -> str:
    """What a bystander can read: the rendered text and the tab's title."""
    return page.evaluate("document.title") + "\n" + page.inner_text("body")


def _clean(page, where):
    seen = _screen(page)
    assert not [w for w in GIVEAWAYS if w in seen], f"{where}: {seen[:400]}"
    assert page.evaluate("document.title") == "随手记", where


def test_a_covert_check_on_a_phone_looks_like_a_notes_app(server, phone):
    page = phone.new_page()
    sign_in(page, server.url, "volunteer")
    _clean(page, "home")
    manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["name"] == "随手记" and "notes-" in manifest["icons"][0]["src"]

    page.goto(f"{server.url}/schools/")
    _clean(page, "schools")
    page.click("#results a.stretch >> nth=0")
    page.wait_for_load_state("load")
    _clean(page, "school")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.click("button:has-text('开始')")
    page.wait_for_url("**/visits/new?*")
    page.wait_for_selector("#checklist.js")
    for button in page.query_selector_all("button.choice-pass"):
        button.click()
    page.wait_for_function(SAVED, timeout=30000)
    _clean(page, "checklist")
    asked = submit_visit(page)
    assert not [w for w in GIVEAWAYS if w in asked], asked
    page.wait_for_selector("text=已提交")
    _clean(page, "after submitting")
