"""Issue 13's "done when", walked in real Chromium: an invited parent registers on a phone, gets a task,
does the check in its window, and follows its outcome from 整改中 to 已整改; their real name shows on
none of the screens on the way."""
import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.browser.conftest import sign_in, submit_visit
from tests.browser.test_offline_visit import PHOTO, SAVED
from tests.browser.test_tickets_on_phone import _phone_context, respond_with_photo

REAL_NAME, PHONE = "司马真名家长", "13966660001"


def _row(server, sql, *params):
    with sqlite3.connect(server.db) as conn:
        return conn.execute(sql, params).fetchone()


def _screen(page) -> str:
    return page.evaluate("document.title") + "\n" + page.inner_text("body")


def test_an_invited_parent_registers_on_a_phone_checks_in_the_window_and_follows_the_outcome(server, browser, phone):
    # The coordinator issues an invitation at a desk; the card shows its link once (as its QR code).
    desk = browser.new_context(locale="zh-CN")
    coordinator = desk.new_page()
    sign_in(coordinator, server.url, "admin")
    coordinator.goto(f"{server.url}/programme/invitations")
    coordinator.click("button:has-text('生成邀请')")
    coordinator.wait_for_selector("section.poster .url", timeout=60000)
    link = coordinator.inner_text("section.poster .url").strip()
    assert link.startswith(f"{server.url}/programme/join/")

    # The parent scans it: the agreement, their details, a child's school (the second demo school).
    page = phone.new_page()
    page.goto(link)
    assert page.locator("#agreement-text li").count() >= 4  # the agreement comes first, on the same page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.fill("#username", "sima.parent")
    page.fill("#password", "a long parent passphrase")
    page.fill("#real_name", REAL_NAME)
    page.fill("#phone", PHONE)
    page.check("input[name=child_school_ids][value='2']")
    page.click("label.check:has(#agreement)")  # a thumb on the words ticks the box
    assert page.is_checked("#agreement")
    page.click("form button.primary")
    page.wait_for_url(lambda url: "/join/" not in url)
    volunteer_id, pseudonym = _row(server, "SELECT id, pseudonym FROM users WHERE username = 'sima.parent'")
    assert pseudonym.startswith("志愿者")
    assert REAL_NAME not in _screen(page) and "志愿者" not in _screen(page)

    # The coordinator puts them on the first school's list and gives them a covert task from today.
    coordinator.goto(f"{server.url}/schools/1")
    coordinator.check(f"input[name=user_ids][value='{volunteer_id}']")
    coordinator.click("button:has-text('保存安排')")
    coordinator.wait_for_load_state("load")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    coordinator.goto(f"{server.url}/programme/{volunteer_id}")
    page_text = coordinator.inner_text("body")
    assert pseudonym in page_text and REAL_NAME not in page_text
    coordinator.select_option("#school_id", "1")
    coordinator.fill("#first_day", today.isoformat())
    coordinator.fill("#last_day", (today + timedelta(days=2)).isoformat())
    coordinator.click("button:has-text('布置任务')")
    coordinator.wait_for_load_state("load")
    assert _row(server, "SELECT count(*) FROM tasks WHERE assignee_id = ? AND status = 'open'", volunteer_id)[0] == 1

    # On the phone: the task first, with its school; the check at the gate, one problem seen.
    page.goto(f"{server.url}/")
    tasks = page.locator("#my-tasks")
    assert tasks.count() == 1 and f"{today.month}月{today.day}日" in tasks.inner_text()
    tasks.locator("a[href^='/schools/']").first.click()
    page.wait_for_url("**/schools/1")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.click("button:has-text('开始')")
    page.wait_for_url("**/visits/new?*")
    page.wait_for_selector("#checklist.js")
    codes = page.eval_on_selector_all("#checklist article.item", "els => els.map(e => e.id.slice(5))")
    for code in codes:
        page.click(f"#item-{code} button.choice-{'fail' if code == 'V1' else 'pass'}")
    page.wait_for_function(SAVED, timeout=30000)
    submit_visit(page)
    page.wait_for_selector("text=已提交", timeout=30000)
    # Done in its window: the task is carried out, and the coordinator reads it so.
    status, done_at, window_end = _row(server, "SELECT status, done_at, window_end FROM tasks WHERE assignee_id = ?",
                                       volunteer_id)
    assert status == "done" and done_at <= window_end
    coordinator.goto(f"{server.url}/programme/{volunteer_id}")
    assert "已完成" in coordinator.inner_text("body")
    desk.close()

    # The outcome, on the phone: the problem is being fixed.
    page.goto(f"{server.url}/programme/history")
    history = page.inner_text("main")
    assert "整改中" in history and "已整改" not in history
    ticket_id = _row(server, "SELECT t.id FROM tickets t JOIN findings f ON f.id = t.finding_id "
                             "JOIN visits v ON v.id = f.visit_id WHERE v.author_id = ?", volunteer_id)[0]

    # The school reports its rectification; a leader re-checks and closes it out.
    school = browser.new_context(locale="zh-CN")
    officer = school.new_page()
    sign_in(officer, server.url, "officer")
    respond_with_photo(officer, server.url, ticket_id, "已安排专人在校门测温登记")
    school.close()
    # 回头看: the leader goes to the school and closes it out there, with a photo taken on site.
    bureau = _phone_context(browser)  # cookies of its own: another person
    leader = bureau.new_page()
    sign_in(leader, server.url, "leader")
    leader.goto(f"{server.url}/schools/1")
    leader.click("text=开始回头看")
    leader.wait_for_selector("#checklist.js")
    leader.click(f"#ticket-{ticket_id} button[data-outcome=close]")
    shown = leader.locator(f"#ticket-{ticket_id} .thumbs img").count()  # the school's report's photo
    leader.set_input_files(f"#ticket-{ticket_id} input[type=file]", str(PHOTO))
    leader.wait_for_selector(f"#ticket-{ticket_id} .thumbs img >> nth={shown}", timeout=30000)
    leader.wait_for_function(SAVED, timeout=30000)
    submit_visit(leader)
    leader.wait_for_selector("#visit-outcome", timeout=30000)
    assert _row_status(server, ticket_id) == "closed"
    bureau.close()

    # Back on the phone: fixed. No staff name, and never the parent's real name.
    page.goto(f"{server.url}/programme/history")
    history = page.inner_text("main")
    assert "已整改" in history and "整改中" not in history
    for screen in ("/", "/programme/history", "/programme/children", "/visits/"):
        page.goto(server.url + screen)
        assert REAL_NAME not in _screen(page) and PHONE not in _screen(page) and "周老师" not in _screen(page), screen


def _row_status(server, ticket_id: int) -> str:
    with sqlite3.connect(server.db) as conn:
        return conn.execute("SELECT status FROM tickets WHERE id = ?", (ticket_id,)).fetchone()[0]
