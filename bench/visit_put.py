"""What one whole-visit PUT costs, in one process, without the noise of 50 clients (issue 18).

    .venv/bin/python -m bench.visit_put [--db sqlite|postgresql] [--puts 20] [--trials 3] [--stages] [--profile FILE]

`bench.endpoints` measures the PUT under 50 concurrent phones beside `/healthz`; on a quiet machine its
ratio is the PUT's work over `/healthz`'s (nothing queues), so the way to lower it is to do less per PUT.
This counts that work for the same request (the benchmark's body: every item of the 28-item checklist
answered, FINDINGS problems that each open a ticket; sent with the phone's `Prefer: return=minimal`
unless --full-answer) through the app's test client on a fresh demo
database: the SQL statements one PUT sends, the Python function calls it makes (deterministic: the
figure to compare two versions by on a busy machine), and the CPU time of the app and, on PostgreSQL,
of its server process (median and range of --trials runs of --puts PUTs). --stages splits the calls
between the steps of the request (applying the body, the flush, the audit chain, the answer).
"""
from __future__ import annotations

import argparse
import cProfile
import collections
import functools
import os
import pstats
import random
import statistics
import subprocess
import sys
import time
import uuid

import sqlalchemy as sa

from bench.endpoints import FINDINGS, PG_ADMIN_URL, visit_body

PG_BENCH_URL = "postgresql://postgres@127.0.0.1:5432/bench_put"


def _database(db: str) -> dict:
    if db == "postgresql":
        subprocess.run(["psql", PG_ADMIN_URL, "-qc", "DROP DATABASE IF EXISTS bench_put WITH (FORCE)"], check=True)
        subprocess.run(["psql", PG_ADMIN_URL, "-qc", "CREATE DATABASE bench_put"], check=True)
    from bench.live import instance_env
    env = instance_env(PG_BENCH_URL if db == "postgresql" else None)
    return {k: env[k] for k in ("INSTANCE_PATH", "PUBLIC_BASE_URL", "DATABASE_URL") if k in env}


def _server_cpu(engine) -> float:
    """CPU seconds used so far by the database server processes serving this database (PostgreSQL)."""
    if engine.dialect.name != "postgresql":
        return 0.0
    with engine.connect() as connection:
        pids = connection.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))
        total = 0
        for (pid,) in pids:
            try:
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a backend that ended meanwhile
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--puts", type=int, default=20)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--stages", action="store_true")
    parser.add_argument("--full-answer", action="store_true", help="without the phone's Prefer: return=minimal: "
                                                                   "the whole visit is sent back")
    parser.add_argument("--profile", metavar="FILE", help="also write the 10 profiled PUTs' cProfile stats "
                                                          "there (python -m pstats FILE, or snakeviz)")
    args = parser.parse_args()
    os.environ.update(_database(args.db))

    from inspect_app import create_app
    from inspect_app.config import _database_url
    from inspect_app.demo import DEMO_PASSWORD
    from inspect_app.extensions import db

    # The configuration was read when inspect_app was imported, before the instance above existed.
    app = create_app(PUBLIC_BASE_URL=os.environ["PUBLIC_BASE_URL"], SQLALCHEMY_DATABASE_URI=_database_url())
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "inspector", "password": DEMO_PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if not args.full_answer:  # as the phone's outbox sends it: only the status is read back
        headers["Prefer"] = "return=minimal"
    schools = [s["id"] for s in client.get("/api/v1/schools", headers=headers).get_json()["schools"]]
    checklist = client.get(f"/api/v1/checklists?mode=overt&school_id={schools[0]}",
                           headers=headers).get_json()["checklists"][0]
    rng = random.Random(18)

    def put() -> None:
        import json
        body = json.dumps(visit_body(rng, rng.choice(schools), checklist, FINDINGS), ensure_ascii=False)
        response = client.put(f"/api/v1/visits/{uuid.UUID(int=rng.getrandbits(128), version=4)}", data=body,
                              headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)[:300]

    for _ in range(5):  # warm what a process caches once
        put()
    with app.app_context():
        engine = db.engine
    statements: list[str] = []
    def note(*a):  # (conn, cursor, statement, …)
        statements.append(a[2])
        if os.environ.get("BENCH_SHOW_SQL") == "where":
            import traceback
            print(" ".join(a[2].split())[:100], *[f"{f.filename.split('inspect_app/')[-1]}:{f.lineno} {f.name}" for f in traceback.extract_stack() if "inspect_app/" in f.filename][-4:], sep="\n      ")
    sa.event.listen(engine, "before_cursor_execute", note)
    put()
    sa.event.remove(engine, "before_cursor_execute", note)

    profile = cProfile.Profile(time.process_time)  # CPU, not wall: waiting on the server is not our work
    profile.enable()
    for _ in range(10):
        put()
    profile.disable()
    calls = pstats.Stats(profile).total_calls / 10
    if args.profile:
        profile.dump_stats(args.profile)

    cpu = []
    for _ in range(args.trials):
        server, started = _server_cpu(engine), time.process_time()
        for _ in range(args.puts):
            put()
        app_ms = (time.process_time() - started) / args.puts * 1000
        cpu.append((app_ms, (_server_cpu(engine) - server) / args.puts * 1000))
    print(f"whole-visit PUT ({args.db}; {len(checklist['items'])} answers, {FINDINGS} findings → tickets):")
    print(f"  SQL statements per PUT   {len(statements)}")
    if os.environ.get("BENCH_SHOW_SQL"):
        for statement in statements:
            print("    " + " ".join(statement.split())[:160])
    print(f"  Python calls per PUT     {calls:,.0f}")
    for label, values in (("app CPU per PUT", [a for a, _ in cpu]), ("server CPU per PUT", [s for _, s in cpu]),
                          ("total CPU per PUT", [a + s for a, s in cpu])):
        values.sort()
        print(f"  {label:<24} {statistics.median(values):.1f} ms [{values[0]:.1f}–{values[-1]:.1f}]")
    if args.stages:
        _stages(put)


def _stages(put) -> None:
    """Python calls per PUT by the step of the request they are made in (innermost named step wins)."""
    import sqlalchemy.orm as so

    from inspect_app.api import visit_payload, visits
    from inspect_app.audit import services as audit
    from inspect_app.visits import services

    counts: collections.Counter = collections.Counter()
    stack = ["request (auth, validation, Flask)"]

    def step(name, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            stack.append(name)
            try:
                return function(*args, **kwargs)
            finally:
                stack.pop()
        return wrapper

    def count(frame, event, arg):
        if event == "call":
            counts[stack[-1]] += 1

    visit_payload.apply = step("apply: the rest", visit_payload.apply)
    for name in ("_apply_answers", "_apply_findings", "_taken_elsewhere"):
        setattr(visit_payload, name, step(f"apply: {name}", getattr(visit_payload, name)))
    for name in ("start_target", "submit"):
        setattr(services, name, step(f"apply: {name}", getattr(services, name)))
    visits.visit_json = step("the answer (visit_json)", visits.visit_json)
    so.Session.flush = step("flush (SQLAlchemy)", so.Session.flush)
    for event in ("before_flush", "after_flush", "before_commit"):
        hook = getattr(audit, event)
        sa.event.remove(so.Session, event, hook)
        sa.event.listen(so.Session, event, step(f"audit {event}", hook))
    sys.setprofile(count)
    for _ in range(10):
        put()
    sys.setprofile(None)
    print("  Python calls per PUT by step (function entries, C calls not counted):")
    for name, n in counts.most_common():
        print(f"    {n / 10:8,.0f}  {name}")


if __name__ == "__main__":
    main()
