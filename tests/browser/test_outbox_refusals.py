"""One refused file never stops a visit's sync: the phone refuses what is not a picture, sets aside a
photo the server refuses for good, says which and why, and sends everything else."""
from tests.browser.conftest import eventually, sign_in, submit_visit
from tests.browser.test_offline_visit import PHOTO, SAVED, answer_everything, start_visit

NOT_A_PICTURE = {"name": "检查记录.txt", "mimeType": "text/plain", "buffer": "只是一段文字".encode()}
# Says it is a JPEG, is not one: the phone cannot shrink it and queues it as it is; the server refuses it.
BROKEN_JPEG = {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0" + b"\x00garbage" * 64}


def test_a_file_that_is_not_a_picture_is_refused_before_it_is_queued(server, phone):
    page = phone.new_page()
    sign_in(page, server.url)
    start_visit(page, server.url, school_id=4)
    page.click("#item-G1 button.choice-fail")
    page.set_input_files("#item-G1 input[type=file]", files=[NOT_A_PICTURE])
    page.wait_for_selector("#sync-error:not([hidden])")
    assert "不是图片，未添加：检查记录.txt" in page.inner_text("#sync-error")
    assert page.locator("#item-G1 .thumbs li").count() == 0  # no broken thumbnail
    page.wait_for_function(SAVED, timeout=30000)  # and nothing stuck in the queue
    assert page.evaluate("window.safecampusOutbox.pending()") == 0


def test_a_photo_the_server_refuses_is_set_aside_and_the_visit_still_arrives(server, phone):
    page = phone.new_page()
    sign_in(page, server.url)
    refusals = []
    page.on("response", lambda r: refusals.append(r.status)
            if r.request.method == "PUT" and "/api/v1/photos/" in r.url and r.status >= 400 else None)
    visit_id = start_visit(page, server.url, school_id=5)
    page.click("#item-G1 button.choice-fail")
    page.fill("#item-G1 textarea", "消毒记录缺失，未见当日记录")
    page.set_input_files("#item-G1 input[type=file]", files=[BROKEN_JPEG])
    # Refused once, set aside with the reason and a delete button; the queue drains.
    page.wait_for_selector("#item-G1 .thumbs li.rejected button", timeout=30000)
    page.wait_for_function(SAVED, timeout=30000)
    assert len(refusals) == 1 and 400 <= refusals[0] < 500
    notice = page.inner_text("#sync-error")
    assert "第 1 项的一张照片未被接收" in notice and "请删除后重新拍照" in notice
    assert "未上传" in page.inner_text("#item-G1 .thumbs li.rejected")
    # What was typed before the photo is still what the box shows.
    assert page.input_value("#item-G1 textarea") == "消毒记录缺失，未见当日记录"

    # Everything after it still arrives: the other answers reach the server.
    codes = answer_everything(page)
    page.wait_for_function(SAVED, timeout=30000)
    visit = page.evaluate(f"fetch('/api/v1/visits/{visit_id}').then(r => r.json())")
    assert len(visit["answers"]) == len(codes)
    assert [f["description"] for f in visit["findings"]] == ["消毒记录缺失，未见当日记录"]

    # The user lets it go and takes another; the visit is submitted and nothing was retried forever.
    page.click("#item-G1 .thumbs li.rejected button")
    assert page.locator("#item-G1 .thumbs li").count() == 0
    page.set_input_files("#item-G1 input[type=file]", str(PHOTO))
    page.wait_for_selector("#item-G1 .thumbs img", timeout=20000)
    submit_visit(page)
    page.wait_for_selector("text=到场核验", timeout=30000)
    visit = page.evaluate(f"fetch('/api/v1/visits/{visit_id}').then(r => r.json())")
    assert visit["status"] == "submitted"
    assert [(f["code"], len(f["photos"])) for f in visit["findings"]] == [("G1", 1)]
    assert len(refusals) == 1


def test_a_photo_the_server_cannot_take_now_waits_with_backoff_while_the_rest_goes(server, phone):
    page = phone.new_page()
    sign_in(page, server.url)
    tries, server_busy = [], [True]

    def busy(route):
        tries.append(route.request.method)
        if server_busy[0]:
            route.fulfill(status=503, content_type="application/json",
                          body='{"error": {"code": "unavailable", "message": "服务器繁忙"}}')
        else:
            route.continue_()

    visit_id = start_visit(page, server.url, school_id=6)
    page.route("**/api/v1/photos/*", busy)
    page.click("#item-G1 button.choice-fail")
    page.set_input_files("#item-G1 input[type=file]", str(PHOTO))
    page.wait_for_function("() => document.querySelector('#sync-error').textContent.includes('服务器繁忙')",
                           timeout=30000)
    # Only the photo is left in the queue; what is queued from now on stands behind it.
    eventually(page, "window.safecampusOutbox.pending().then(n => n === 1)")
    # While the photo waits, the answers queued behind it still go — and every tap does not hammer
    # the busy server with the photo again: it waits 5 s, then 10 s, …
    codes = answer_everything(page)
    eventually(page, f"fetch('/api/v1/visits/{visit_id}').then(r => r.json())"
                     f".then(v => v.answers.length === {len(codes)})")
    assert 1 <= len(tries) <= 3
    # The server recovers: the photo arrives on its next turn; nothing was set aside.
    server_busy[0] = False
    page.wait_for_function(SAVED, timeout=60000)
    assert page.locator("#item-G1 .thumbs li.rejected").count() == 0
    visit = page.evaluate(f"fetch('/api/v1/visits/{visit_id}').then(r => r.json())")
    assert [(f["code"], len(f["photos"])) for f in visit["findings"]] == [("G1", 1)]
