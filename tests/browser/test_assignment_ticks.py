"""Issue 11: an admin assigns who checks a school on a phone, with ticks narrowed by typing."""
from tests.browser.conftest import sign_in


def test_typing_narrows_the_ticks_and_keeps_the_ticked_ones_in_sight(server, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    try:
        page = context.new_page()
        sign_in(page, server.url, "admin")
        page.goto(f"{server.url}/schools/1")
        box = page.locator("[data-filter-list]")
        box.wait_for()
        items = box.locator(".checklist-items li")
        total = items.count()
        assert total >= 2
        visible = "els => els.filter(e => !e.hidden).length"
        first_label = items.nth(0).inner_text().strip()
        word = first_label.split("·")[-1].strip()
        box.locator("[data-filter-input]").fill(word)
        assert 1 <= items.evaluate_all(visible) < total or total == 1
        box.locator("[data-filter-input]").fill("无此人zz")
        ticked = box.locator("input[type=checkbox]:checked").count()
        assert items.evaluate_all(visible) == ticked  # only what is ticked stays in sight
        if ticked == 0:
            assert box.locator("[data-filter-none]").is_visible()
        box.locator("[data-filter-input]").press("Enter")  # narrows; never sends the form
        assert page.url.endswith("/schools/1")
        box.locator("[data-filter-input]").fill("")
        assert items.evaluate_all(visible) == total
        items.nth(0).locator("input").set_checked(not items.nth(0).locator("input").is_checked())
        now = box.locator("input[type=checkbox]:checked").count()
        assert box.locator("[data-filter-count]").inner_text() == f"已勾选 {now} 项"
        # The list scrolls inside its card: the page itself is no wider than the phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
