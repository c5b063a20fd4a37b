"""The app as `make run` serves it: migrations, the demo command and gunicorn with two workers.

The sign-in throttle must hold across worker processes, so this drives a real server over HTTP.
"""
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from inspect_app import PROJECT_ROOT
from tests.live import CHEAP_ARGON2
from tests.processes import stop


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    port = _free_port()
    env = {**os.environ, "INSTANCE_PATH": str(instance), "FLASK_APP": "wsgi",
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", **CHEAP_ARGON2}
    env.pop("DATABASE_URL", None)
    env.pop("TRUSTED_PROXIES", None)
    for args in (["db", "upgrade"], ["demo"]):
        subprocess.run([sys.executable, "-m", "flask", *args], cwd=PROJECT_ROOT, env=env,
                       check=True, capture_output=True, timeout=120)
    log = instance / "gunicorn.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "wsgi:app"], cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        process.wait()
        pytest.fail("gunicorn did not answer: " + log.read_text()[-2000:])
    yield base
    stop(process)


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
