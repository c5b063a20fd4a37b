"""QR tokens: unguessable, revocable, and a replaced poster never leads to the school."""
import re

from inspect_app.schools.models import School


def test_tokens_are_unguessable_and_not_the_id(world):
    assert world.a.qr_token != world.b.qr_token
    assert len(world.a.qr_token) >= 22
    assert str(world.a.id) != world.a.qr_token


def test_signed_out_scan_shows_only_the_name_and_the_two_ways_in(browser, world):
    page = browser.get(f"/s/{world.a.qr_token}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "甲校" in text and "工作人员登录" in text and "我要反映问题" in text
    # Nothing else about the school: not its address, inspectors or staff.
    assert "测试路" not in text and "督学" not in text


def test_staff_sign_in_from_the_landing_returns_to_the_school(browser, world):
    page = browser.get(f"/s/{world.a.qr_token}").get_data(as_text=True)
    link = re.search(r'href="(/accounts/sign-in\?next=[^"]+)"', page).group(1)
    token = browser.csrf()
    response = browser.post(link.replace("&amp;", "&"), data={
        "csrf_token": token, "username": world.inspector.username, "password": "correct-horse-1"})
    assert response.headers["Location"] == f"/s/{world.a.qr_token}"


def test_a_duty_officer_of_another_school_gets_a_clear_refusal(login_as, world):
    response = login_as("officer_b").get(f"/s/{world.a.qr_token}")
    assert response.status_code == 403
    assert "这是其他学校的二维码" in response.get_data(as_text=True)


def test_rotating_replaces_the_poster_and_the_old_code_answers_410(login_as, world, db):
    admin = login_as("admin")
    response = admin.form_post(f"/schools/{world.a.id}/rotate-qr")
    assert response.status_code == 302
    new_token = db.session.get(School, world.a.id).qr_token
    assert new_token != world.a.qr_token

    for browser in (login_as(None), login_as("inspector")):
        old = browser.get(f"/s/{world.a.qr_token}")
        assert old.status_code == 410
        assert "该二维码已更换" in old.get_data(as_text=True)
        assert "甲校" not in old.get_data(as_text=True)
        assert browser.get(f"/s/{new_token}").status_code == 200

    poster = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert new_token in poster and world.a.qr_token not in poster


def test_an_unknown_code_is_404(browser):
    response = browser.get("/s/not-a-real-token-at-all")
    assert response.status_code == 404
    assert "无法识别该二维码" in response.get_data(as_text=True)


def test_the_poster_carries_a_qr_code_of_the_landing_url(login_as, world):
    page = login_as("admin").get(f"/schools/{world.a.id}/poster").get_data(as_text=True)
    assert "<svg" in page and "甲校" in page
    assert f"http://localhost/s/{world.a.qr_token}" in page
    assert "用手机相机扫一扫" in page


def test_the_poster_uses_the_public_address_when_configured(login_as, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://inspect.example.gov.cn/")
    page = login_as("admin").get(f"/schools/{world.a.id}/poster").get_data(as_text=True)
    assert f"https://inspect.example.gov.cn/s/{world.a.qr_token}" in page


def test_the_sheet_has_a_page_for_every_school(login_as, world):
    page = login_as("admin").get("/schools/posters").get_data(as_text=True)
    assert page.count('class="poster"') == 2


def test_a_forged_host_header_never_reaches_a_poster_or_the_api(app, login_as, world, api_token):
    """The Host header is the client's to choose: QR URLs come from PUBLIC_BASE_URL only."""
    admin = login_as("admin")
    session = admin.client.get_cookie("session")
    admin.client.set_cookie("session", session.value, domain="evil.example")  # the browser's own cookie
    evil = {"Host": "evil.example"}
    for url in (f"/schools/{world.a.id}/poster", "/schools/posters"):
        page = admin.get(url, headers=evil)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "evil.example" not in text and f"http://localhost/s/{world.a.qr_token}" in text
    answer = app.test_client().get("/api/v1/schools", headers={**api_token("admin"), **evil})
    urls = [s["qr_url"] for s in answer.get_json()["schools"]]
    assert urls and all(u.startswith("http://localhost/s/") for u in urls)


def test_without_a_public_address_the_app_refuses_to_start(tmp_path):
    import pytest

    from inspect_app import create_app
    from inspect_app.config import TestConfig
    for missing in (None, "", "inspect.example.gov.cn"):
        with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
            create_app(TestConfig, PUBLIC_BASE_URL=missing, STORAGE_DIR=str(tmp_path))
