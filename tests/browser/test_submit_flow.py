"""Submitting a visit on the phone: the block says what is left in one sentence, the tap is confirmed,
and the summary says what the submission set in motion."""
import re

from tests.browser.conftest import sign_in, submit_visit
from tests.browser.test_offline_visit import PHOTO, SAVED, answer_everything, start_visit


def test_the_blocked_submit_reads_as_one_sentence_and_submitting_is_confirmed(server, phone):
    page = phone.new_page()
    sign_in(page, server.url)
    visit_id = start_visit(page, server.url, school_id=7)
    total = page.locator("#checklist article.item").count()
    page.click("#item-G1 button.choice-fail")
    assert page.inner_text("#submit-reason") == f"第 1 项需要照片；还有 {total - 1} 项未完成"

    answer_everything(page)
    page.set_input_files("#item-G1 input[type=file]", str(PHOTO))
    page.wait_for_selector("#item-G1 .thumbs img", timeout=20000)
    page.wait_for_function(SAVED, timeout=30000)
    assert page.is_hidden("#submit-reason")

    # Cancelling the question submits nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#submit button[type=submit]")
    page.wait_for_timeout(500)
    assert page.evaluate(f"fetch('/api/v1/visits/{visit_id}').then(r => r.json())")["status"] == "in_progress"

    question = submit_visit(page)
    assert "提交后不能再修改" in question and "发现问题 1 个" in question
    page.wait_for_selector("#visit-outcome", timeout=30000)
    outcome = page.inner_text("#visit-outcome")
    assert "本次发现问题 1 个，其中当场整改 0 个" in outcome
    assert re.search(r"已生成 1 张整改单，最早期限 \d+月\d+日 \d\d:\d\d", outcome), outcome
