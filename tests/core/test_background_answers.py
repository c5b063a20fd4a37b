"""What a browser fetches on its own never writes the session cookie (security.BACKGROUND_ENDPOINTS).

The service worker's script, what it precaches (the offline page, the assets), the manifest and the icon
are fetched in the background, often while someone signs in. Such an answer, had it set the cookie, would
carry the session as it was when the request left (signed out) and arrive after the sign-in's answer:
the browser keeps the last cookie it was given, and the person found themselves signed out again
(seen in the browser tests, where a warm Chromium signs in faster than the service worker installs).
"""
import pytest

from inspect_app.assets import asset_url
from tests.conftest import Browser

BACKGROUND = ["/sw.js", "/offline", "/manifest.webmanifest", "/favicon.ico", "/healthz"]


def session_cookies(response) -> list[str]:
    return [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed out", "signed in"])
def test_background_answers_leave_the_session_cookie_alone(app, world, signed_in):
    browser = Browser(app)
    assert session_cookies(browser.get("/accounts/sign-in")), "a page does set it (its CSRF token): this can fail"
    if signed_in:
        browser.sign_in(world.inspector.username)
    with app.test_request_context():
        urls = [*BACKGROUND, asset_url("css/app.css")]
    for url in urls:
        response = browser.get(url)
        assert response.status_code in (200, 301), (url, response.status_code)
        assert not session_cookies(response), url


def test_a_service_worker_answer_arriving_after_the_sign_in_does_not_sign_out(app, world):
    """The race itself: /sw.js asked with the signed-out cookie, answered after the sign-in."""
    browser = Browser(app)
    browser.get("/accounts/sign-in")
    signed_out = browser.cookies()
    browser.sign_in(world.inspector.username)
    late = Browser(app).restore(signed_out).get("/sw.js")  # the same browser's request, sent before
    assert not session_cookies(late)
    assert browser.get("/accounts/me").status_code == 200  # still signed in
