"""The slow endpoints under concurrent clients, each beside `/healthz` at the same concurrency in the same run.

    .venv/bin/python -m bench.endpoints [--db sqlite|postgresql] [--runs 3] [--workers 3]

Each run starts gunicorn (sync workers, as `make run`) on a fresh demo database (an SQLite file, or
the scratch PostgreSQL database `bench_a` on 127.0.0.1), adds TICKETS tickets through the phone's
whole-visit PUT, and then measures, each scenario after the one before (all clients start together,
each sends its requests one after another; latency is from send to the last byte read):

- `/healthz` at the scenario's concurrency, measured just before each scenario: the floor it is divided
  by (its p95 / that healthz p95). Other work on the machine comes and goes within a run; pairing
  each scenario with its own healthz keeps the ratio about the app, not about the moment;
- the ticket list, HTML (`/tickets/?status=open`) and API (`/api/v1/tickets`, the first page of 500),
  signed in as the leader, 50 clients;
- the visit PUT (`PUT /api/v1/visits/<uuid>`), 50 inspectors' phones submitting at once, each a new
  visit: every item of the checklist answered and FINDINGS problems (each opens a ticket), sent as the
  phone's outbox sends it (`Prefer: return=minimal`: it reads back only the status); also the
  audit chain entries those PUTs appended per second (every row written is chained, one appender at a
  time: what the chain sustains when it is the bottleneck);
- the dashboard (`/reports/`) with 10 leaders at once;
- anonymous complaints (`POST /api/v1/complaints`), 50 at once (the rate limits are lifted for the run).

Fixed seed (random.Random(18)): the same schools, bodies and ids in every run. Budget (issue 18):
visit PUT p95 at 50 clients ≤ 10× `/healthz` p95 on PostgreSQL, in one run. With --runs N the summary
gives each figure's median and range over the runs; the machine's load (`uptime`) is printed with it.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from bench.live import instance_env, serve
from inspect_app.demo import DEMO_PASSWORD

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_URL = "postgresql://postgres@127.0.0.1:5432/bench_a"
TICKETS = 470  # the measured list
FINDINGS = 3  # per benchmark visit: a typical visit's problems
SEED = 18


def load() -> str:
    """The load averages (1, 5, 15 min) as `uptime` shows them: other work on this machine's 2 cores."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read(), response
    finally:
        conn.close()


def api(port: int, method: str, path: str, body: dict | None = None, token: str | None = None):
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    status, data, _ = request(port, method, path, json.dumps(body, ensure_ascii=False).encode() if body else None,
                              headers)
    return status, json.loads(data or b"null")


def token_for(port: int, username: str) -> str:
    return api(port, "POST", "/api/v1/auth/token", {"username": username, "password": DEMO_PASSWORD})[1]["token"]


def cookie_for(port: int, username: str) -> str:
    status, page, response = request(port, "GET", "/accounts/sign-in")
    cookie = response.getheader("Set-Cookie").split(";")[0]
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.decode()).group(1)
    body = urllib.parse.urlencode({"csrf_token": csrf, "username": username, "password": DEMO_PASSWORD}).encode()
    status, _, response = request(port, "POST", "/accounts/sign-in", body, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    assert status == 302, status
    # The session and the recognised-device cookie: send back all that were set.
    return "; ".join(value.split(";")[0] for value in response.msg.get_all("Set-Cookie"))


def visit_body(rng: random.Random, school_id: int, checklist: dict, findings: int) -> dict:
    now = datetime.now(timezone.utc)
    return {
        "school_id": school_id, "version_id": checklist["version_id"], "mode": "overt",
        "started_at": (now - timedelta(minutes=40)).isoformat(), "submitted_at": now.isoformat(),
        "location": {"lat": 31.9, "lon": 120.28, "accuracy_m": 10},
        "answers": [{"code": item["code"], "result": "pass"} for item in checklist["items"]],
        "findings": [{"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "code": None,
                      "severity": rng.choice(["minor", "major"]),
                      "description": f"{rng.randint(1, 9)}号楼{rng.choice(['消毒记录缺页', '洗手液空', '体温计失灵'])}"}
                     for _ in range(findings)],
    }


def scenario(clients: int, per_client: int, make_request) -> dict:
    """`make_request(client, n)` → (status, ...); every client starts at once. Latencies in ms."""
    latencies: list[float] = []
    errors: list[str] = []
    barrier = threading.Barrier(clients)
    lock = threading.Lock()

    def client(k: int):
        barrier.wait()
        for n in range(per_client):
            started = time.perf_counter()
            status = make_request(k, n)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status in (200, 201):
                    latencies.append(elapsed)
                else:
                    errors.append(str(status))
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    # A failed request is a finding, not a reason to stop: counted and printed with the figures.
    return {"p50": statistics.median(latencies), "p95": statistics.quantiles(latencies, n=20)[18],
            "n": len(latencies), "wall_s": wall, "per_s": len(latencies) / wall,
            "errors": ", ".join(f"{errors.count(s)}× {s}" for s in sorted(set(errors)))}


def audit_count(database_url: str) -> int:
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM audit_entries")).scalar()
    finally:
        engine.dispose()


def one_run(db: str, workers: int) -> dict:
    database_url = None
    if db == "postgresql":
        subprocess.run(["psql", PG_ADMIN_URL, "-qc", "DROP DATABASE IF EXISTS bench_a WITH (FORCE)"], check=True)
        subprocess.run(["psql", PG_ADMIN_URL, "-qc", "CREATE DATABASE bench_a"], check=True)
        database_url = PG_BENCH_URL
    os.environ.update(COMPLAINTS_PER_ADDRESS_PER_HOUR="1000000", COMPLAINTS_PER_SCHOOL_PER_DAY="1000000")
    env = instance_env(database_url)
    database_url = database_url or f"sqlite:///{env['INSTANCE_PATH']}/inspect.db"
    rng = random.Random(SEED)
    results: dict[str, dict] = {}
    with serve(env, workers=workers) as base:
        port = int(base.rsplit(":", 1)[1])
        inspector = token_for(port, "inspector")
        leader_token = token_for(port, "leader")
        leader_cookie = cookie_for(port, "leader")
        schools = [s["id"] for s in api(port, "GET", "/api/v1/schools", token=inspector)[1]["schools"]]
        checklist = api(port, "GET", f"/api/v1/checklists?mode=overt&school_id={schools[0]}",
                        token=inspector)[1]["checklists"][0]

        # The ticket list the issue measured: TICKETS more tickets, ten to a visit.
        for _ in range(TICKETS // 10):
            status, answer = api(port, "PUT", f"/api/v1/visits/{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                                 visit_body(rng, rng.choice(schools), checklist, 10), inspector)
            assert status == 201, (status, answer)
        results["tickets in the list"] = {"n": len(api(port, "GET", "/api/v1/tickets", token=leader_token)[1]["tickets"])}

        def get(path: str, headers: dict):
            return lambda k, n: request(port, "GET", path, headers=headers)[0]

        def paired(clients: int, per_client: int, make_request) -> dict:
            floor = scenario(clients, 10, get("/healthz", {}))
            figures = scenario(clients, per_client, make_request)
            return figures | {"healthz_p95": floor["p95"], "ratio": figures["p95"] / floor["p95"]}
        results["ticket list HTML, 50"] = paired(50, 2, get("/tickets/?status=open", {"Cookie": leader_cookie}))
        results["ticket list API, 50"] = paired(50, 2, get("/api/v1/tickets", {"Authorization": f"Bearer {leader_token}"}))

        bodies = [[json.dumps(visit_body(rng, rng.choice(schools), checklist, FINDINGS), ensure_ascii=False).encode()
                   for _ in range(4)] for _ in range(50)]
        ids = [[uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(4)] for _ in range(50)]
        # As the phone's outbox sends it: it reads nothing back but the status (Prefer: return=minimal).
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {inspector}",
                   "Prefer": "return=minimal"}
        before = audit_count(database_url)
        results["visit PUT, 50"] = put = paired(
            50, 2, lambda k, n: request(port, "PUT", f"/api/v1/visits/{ids[k][n]}", bodies[k][n], headers)[0])
        entries = audit_count(database_url) - before
        results["audit chain"] = {"n": entries, "per_s": entries / put["wall_s"], "per_visit": entries / put["n"]}

        results["dashboard, 10 leaders"] = paired(10, 5, get("/reports/", {"Cookie": leader_cookie}))
        complaint = [[json.dumps({"school_id": rng.choice(schools), "text": f"食堂{rng.randint(1, 99)}号窗口无人监督洗手"},
                                 ensure_ascii=False).encode() for _ in range(4)] for _ in range(50)]
        results["complaints POST, 50"] = paired(50, 2, lambda k, n: request(
            port, "POST", "/api/v1/complaints", complaint[k][n],
            {"Content-Type": "application/json"})[0])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        before = load()
        results = one_run(args.db, args.workers)
        runs.append(results)
        print(f"run {n + 1} ({args.db}, {args.workers} workers; load before {before}, after {load()})")
        for name, f in results.items():
            if "p95" in f:
                print(f"  {name:<24} p50 {f['p50']:7.1f} ms  p95 {f['p95']:7.1f} ms  ×{f['ratio']:5.1f} healthz p95"
                      f" ({f['healthz_p95']:.0f} ms)  {f['per_s']:6.1f}/s" + (f"  FAILED: {f['errors']}" if f['errors'] else ""))
            elif "per_s" in f:
                print(f"  {name:<24} {f['n']} entries, {f['per_visit']:.1f} per visit, {f['per_s']:.0f} entries/s")
            else:
                print(f"  {name:<24} {f['n']}")
    if len(runs) > 1:
        print(f"summary over {len(runs)} runs: median [min–max]")
        for name, f in runs[0].items():
            for key in ("p50", "p95", "healthz_p95", "ratio", "per_s"):
                if key in f:
                    values = sorted(run[name][key] for run in runs)
                    print(f"  {name:<24} {key:<6} {statistics.median(values):8.1f} [{values[0]:.1f}–{values[-1]:.1f}]")
    if args.db == "postgresql":
        worst = max(run["visit PUT, 50"]["ratio"] for run in runs)
        print(f"budget: visit PUT p95 ≤ 10× healthz p95 on PostgreSQL: worst run ×{worst:.1f}: "
              + ("met" if worst <= 10 else "NOT met"))


if __name__ == "__main__":
    main()
