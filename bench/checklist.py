"""Open a school's 60-item checklist under 50 concurrent users, against the real server.

    .venv/bin/python -m bench.checklist [--db sqlite|postgresql] [--seconds 10] [--users 50]

Starts gunicorn on 127.0.0.1 with a fresh database (SQLite file, or a scratch PostgreSQL database
`inspect_bench` on 127.0.0.1), creates a 60-item checklist and one visit in progress per user,
then has every user load their checklist page in a loop. /healthz is measured the same way in the
same run, as a yardstick for what this machine gives any request. Reports client latency (which
includes queueing behind the 2 cores) and the app's own time from the Server-Timing header.
Budget (PRODUCT.md): p95 ≤ 50 ms server time.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench.live import serve
from inspect_app import PROJECT_ROOT

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_URL = "postgresql://postgres@127.0.0.1:5432/inspect_bench"


def prepare(env: dict, users: int) -> list[tuple[str, str]]:
    """Migrate, load the demo, add a 60-item template and one visit in progress per user."""
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=PROJECT_ROOT, env=env, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-m", "flask", "demo"], cwd=PROJECT_ROOT, env=env, check=True,
                   capture_output=True)
    script = f"""
import sqlalchemy as sa
from inspect_app import create_app
from inspect_app.accounts.models import Role, User
from inspect_app.checklists.models import ChecklistItem, ChecklistTemplate, VisitMode
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.schools.models import School
from inspect_app.visits import services
app = create_app()
with app.app_context():
    template = ChecklistTemplate(code="bench60", name_zh="六十项检查", name_en="Sixty items")
    template.modes = {{VisitMode.OVERT}}
    items = [ChecklistItem(code=f"B{{n:02d}}", section_zh=f"第{{n // 10 + 1}}部分", section_en=f"Part {{n // 10 + 1}}",
                           text_zh="校门设置体温检测点，入校人员“一测二问三登记”落实到位" + str(n),
                           text_en="Gate temperature point " + str(n), guidance_zh="现场观察入校流程。",
                           photo_required=n % 3 == 0) for n in range(60)]
    version = template.new_version(items, author=None)
    db.session.add(template)
    schools = db.session.scalars(sa.select(School).order_by(School.id)).all()
    for n in range({users}):
        user = User(username=f"bench{{n}}", display_name=f"督学{{n}}", role=Role.INSPECTOR)
        user.password_hash = db.session.scalar(sa.select(User.password_hash).where(User.username == "inspector"))
        db.session.add(user)
        visit = services.start_visit(user, schools[n % len(schools)], VisitMode.OVERT, version, utcnow(),
                                     services.Location(31.9, 120.28, 10), None, None)
        print(f"bench{{n}} {{visit.id}}")
    db.session.commit()
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return [tuple(line.split()) for line in out.splitlines() if line.startswith("bench")]


def sign_in(port: int, username: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/accounts/sign-in")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": "demo-pass-1"})
    conn.request("POST", "/accounts/sign-in", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    response = conn.getresponse()
    response.read()
    assert response.status == 302, response.status
    return response.getheader("Set-Cookie").split(";")[0]


def hammer(port: int, path: str, cookie: str, until: float, latencies: list, server: list, errors: list):
    while time.monotonic() < until:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        started = time.perf_counter()
        try:
            conn.request("GET", path, headers={"Cookie": cookie, "Accept-Encoding": "gzip, br"})
            response = conn.getresponse()
            response.read()
        except OSError as error:
            errors.append(str(error))
            continue
        finally:
            conn.close()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            errors.append(str(response.status))
            continue
        latencies.append(elapsed)
        timing = re.search(r"dur=([\d.]+)", response.getheader("Server-Timing") or "")
        if timing:
            server.append(float(timing.group(1)))


def run_phase(port, targets, seconds):
    latencies, server, errors = [], [], []
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=hammer, args=(port, path, cookie, until, latencies, server, errors))
               for path, cookie in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, server, errors


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    # CPU-bound pages: one worker per core plus one to cover I/O waits.
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) + 1)
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="bench-"))
    env = {**os.environ, "INSTANCE_PATH": str(instance), "FLASK_APP": "wsgi"}
    env.pop("DATABASE_URL", None)
    env.setdefault("PUBLIC_BASE_URL", "http://127.0.0.1")  # required; the benchmark prints no posters
    if args.db == "postgresql":
        subprocess.run(["psql", PG_ADMIN_URL, "-qc", "DROP DATABASE IF EXISTS inspect_bench"], check=True)
        subprocess.run(["psql", PG_ADMIN_URL, "-qc", "CREATE DATABASE inspect_bench"], check=True)
        env["DATABASE_URL"] = PG_BENCH_URL
    visits = prepare(env, args.users)

    with serve(env, args.workers) as base:
        port = int(base.rsplit(":", 1)[1])
        cookies = [sign_in(port, username) for username, _ in visits]
        checklist = [(f"/visits/{visit_id}", cookie) for (_, visit_id), cookie in zip(visits, cookies)]
        health = [("/healthz", cookie) for cookie in cookies]
        run_phase(port, checklist[:4], 2)  # warm up every worker
        results = {"healthz": run_phase(port, health, args.seconds),
                   "checklist (60 items)": run_phase(port, checklist, args.seconds)}

    print(f"{args.db}, {args.users} concurrent users, {args.workers} gunicorn workers, "
          f"{args.seconds:.0f} s per phase, {os.cpu_count()} cores (client and server share them)")
    print(f"{'page':<22} {'req/s':>7} {'client p50':>11} {'client p95':>11} {'app p50':>8} {'app p95':>8} {'errors':>7}")
    for name, (latencies, app_times, errors) in results.items():
        print(f"{name:<22} {len(latencies) / args.seconds:>7.0f} {statistics.median(latencies):>9.1f}ms "
              f"{pct(latencies, .95):>9.1f}ms {statistics.median(app_times):>6.1f}ms {pct(app_times, .95):>6.1f}ms "
              f"{len(errors):>7}")
    ratio = pct(results["checklist (60 items)"][0], .95) / pct(results["healthz"][0], .95)
    print(f"client p95 ratio checklist / healthz: {ratio:.1f}")


if __name__ == "__main__":
    main()
