"""Bytes on the wire to a phone, with the service worker on (as a real phone loads the app).

    .venv/bin/python -m bench.transfer

A phone-sized Chromium talks to gunicorn through a small counting proxy, so every byte the server
sends is counted (compressed bodies and headers), the service worker's own fetches (its script, its
precache, the offline page) included, and nothing the phone answers from its own caches.

1. Scan landing, signed out, brand-new phone: what a parent downloads after scanning a poster,
   until the service worker is installed and the network is quiet. Budget ≤ 30 KB.
2. Checklist on a brand-new phone: the sign-in page, signing in (the home page), the service
   worker's precache of the visit scripts, then the empty 60-item checklist. Budget ≤ 80 KB.
3. The same checklist again on that phone: only the page travels. Budget ≤ 15 KB.
"""
import socket
import threading
import time

from playwright.sync_api import sync_playwright

from bench.live import CHROMIUM, CHROMIUM_ARGS, free_port, instance_env, serve

SIXTY = """
from inspect_app import create_app
from inspect_app.checklists.models import ChecklistItem, ChecklistTemplate, VisitMode
from inspect_app.extensions import db
app = create_app()
with app.app_context():
    t = ChecklistTemplate(code="bench60", name_zh="六十项检查", name_en="Sixty items")
    t.modes = {VisitMode.OVERT}
    t.new_version([ChecklistItem(code=f"B{n:02d}", section_zh=f"第{n // 10 + 1}部分",
                                 text_zh="校门设置体温检测点，入校人员“一测二问三登记”落实到位" + str(n),
                                 guidance_zh="现场观察入校流程：测体温、问行程与健康状况、登记信息。",
                                 photo_required=n % 3 == 0) for n in range(60)], author=None)
    db.session.add(t)
    db.session.commit()
    print(t.id)
"""

QR_TOKEN = """
from inspect_app import create_app
from inspect_app.extensions import db
from inspect_app.schools.models import School
app = create_app()
with app.app_context():
    print(db.session.get(School, 1).qr_token)
"""


class CountingProxy:
    """A TCP relay in front of gunicorn that counts the bytes sent to the browser, per request.

    Chromium does not pipeline HTTP/1.1, so the bytes coming back on a connection after a request
    line was sent belong to that request."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.port = free_port()
        self.lock = threading.Lock()
        self.log: list[list] = []  # [request line, bytes down]
        self.last_activity = time.monotonic()
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            current: list = [None]
            threading.Thread(target=self._pump_up, args=(client, upstream, current), daemon=True).start()
            threading.Thread(target=self._pump_down, args=(upstream, client, current), daemon=True).start()

    def _pump_up(self, client, upstream, current) -> None:
        try:
            while data := client.recv(65536):
                head = data.split(b"\r\n", 1)[0].decode("latin-1")
                if head.split(" ", 1)[0] in ("GET", "POST", "PUT", "HEAD", "DELETE", "PATCH", "OPTIONS"):
                    with self.lock:
                        current[0] = [head.rsplit(" ", 1)[0], 0]
                        self.log.append(current[0])
                        self.last_activity = time.monotonic()
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()

    def _pump_down(self, upstream, client, current) -> None:
        try:
            while data := upstream.recv(65536):
                with self.lock:
                    if current[0] is not None:
                        current[0][1] += len(data)
                    self.last_activity = time.monotonic()
                client.sendall(data)
        except OSError:
            pass
        finally:
            client.close()

    def take(self) -> list[list]:
        """The requests since the last call, with their bytes."""
        with self.lock:
            log, self.log = self.log, []
        return log

    def wait_quiet(self, seconds: float = 1.5, limit: float = 30) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and time.monotonic() - self.last_activity < seconds:
            time.sleep(0.1)

    def close(self) -> None:
        self.server.close()


def phone(browser):
    return browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                               service_workers="allow")


def worker_ready(page) -> None:
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def report(name: str, log: list[list], budget_kb: int) -> float:
    total = sum(size for _, size in log)
    print(f"\n{name}: {total / 1024:.1f} KB in {len(log)} responses (budget {budget_kb} KB)")
    for line, size in sorted(log, key=lambda entry: -entry[1]):
        print(f"  {size / 1024:6.1f} KB  {line[:100]}")
    return total


def main() -> None:
    import subprocess
    import sys

    from inspect_app import PROJECT_ROOT
    env = instance_env()
    template_id = subprocess.run([sys.executable, "-c", SIXTY], cwd=PROJECT_ROOT, env=env, check=True,
                                 capture_output=True, text=True).stdout.strip()
    token = subprocess.run([sys.executable, "-c", QR_TOKEN], cwd=PROJECT_ROOT, env=env, check=True,
                           capture_output=True, text=True).stdout.strip()
    with serve(env, workers=2) as direct, sync_playwright() as playwright:
        proxy = CountingProxy(int(direct.rsplit(":", 1)[1]))
        base = proxy.url
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        # 1. A parent scans a poster: a brand-new phone, signed out.
        context = phone(browser)
        page = context.new_page()
        proxy.take()
        page.goto(f"{base}/s/{token}")
        worker_ready(page)
        proxy.wait_quiet()
        landing = report("scan landing, signed out, first visit (service worker on)", proxy.take(), 30)
        context.close()

        # 2. An inspector's brand-new phone: sign in, the precache, then the checklist.
        url = f"{base}/visits/new?school_id=1&mode=overt&template_id={template_id}"
        context = phone(browser)
        page = context.new_page()
        proxy.take()
        page.goto(base + "/accounts/sign-in")
        page.fill("#username", "inspector")
        page.fill("#password", "demo-pass-1")
        page.click("button.primary")
        page.wait_for_url(base + "/")
        worker_ready(page)
        proxy.wait_quiet()
        page.goto(url)
        page.wait_for_selector("#checklist.js")
        proxy.wait_quiet()
        first = report("checklist on a brand-new phone: sign-in + precache + checklist", proxy.take(), 80)

        # 3. The same checklist again: the service worker and the browser cache hold the files.
        page.goto(base + "/healthz")
        proxy.wait_quiet()
        proxy.take()
        page.goto(url)
        page.wait_for_selector("#checklist.js")
        proxy.wait_quiet()
        repeat = report("checklist, repeat visit", proxy.take(), 15)
        browser.close()
        proxy.close()
    print(f"\nscan landing {landing / 1024:.1f} KB · new phone checklist {first / 1024:.1f} KB · "
          f"repeat {repeat / 1024:.1f} KB")


if __name__ == "__main__":
    main()
