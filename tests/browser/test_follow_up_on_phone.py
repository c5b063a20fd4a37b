"""回头看 on the phone, offline: at a school kept for offline use, a verifier sees its tickets with their
before and after photos, closes one out with a photo taken there and sends another back with a new
deadline, with no signal; once it returns, one visit carries both verdicts and its proof of presence."""
import sqlite3
from datetime import date, timedelta

from tests.browser.conftest import sign_in, submit_visit
from tests.browser.test_offline_visit import PHOTO, SAVED, answer_everything, start_visit
from tests.browser.test_tickets_on_phone import _phone_context, respond_with_photo


def _two_tickets(server, browser) -> tuple[int, int]:
    """The inspector fails G1 and G2 at the first demo school; the school reports on the first."""
    context = _phone_context(browser)
    page = context.new_page()
    sign_in(page, server.url, "inspector")
    start_visit(page, server.url, school_id=1)
    answer_everything(page, fail=("G1", "G2"))
    for code in ("G1", "G2"):
        page.set_input_files(f"#item-{code} input[type=file]", str(PHOTO))
        page.wait_for_selector(f"#item-{code} .thumbs img", timeout=20000)
    page.wait_for_function(SAVED, timeout=30000)
    submit_visit(page)
    page.wait_for_selector("#visit-outcome", timeout=30000)
    with sqlite3.connect(server.db) as conn:
        found = [row[0] for row in conn.execute("SELECT id FROM tickets ORDER BY id DESC LIMIT 2")]
    responded, still_open = sorted(found)
    context.close()
    context = _phone_context(browser)
    page = context.new_page()
    sign_in(page, server.url, "officer")
    respond_with_photo(page, server.url, responded, "已安排专人值守校门")
    context.close()
    return responded, still_open


def _row(server, sql, *args):
    with sqlite3.connect(server.db) as conn:
        return conn.execute(sql, args).fetchone()


def test_a_follow_up_offline_closes_one_ticket_and_sends_another_back_with_presence(server, browser, phone):
    responded, still_open = _two_tickets(server, browser)
    school = _row(server, "SELECT name FROM schools WHERE id = 1")[0]
    page = phone.new_page()
    sign_in(page, server.url, "leader")  # not the finder: verification is independent
    page.goto(f"{server.url}/schools/?q={school}")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.locator("button.pack").first.click()
    page.wait_for_function("() => !document.getElementById('pack-summary').hidden", timeout=20000)
    school_url = page.get_attribute("#results a.stretch", "href")
    visits_before = server.count("visits")

    phone.set_offline(True)
    assert page.goto(server.url + school_url).from_service_worker
    page.click("text=开始回头看")
    page.wait_for_selector("#checklist.js")
    # Both tickets, with the finding's photo and (for the one reported) the school's, from the pack.
    closing, reopening = f"#ticket-{responded}", f"#ticket-{still_open}"
    assert page.locator("#recheck-list article.recheck").count() == 2
    assert "已安排专人值守校门" in page.inner_text(closing)
    page.wait_for_function(f"() => [...document.querySelectorAll('{closing} .thumbs img')]"
                           ".every(img => img.complete && img.naturalWidth > 0)")
    assert page.locator(f"{closing} .thumbs img").count() == 2  # before and after
    assert page.locator(f"{reopening} .thumbs img").count() == 1  # found; nothing reported yet

    page.click(f"{closing} button[data-outcome=close]")
    # A close-out without a photo taken here cannot be submitted.
    assert "需要现场照片" in page.inner_text("#submit-reason")
    assert page.is_disabled("#submit button[type=submit]")
    page.set_input_files(f"{closing} input[type=file]", str(PHOTO))
    page.wait_for_selector(f"{closing} .thumbs img >> nth=2", timeout=20000)
    page.click(f"{reopening} button[data-outcome=reopen]")
    assert "退回需要一个今后的新期限" in page.inner_text("#submit-reason")
    page.fill(f"{reopening} input[name=new_deadline]", (date.today() + timedelta(days=5)).isoformat())
    page.dispatch_event(f"{reopening} input[name=new_deadline]", "change")
    page.fill(f"{reopening} input[name=note]", "围栏仍有缺口")
    page.dispatch_event(f"{reopening} input[name=note]", "change")

    # A reload with no signal keeps every verdict (IndexedDB), and the page comes from the phone.
    page.reload()
    page.wait_for_selector("#checklist.js")
    assert page.get_attribute(f"{closing} button[data-outcome=close]", "aria-pressed") == "true"
    assert page.input_value(f"{reopening} input[name=new_deadline]") != ""
    asked = submit_visit(page)
    assert "销号：1" in asked and "退回：1" in asked
    assert "已在本机提交" in page.inner_text("#submit-reason")
    assert server.count("visits") == visits_before

    phone.set_offline(False)
    page.wait_for_selector("text=到场核验", timeout=60000)
    visit_id = page.url.rsplit("/", 1)[1]
    assert server.count("visits") == visits_before + 1
    assert _row(server, "SELECT mode, status FROM visits WHERE id = ?", visit_id) == ("follow_up", "submitted")
    assert _row(server, "SELECT status FROM tickets WHERE id = ?", responded)[0] == "closed"
    assert _row(server, "SELECT status FROM tickets WHERE id = ?", still_open)[0] == "reopened"
    closed = _row(server, "SELECT id, visit_id FROM ticket_events WHERE ticket_id = ? AND kind = 'closed'", responded)
    assert closed[1] == visit_id
    assert _row(server, "SELECT count(*) FROM ticket_event_photos WHERE event_id = ?", closed[0])[0] == 1
    # The close-out carries the visit's proof of presence, for the bureau to read on the ticket.
    record = page.evaluate(f"fetch('/api/v1/tickets/{responded}').then(r => r.json())")["record"]
    presence = record[-1]["presence"]
    assert presence["visit_id"] == visit_id and presence["distance_m"] is not None
    assert presence["accuracy_m"] == 12
    page.goto(f"{server.url}/tickets/{responded}")
    assert "回头看现场核查" in page.inner_text("body")
