"""Lighthouse (mobile) on the scan landing and the 60-item checklist, with Debian's Chromium.

    .venv/bin/python -m bench.lighthouse [--runs 5]

Three pages: the signed-out scan landing; `/visits/new` with the 60-item template (what a phone
opens to start a visit); the same checklist started (a draft visit with 20 items answered, one
failed with its finding). Each page is measured --runs times: the machine is noisy, so the median and
the range are reported, never a best run, with the load average beside them.

Installs lighthouse 12.8.2 from npm into bench/.lighthouse on first use (13.x needs Node ≥ 22.19).
Budget (PRODUCT.md): performance, accessibility and best practices ≥ 95.
"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
import uuid
from datetime import datetime, timezone
from pathlib import Path

from bench.live import CHROMIUM, instance_env, serve
from bench.transfer import SIXTY
from inspect_app import PROJECT_ROOT

HERE = Path(__file__).resolve().parent / ".lighthouse"
BIN = HERE / "node_modules" / ".bin" / "lighthouse"


def ensure_lighthouse() -> None:
    if not BIN.exists():
        subprocess.run(["npm", "install", "--prefix", str(HERE), "lighthouse@12.8.2", "--no-audit", "--no-fund",
                        "--loglevel=error"], check=True)


def session_cookie(base: str) -> str:
    """The demo inspector's cookies. Every Set-Cookie counts: the first one the sign-in answers with is
    the device cookie, not the session (taking only that one measured the sign-in page instead)."""
    host = urllib.parse.urlsplit(base).netloc
    conn = http.client.HTTPConnection(host)
    jar: dict[str, str] = {}

    def keep(response) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";")[0].partition("=")
            jar[name] = value

    conn.request("GET", "/accounts/sign-in")
    response = conn.getresponse()
    page = response.read().decode()
    keep(response)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    conn.request("POST", "/accounts/sign-in", headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
                                                       "Content-Type": "application/x-www-form-urlencoded"},
                 body=urllib.parse.urlencode({"csrf_token": token, "username": "inspector",
                                              "password": "demo-pass-1"}))
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"sign-in failed: {response.status}")
    keep(response)
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def start_visit(base: str, cookie: str, template_id: str, env: dict) -> str:
    """A draft visit on the 60-item checklist, created as the phone creates one (the whole-visit PUT):
    20 items answered, the third failed with its finding."""
    host = urllib.parse.urlsplit(base).netloc
    conn = http.client.HTTPConnection(host)
    conn.request("GET", "/api/v1/csrf", headers={"Cookie": cookie})
    response = conn.getresponse()
    token = json.loads(response.read())["token"]
    # The token is bound to the session the same answer sets.
    jar = dict(part.split("=", 1) for part in cookie.split("; "))
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, value = header.split(";")[0].partition("=")
        jar[name] = value
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    version_id = subprocess.run([sys.executable, "-c", (
        "from inspect_app import create_app\nfrom inspect_app.extensions import db\n"
        "from inspect_app.checklists.models import ChecklistTemplate\napp = create_app()\n"
        f"with app.app_context(): print(db.session.get(ChecklistTemplate, {template_id}).current_version.id)")],
        cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip()
    visit_id = str(uuid.uuid4())
    now = datetime.now(timezone.utc).isoformat()
    answers = [{"code": f"B{n:02d}", "result": "fail" if n == 2 else "pass", "note": ""} for n in range(20)]
    findings = [{"id": str(uuid.uuid4()), "code": "B02", "description": "体温检测点无人值守", "severity": "major",
                 "fixed_on_site": False, "location": None, "captured_at": now}]
    body = {"school_id": 1, "version_id": int(version_id), "mode": "overt", "started_at": now, "submitted_at": None,
            "location": None, "qr_token": None, "answers": answers, "findings": findings}
    conn.request("PUT", f"/api/v1/visits/{visit_id}", body=json.dumps(body),
                 headers={"Cookie": cookie, "X-CSRFToken": token, "Content-Type": "application/json",
                          "X-Client-Time": now})
    response = conn.getresponse()
    answer = response.read()
    if response.status not in (200, 201):
        raise RuntimeError(f"could not start the visit: {response.status} {answer[:300]!r}")
    return visit_id


def run(url: str, cookie: str | None) -> dict:
    out = Path(tempfile.mkdtemp()) / "report.json"
    args = [str(BIN), url, "--quiet", "--output=json", f"--output-path={out}",
            "--only-categories=performance,accessibility,best-practices",
            "--chrome-flags=--headless --no-sandbox --disable-gpu --disable-background-networking"]
    if cookie:
        args.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    # Lighthouse itself sometimes loses the trace ("NO_NAVSTART") on a loaded machine: that run is
    # repeated (at most twice), never counted as a score.
    for attempt in range(3):
        try:
            subprocess.run(args, check=True, env={**os.environ, "CHROME_PATH": CHROMIUM})
            break
        except subprocess.CalledProcessError:
            if attempt == 2:
                raise
            print(f"  lighthouse failed on {url}; measuring again", file=sys.stderr)
    report = json.loads(out.read_text())
    if "/accounts/sign-in" in report.get("finalDisplayedUrl", ""):
        raise RuntimeError(f"{url} was measured as the sign-in page: the cookie did not sign in")
    scores = {key: round(cat["score"] * 100) for key, cat in report["categories"].items()}
    failing = [audit["id"] for audit in report["audits"].values()
               if audit.get("score") is not None and audit["score"] < 0.9
               and audit.get("scoreDisplayMode") in ("binary", "numeric")]
    metrics = {name: report["audits"][name]["numericValue"]
               for name in ("total-blocking-time", "first-contentful-paint", "largest-contentful-paint",
                            "cumulative-layout-shift")}
    return {"scores": scores, "below_90": failing[:12], "metrics": metrics}


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ensure_lighthouse()
    env = instance_env()
    template_id = subprocess.run([sys.executable, "-c", SIXTY], cwd=PROJECT_ROOT, env=env, check=True,
                                 capture_output=True, text=True).stdout.strip()
    token = subprocess.run([sys.executable, "-c", (
        "from inspect_app import create_app\nfrom inspect_app.extensions import db\n"
        "from inspect_app.schools.models import School\napp = create_app()\n"
        "with app.app_context(): print(db.session.get(School, 1).qr_token)")],
        cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip()
    with serve(env, workers=2) as base:
        cookie = session_cookie(base)
        visit_id = start_visit(base, cookie, template_id, env)
        pages = {"scan landing (signed out)": (f"{base}/s/{token}", None),
                 "/visits/new, 60 items": (f"{base}/visits/new?school_id=1&mode=overt&template_id={template_id}", cookie),
                 "started checklist, 60 items": (f"{base}/visits/{visit_id}", cookie)}
        for name, (url, cookie_) in pages.items():
            results = []
            for _ in range(args.runs):
                results.append(run(url, cookie_))
                print(f"  {name}: {results[-1]['scores']} TBT {results[-1]['metrics']['total-blocking-time']:.0f} ms"
                      f"  below 90: {results[-1]['below_90']}", flush=True)
            load = os.getloadavg()[0]
            print(f"{name:<30} performance {spread([r['scores']['performance'] for r in results])}"
                  f"  accessibility {spread([r['scores']['accessibility'] for r in results])}"
                  f"  best practices {spread([r['scores']['best-practices'] for r in results])}"
                  f"  TBT {spread([r['metrics']['total-blocking-time'] for r in results])} ms"
                  f"  LCP {spread([r['metrics']['largest-contentful-paint'] for r in results])} ms"
                  f"  (load average {load:.1f})", flush=True)


if __name__ == "__main__":
    main()
