"""Two app processes, each with its own instance folder and SQLite database, against one Redis:
a rate limit counted through one holds at the other (REDIS_URL, inspect_app/ratelimit.py)."""
import http.cookiejar
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from tests.live import LiveServer, free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_or_stop():
    import redis
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        # .ci/run starts Redis; on a laptop without it this test cannot say anything.
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} does not answer: {error}")
        pytest.skip(f"no Redis at {REDIS_URL}")


@pytest.fixture(scope="module")
def two_apps(tmp_path_factory, demo_instance):
    """Two copies of the run's demo instance (tests/live.py), each with its own database file, served
    by one gunicorn worker each, counting in one Redis under a prefix of this run's."""
    _redis_or_stop()
    prefix = f"inspect-test-{uuid.uuid4().hex[:12]}"
    settings = {"REDIS_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix, "COMPLAINT_CODE_MISSES_PER_HOUR": "4",
                # Two machines of one deployment share the secret (the address's keyed hash depends on it).
                "SECRET_KEY": "shared-secret-of-both-machines"}
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(LiveServer(demo_instance, tmp_path_factory.mktemp(f"instance-{name}"), workers=1,
                                      preload=False, **settings).launch())
        for server in servers:
            server.wait_ready()
        yield [server.url for server in servers], prefix
    finally:
        for server in servers:
            server.stop()
        import redis
        connection = redis.Redis.from_url(REDIS_URL)
        for key in connection.scan_iter(f"{prefix}:*"):
            connection.delete(key)


def _status(url: str) -> tuple[int, str | None]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        error.close()
        return error.code, error.headers.get("Retry-After")


def test_wrong_tracking_codes_counted_by_one_process_are_refused_by_the_other(two_apps):
    (a, b), prefix = two_apps
    statuses = [_status(f"{base}/c/JY-2222-2222-222{n}")[0] for n, base in enumerate((a, b, a, b))]
    assert statuses == [404, 404, 404, 404]
    # Four misses, two in each process: the fifth is refused by either, though neither saw four.
    for base in (a, b):
        status, retry_after = _status(f"{base}/c/JY-2222-2222-2229")
        assert status == 429 and 3500 < int(retry_after) <= 3600
    import redis
    assert any(redis.Redis.from_url(REDIS_URL).scan_iter(f"{prefix}:*"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _sign_in(base: str, username: str, password: str) -> tuple[int, str | None]:
    """One sign-in from a brand-new browser (its own cookies and CSRF token)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                         _NoRedirect())
    page = opener.open(base + "/accounts/sign-in", timeout=10).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": password}).encode()
    try:
        return opener.open(base + "/accounts/sign-in", data=data, timeout=10).status, None
    except urllib.error.HTTPError as error:
        error.close()
        return error.code, error.headers.get("Retry-After")


def test_sign_in_failures_at_one_process_slow_down_the_next_try_at_the_other(two_apps):
    """Three failures from this address at one account, spread over both processes: the next try,
    at either, waits (the progressive delay, counted in Redis)."""
    (a, b), _ = two_apps
    assert [_sign_in(base, "nobody-here", "wrong-password")[0] for base in (a, b, a)] == [422, 422, 422]
    status, retry_after = _sign_in(b, "nobody-here", "wrong-password")
    assert status == 429 and 1 <= int(retry_after) <= 2


@pytest.fixture
def redis_gone(app, monkeypatch):
    """The app's counts on a Redis that does not answer (nothing listens on the port)."""
    from limits.storage import storage_from_string

    from inspect_app import ratelimit
    dead = storage_from_string(f"redis://127.0.0.1:{free_port()}/0", key_prefix="gone", wrap_exceptions=True,
                               socket_timeout=1, socket_connect_timeout=1)
    monkeypatch.setitem(app.extensions, ratelimit.EXTENSION, dead)


def test_redis_not_answering_is_a_503_in_words_never_a_500_or_an_uncounted_try(app, world, redis_gone,
                                                                                make_browser):
    page = app.test_client().get("/c/JY-2222-2222-2222")
    assert page.status_code == 503 and page.headers["Retry-After"] == "60"
    assert "暂时无法使用" in page.get_data(as_text=True)
    browser = make_browser()
    signed_in = browser.form_post("/accounts/sign-in", {"username": world.inspector.username,
                                                        "password": "wrong-password"})
    assert signed_in.status_code == 503
    api = app.test_client().post("/api/v1/auth/token", json={"username": world.inspector.username,
                                                             "password": "wrong-password"})
    assert api.status_code == 503 and "暂时无法使用" in api.get_json()["error"]["message"]
