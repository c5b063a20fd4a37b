"""The app as `make run` serves it: migrations, the demo command and gunicorn with two workers.

The sign-in throttle must hold across worker processes, so this drives a real server over HTTP.
"""
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.live import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_instance):
    """gunicorn as `make run` starts it (two workers, each importing the app), on a copy of the demo
    instance the run built with `flask db upgrade` and `flask demo` (tests/live.py)."""
    served = LiveServer(demo_instance, tmp_path_factory.mktemp("instance"), preload=False).start()
    yield served.url
    served.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # report the 302 itself


def _attempt(base: str, username: str, password: str) -> int:
    """One sign-in from a brand-new browser (new cookie jar, new connection)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    opener.addheaders = [("Connection", "close")]
    page = opener.open(base + "/accounts/sign-in", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "username": username,
                                   "password": password}).encode()
    try:
        return opener.open(base + "/accounts/sign-in", data=data, timeout=10).status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_the_served_demo_signs_in_and_speaks_chinese(server):
    assert _attempt(server, "leader", "demo-pass-1") == 302
    with urllib.request.urlopen(server + "/accounts/sign-in", timeout=10) as response:
        assert "工作人员登录" in response.read().decode()


def test_the_throttle_holds_across_two_worker_processes(server):
    """Counted in the database: three failures from this address, then the next attempt — whichever
    worker takes it, even with the right password — must wait (the progressive delay)."""
    statuses = [_attempt(server, "inspector2", "wrong-password") for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    assert _attempt(server, "inspector2", "demo-pass-1") == 429


def test_forwarded_headers_count_only_when_trusted_proxies_says_so(server):
    """TRUSTED_PROXIES is 0 here: an X-Forwarded-Proto from 127.0.0.1 must not make the request HTTPS
    (gunicorn on its own would believe it, and the cookie would say Secure)."""
    request = urllib.request.Request(server + "/accounts/sign-in",
                                     headers={"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on"})
    with urllib.request.urlopen(request, timeout=10) as response:
        cookies = response.headers.get_all("Set-Cookie") or []
    assert cookies and not any("secure" in [part.strip().lower() for part in c.split(";")] for c in cookies)
