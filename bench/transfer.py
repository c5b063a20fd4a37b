"""Bytes on the wire to show the 60-item checklist on a phone: first visit and repeat visit.

    .venv/bin/python -m bench.transfer

A phone-sized Chromium signs in (not counted), then opens an empty 60-item checklist with a cold
cache (everything counted, compressed sizes as sent), then opens it again (the service worker
serves the fingerprinted files; only the page itself travels). Budget: ≤ 60 KB / ≤ 15 KB.
"""
from playwright.sync_api import sync_playwright

from bench.live import CHROMIUM, CHROMIUM_ARGS, instance_env, serve

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


def measure(context, page, url) -> tuple[int, int]:
    """Bytes that crossed the network (compressed bodies plus headers), the service worker's included."""
    finished = []
    def listener(request):
        finished.append(request)
    context.on("requestfinished", listener)
    page.goto(url)
    page.wait_for_selector("#checklist.js")
    page.wait_for_timeout(800)
    context.remove_listener("requestfinished", listener)
    total, count = 0, 0
    for request in finished:
        response = request.response()
        if response is None or response.from_service_worker:
            continue  # answered from the phone's own cache
        sizes = request.sizes()
        total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        count += 1
    return total, count


def signed_in_context(browser, base, **options):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  **options)
    page = context.new_page()
    page.goto(base + "/accounts/sign-in")
    page.fill("#username", "inspector")
    page.fill("#password", "demo-pass-1")
    page.click("button.primary")
    page.wait_for_url(base + "/")
    return context, page


def main() -> None:
    import subprocess
    import sys

    from inspect_app import PROJECT_ROOT
    env = instance_env()
    template_id = subprocess.run([sys.executable, "-c", SIXTY], cwd=PROJECT_ROOT, env=env, check=True,
                                 capture_output=True, text=True).stdout.strip()
    with serve(env, workers=2) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        url = f"{base}/visits/new?school_id=1&mode=overt&template_id={template_id}"
        # First visit: nothing cached yet (the sign-in page's own files are cleared first).
        context, page = signed_in_context(browser, base, service_workers="block")
        context.new_cdp_session(page).send("Network.clearBrowserCache")
        first, first_n = measure(context, page, url)
        context.close()
        # Repeat visit: the service worker and the browser cache hold the fingerprinted files.
        context, page = signed_in_context(browser, base)
        page.goto(url)
        page.wait_for_selector("#checklist.js")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.goto(base + "/healthz")
        repeat, repeat_n = measure(context, page, url)
        browser.close()
    print(f"first visit:  {first / 1024:6.1f} KB in {first_n} responses (budget 60 KB)")
    print(f"repeat visit: {repeat / 1024:6.1f} KB in {repeat_n} responses (budget 15 KB)")


if __name__ == "__main__":
    main()
