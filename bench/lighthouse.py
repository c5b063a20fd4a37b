"""Lighthouse (mobile) on the scan landing and the 60-item checklist, with Debian's Chromium.

    .venv/bin/python -m bench.lighthouse

Installs lighthouse 12.8.2 from npm into bench/.lighthouse on first use (13.x needs Node ≥ 22.19).
Budget (PRODUCT.md): performance, accessibility and best practices ≥ 95.
"""
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
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
    host = urllib.parse.urlsplit(base).netloc
    conn = http.client.HTTPConnection(host)
    conn.request("GET", "/accounts/sign-in")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    conn.request("POST", "/accounts/sign-in", headers={"Cookie": cookie,
                                                       "Content-Type": "application/x-www-form-urlencoded"},
                 body=urllib.parse.urlencode({"csrf_token": token, "username": "inspector",
                                              "password": "demo-pass-1"}))
    response = conn.getresponse()
    response.read()
    return response.getheader("Set-Cookie").split(";")[0]


def run(url: str, cookie: str | None) -> dict:
    out = Path(tempfile.mkdtemp()) / "report.json"
    args = [str(BIN), url, "--quiet", "--output=json", f"--output-path={out}",
            "--only-categories=performance,accessibility,best-practices",
            "--chrome-flags=--headless --no-sandbox --disable-gpu --disable-background-networking"]
    if cookie:
        args.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    subprocess.run(args, check=True, env={**os.environ, "CHROME_PATH": CHROMIUM})
    report = json.loads(out.read_text())
    scores = {key: round(cat["score"] * 100) for key, cat in report["categories"].items()}
    failing = [audit["id"] for audit in report["audits"].values()
               if audit.get("score") is not None and audit["score"] < 0.9
               and audit.get("scoreDisplayMode") in ("binary", "numeric")]
    return {"scores": scores, "below_90": failing[:12]}


def main() -> None:
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
        pages = {"scan landing (signed out)": (f"{base}/s/{token}", None),
                 "checklist, 60 items": (f"{base}/visits/new?school_id=1&mode=overt&template_id={template_id}", cookie)}
        for name, (url, cookie_) in pages.items():
            result = run(url, cookie_)
            print(f"{name:<28} {result['scores']}  below 90: {result['below_90']}")


if __name__ == "__main__":
    main()
