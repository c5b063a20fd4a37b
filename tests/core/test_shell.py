"""The shell: health, headers, language, fingerprinted assets, compression."""
import re
import uuid

import pytest

from inspect_app import PROJECT_ROOT


def test_healthz(browser):
    response = browser.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/accounts/sign-in", "/healthz", "/api/v1/openapi.json", "/nowhere"])
def test_security_headers_on_every_response(browser, path):
    headers = browser.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_pages_are_not_kept_by_shared_caches(login_as):
    assert login_as("inspector").get("/schools/").headers["Cache-Control"] == "private, no-cache"


def test_chinese_by_default_and_english_on_request(browser):
    page = browser.get("/accounts/sign-in").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page and "工作人员登录" in page
    response = browser.form_post("/language", {"lang": "en", "next": "/accounts/sign-in"})
    assert response.status_code == 302 and response.headers["Location"] == "/accounts/sign-in"
    page = browser.get("/accounts/sign-in").get_data(as_text=True)
    assert '<html lang="en">' in page and "Staff sign-in" in page


def test_language_switch_does_not_redirect_off_site(browser):
    response = browser.form_post("/language", {"lang": "en", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def _asset_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_assets_have_fingerprinted_names_and_are_cached_for_a_year(login_as):
    inspector = login_as("inspector")
    urls = _asset_urls(inspector.get("/schools/").get_data(as_text=True))  # a page that uses htmx
    assert any("htmx.min." in u for u in urls) and any("app." in u and u.endswith(".css") for u in urls)
    for url in urls:
        assert re.search(r"\.[0-9a-f]{10}\.(js|css|svg|png)$", url)
        response = inspector.get(url)
        assert response.status_code == 200
        assert "immutable" in response.headers["Cache-Control"]
        assert "max-age=31536000" in response.headers["Cache-Control"]


def test_a_stale_fingerprint_is_404(browser):
    assert browser.get("/static/css/app.0000000000.css").status_code == 404


def test_assets_cannot_escape_the_static_folder(browser):
    assert browser.get("/static/../pyproject.toml").status_code == 404
    assert browser.get("/static/%2e%2e/pyproject.toml").status_code == 404
    assert browser.get("/static/css").status_code == 404  # a folder is not a file


def test_a_static_file_added_after_a_miss_is_served(browser):
    """Where a name's file is is remembered (assets._source); whether it is there is asked each time."""
    added = PROJECT_ROOT / "static" / f"added-{uuid.uuid4().hex}.txt"
    assert browser.get(f"/static/{added.name}").status_code == 404
    try:
        added.write_text("now here")
        assert browser.get(f"/static/{added.name}").get_data(as_text=True) == "now here"
    finally:
        added.unlink()
    assert browser.get(f"/static/{added.name}").status_code == 404


def test_assets_are_compressed(browser):
    from inspect_app.assets import asset_url
    with browser.application.test_request_context():
        url = asset_url("vendor/htmx.min.js")
    plain = browser.get(url, headers={"Accept-Encoding": "identity"})
    brotli = browser.get(url, headers={"Accept-Encoding": "gzip, br"})
    gzip = browser.get(url, headers={"Accept-Encoding": "gzip"})
    assert brotli.headers["Content-Encoding"] == "br" and gzip.headers["Content-Encoding"] == "gzip"
    assert len(brotli.data) < len(plain.data) / 2
    assert "Accept-Encoding" in brotli.headers["Vary"]


def test_pages_are_compressed(login_as):
    response = login_as("admin").get("/schools/posters", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"


def test_htmx_comes_from_node_modules_not_from_git(app):
    from pathlib import Path

    assert not list((PROJECT_ROOT / "static").rglob("htmx*"))
    installed = Path(app.config["NODE_MODULES_DIR"]) / "htmx.org" / "package.json"
    assert '"version": "2.0.11"' in installed.read_text()


def test_error_pages_say_what_to_do(browser):
    response = browser.get("/no/such/page")
    assert response.status_code == 404
    assert "不存在" in response.get_data(as_text=True)
