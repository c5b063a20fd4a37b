"""Store a visit at every limit at once, and refuse one over it, against the real server.

    .venv/bin/python -m bench.limits [--db sqlite|postgresql] [--runs 5]

Starts gunicorn (one worker) on 127.0.0.1 with a fresh demo database (SQLite file, or a scratch
PostgreSQL database `inspect_bench_limits` on 127.0.0.1). The demo inspector then submits, with the
phone's whole-visit PUT, a visit at the limits of docs/limits.md: every checklist item answered with a
note of NOTE_MAX_CHARS characters, VISIT_MAX_FINDINGS free findings of DESCRIPTION_MAX_CHARS each, all
of them opening tickets. Each run is a new visit. Then it sends a visit with 5,000 findings, which
must be refused (413) before any work. Budget (issue 9): ≤ 2 s to store the visit at the limit;
well under 1 s to refuse the one over it.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

from bench.live import instance_env, serve
from inspect_app.config import Config
from inspect_app.demo import DEMO_PASSWORD

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_URL = "postgresql://postgres@127.0.0.1:5432/inspect_bench_limits"


def encode(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()  # UTF-8, as the phone's JSON.stringify sends it


def call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None):
    request = urllib.request.Request(base + path, method=method, data=encode(body) if body else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def visit_at_limit(school_id: int, checklist: dict, findings: int, length: int = Config.DESCRIPTION_MAX_CHARS) -> dict:
    now = datetime.now(timezone.utc)
    return {
        "school_id": school_id, "version_id": checklist["version_id"], "mode": "overt",
        "started_at": (now - timedelta(hours=1)).isoformat(), "submitted_at": now.isoformat(),
        "location": {"lat": 31.9, "lon": 120.28, "accuracy_m": 10},
        "answers": [{"code": item["code"], "result": "pass", "note": "记" * Config.NOTE_MAX_CHARS}
                    for item in checklist["items"]],
        "findings": [{"id": str(uuid.uuid4()), "code": None, "severity": "minor",
                      "description": (f"{n}号楼楼梯扶手松动" + "扶" * length)[:length]}
                     for n in range(findings)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    database_url = None
    if args.db == "postgresql":
        subprocess.run(["psql", PG_ADMIN_URL, "-qc", "DROP DATABASE IF EXISTS inspect_bench_limits"], check=True)
        subprocess.run(["psql", PG_ADMIN_URL, "-qc", "CREATE DATABASE inspect_bench_limits"], check=True)
        database_url = PG_BENCH_URL
    env = instance_env(database_url)

    with serve(env, workers=1) as base:
        signed_in = call(base, "POST", "/api/v1/auth/token", {"username": "inspector", "password": DEMO_PASSWORD})
        token = signed_in[1]["token"]
        school_id = call(base, "GET", "/api/v1/schools", token=token)[1]["schools"][0]["id"]
        checklist = call(base, "GET", f"/api/v1/checklists?mode=overt&school_id={school_id}",
                         token=token)[1]["checklists"][0]

        times, size = [], 0
        for _ in range(args.runs + 1):  # the first run warms the worker up and is not counted
            body = visit_at_limit(school_id, checklist, Config.VISIT_MAX_FINDINGS)
            size = len(encode(body))
            started = time.perf_counter()
            status, answer = call(base, "PUT", f"/api/v1/visits/{uuid.uuid4()}", body, token)
            times.append(time.perf_counter() - started)
            assert status == 201, (status, answer)
        times = times[1:]

        # Short texts, so that it is the count that is over its limit, not the body's size.
        over = visit_at_limit(school_id, checklist, 5000, length=20)
        started = time.perf_counter()
        status, answer = call(base, "PUT", f"/api/v1/visits/{uuid.uuid4()}", over, token)
        refused = time.perf_counter() - started
        assert status == 413, (status, answer)

    print(f"{args.db}: a visit at the limit ({len(checklist['items'])} answers with "
          f"{Config.NOTE_MAX_CHARS}-character notes, {Config.VISIT_MAX_FINDINGS} findings of "
          f"{Config.DESCRIPTION_MAX_CHARS} characters, each opening a ticket; {size / 1024:.0f} KB of JSON)")
    print(f"  stored: median {statistics.median(times):.2f} s, max {max(times):.2f} s over {len(times)} runs")
    print(f"  5,000 findings ({len(encode(over)) / 1024:.0f} KB): refused {status} "
          f"in {refused * 1000:.0f} ms")


if __name__ == "__main__":
    main()
