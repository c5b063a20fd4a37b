"""Browser tests in real Chromium (Debian's package, driven by Playwright) against gunicorn.

They run in Chromium's headless shell (Debian's chromium-headless-shell: the same Blink, V8, service
workers and IndexedDB, without the full browser's compositor and UI processes; Playwright's own default
for headless runs) when it is there, else in /usr/bin/chromium. The shell halves Chromium's CPU in
these tests (36 → 16 s for tests/browser/test_offline_visit.py), which on a two-core machine is the
suite's time. Under CI (CI=true, where .ci/run installs it) a missing browser is a failure, not a skip.
"""
import os
import shutil
import time

import pytest

from tests.live import LiveServer

CHROMIUM = os.environ.get("CHROMIUM_PATH") or next(
    (path for path in ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium") if shutil.which(path)),
    "/usr/bin/chromium-headless-shell")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]

if not shutil.which(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must run the browser tests, but {CHROMIUM} is missing")
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)


# What a failed browser test prints to explain itself: the page's errors and the servers' logs. A
# test that only times out says nothing of why; these make the next flake in CI readable.
_SERVERS: list[LiveServer] = []
_EVENTS: list[str] = []


def _watch(context) -> None:
    def console(message):
        if message.type in ("error", "warning"):
            _EVENTS.append(f"console {message.type}: {message.text} ({message.location.get('url')})")
    context.on("console", console)
    context.on("weberror", lambda error: _EVENTS.append(f"page error: {error.error}"))
    context.on("requestfailed", lambda r: _EVENTS.append(f"request failed: {r.method} {r.url} {r.failure}"))
    # No "response" listener: it would send every request and answer across Playwright's pipe (CPU a
    # busy run lacks); a 5xx shows in the gunicorn access log that a failure report carries below.


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        lines = [*_EVENTS[-40:]]
        for server in _SERVERS:
            log = server.instance / "gunicorn.log"
            if log.exists():
                lines += [f"--- {server.url} gunicorn.log (last 40 lines)",
                          *log.read_text(errors="replace").splitlines()[-40:]]
        report.sections.append(("browser and server", "\n".join(lines) or "(nothing recorded)"))


@pytest.fixture(autouse=True)
def _fresh_events():
    _EVENTS.clear()
    yield


@pytest.fixture(scope="module")
def make_server(tmp_path_factory, demo_instance):
    servers = []

    def factory(**env_overrides) -> LiveServer:
        server = LiveServer(demo_instance, tmp_path_factory.mktemp("live"), **env_overrides).start()
        servers.append(server)
        _SERVERS.append(server)
        return server
    yield factory
    for server in servers:
        server.stop()
        _SERVERS.remove(server)


@pytest.fixture(scope="module")
def server(make_server):
    return make_server()


@pytest.fixture(scope="session")
def browser():
    """One Chromium per worker for the whole run (starting one costs seconds); every test still gets
    contexts of its own (`phone` and the modules' own new_context), which share nothing."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        new_context = browser.new_context

        def watched_context(**options):
            context = new_context(**options)
            _watch(context)
            _CONTEXTS.append(context)
            return context
        browser.new_context = watched_context
        yield browser
        browser.close()


# The contexts a module opened and left open (a desk kept for the whole test …) end with the module,
# as they did when each module had a browser of its own: no page of theirs keeps polling a stopped server.
_CONTEXTS: list = []


@pytest.fixture(scope="module", autouse=True)
def _close_contexts():
    yield
    while _CONTEXTS:
        _CONTEXTS.pop().close()  # a no-op for one its test closed already


@pytest.fixture
def phone(browser):
    """A phone-sized context at the first demo school's gate, with location allowed."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=3,
                                  is_mobile=True, has_touch=True, locale="zh-CN",
                                  geolocation={"latitude": 31.9088, "longitude": 120.2791, "accuracy": 12},
                                  permissions=["geolocation"])
    yield context
    context.close()


def sign_in(page, base: str, username: str = "inspector"):
    page.goto(base + "/accounts/sign-in")
    # The page registers the service worker. Its answers once set the signed-out session cookie and,
    # arriving after the sign-in's, signed the browser out again (a warm Chromium signs in faster than
    # the worker installs); they no longer write the cookie (tests/core/test_background_answers.py holds
    # that rule). Waiting here keeps each test's first steps from racing the install's own fetches.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.fill("#username", username)
    page.fill("#password", "demo-pass-1")
    page.click("button.primary")
    page.wait_for_url(lambda url: "/accounts/sign-in" not in url)


def eventually(page, script, timeout=30):
    """Polls a script whose answer comes from a promise (Playwright's wait_for_function
    takes a pending promise as a truthy answer at once, so it must not be used for these)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"not true within {timeout} s: {script}"
        time.sleep(0.25)


def submit_visit(page) -> str:
    """Taps 提交 and accepts the confirmation it asks for; returns the question the phone asked."""
    asked = []

    def accept(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.click("#submit button[type=submit]")
    assert asked, "submitting did not ask for confirmation"
    return asked[0]
