"""The daily report and the dashboard over a province: 20,000 schools, 1,000,000 findings (PostgreSQL).

    .venv/bin/python -m bench.scale [--runs 5]

Builds a scratch database `inspect_scale` on 127.0.0.1 with the real migrations, fills it with
set-based SQL (250,000 submitted visits over 100 days, 4 findings each, a ticket for every other
finding, 60 % of them closed), then times `reports.services.assemble(day)` and `dashboard()` in the
app. Budget (PRODUCT.md): ≤ 1 s each.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import sqlalchemy as sa

from inspect_app import PROJECT_ROOT

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
URL = "postgresql+psycopg://postgres@127.0.0.1:5432/inspect_scale"

FILL = """
INSERT INTO schools (district, name, kind, address, lat, lon, radius_m, qr_token, qr_issued_at, created_at)
SELECT '区县' || (g % 100), '学校' || g, 'primary', '', 31 + (g % 1000) / 1000.0, 120 + (g % 997) / 1000.0,
       200, md5('s' || g), now(), now()
FROM generate_series(1, 20000) g;

INSERT INTO users (username, display_name, role, password_hash, active, manages_volunteers, created_at)
SELECT 'insp' || g, '督学' || g, 'inspector', 'x', true, false, now() FROM generate_series(1, 200) g;

INSERT INTO visits (id, school_id, version_id, mode, author_id, status, started_at, submitted_at,
                    server_started_at, server_submitted_at, qr_scanned)
SELECT md5('v' || g)::uuid::text, (SELECT min(id) FROM schools) + (g % 20000), :version_id,
       CASE WHEN g % 10 = 0 THEN 'covert' WHEN g % 3 = 0 THEN 'self_check' ELSE 'overt' END,
       (SELECT min(id) FROM users WHERE username LIKE 'insp%') + (g % 200), 'submitted',
       ts - interval '30 minutes', ts, ts - interval '30 minutes', ts, true
FROM (SELECT g, now() - (g % 100) * interval '1 day' - (g % 1440) * interval '1 minute' AS ts
      FROM generate_series(1, 250000) g) s;

INSERT INTO findings (id, visit_id, item_code, position, description, severity, fixed_on_site)
SELECT md5('f' || v || '-' || k)::uuid::text, md5('v' || v)::uuid::text, 'G' || k, k,
       '校门设置体温检测点，入校人员“一测二问三登记”落实到位', 'major', false
FROM generate_series(1, 250000) v, generate_series(1, 4) k;

INSERT INTO tickets (finding_id, visit_id, school_id, status, severity, deadline, opened_at, escalation_level, version)
SELECT f.id, f.visit_id, v.school_id, CASE WHEN abs(hashtext(f.id)) % 10 < 6 THEN 'closed' ELSE 'open' END, 'major',
       v.server_submitted_at + interval '48 hours', v.server_submitted_at, 0, 1
FROM findings f JOIN visits v ON v.id = f.visit_id WHERE f.position % 2 = 0;

INSERT INTO ticket_events (ticket_id, kind, at, text, self_verified)
SELECT id, 'closed', opened_at + interval '1 day', '', false FROM tickets WHERE status = 'closed';
"""


def upgrade(name: str = "inspect_scale") -> None:
    """A database kept from an earlier run (--reuse) brought to today's schema: measuring an old schema
    with today's code fails on the first new column."""
    env = {**os.environ, "DATABASE_URL": URL.rsplit("/", 1)[0] + "/" + name, "FLASK_APP": "wsgi"}
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=PROJECT_ROOT, env=env, check=True,
                   capture_output=True)


def build(name: str = "inspect_scale") -> None:
    """The province in a scratch database; bench.map builds its own under another name."""
    url = URL.rsplit("/", 1)[0] + "/" + name
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi"}
    for args in (["db", "upgrade"], ["checklists", "install"]):
        subprocess.run([sys.executable, "-m", "flask", *args], cwd=PROJECT_ROOT, env=env, check=True,
                       capture_output=True)
    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        version_id = conn.execute(sa.text("SELECT min(id) FROM template_versions")).scalar()
        for statement in FILL.split(";\n"):
            if statement.strip():
                conn.execute(sa.text(statement), {"version_id": version_id})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE"))
        counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()  # noqa: S608
                  for t in ("schools", "visits", "findings", "tickets")}
    print(f"built in {time.perf_counter() - started:.0f} s: {counts}")


def measure(runs: int) -> None:
    from inspect_app import create_app
    from inspect_app.config import Config
    from inspect_app.dbtypes import utcnow
    from inspect_app.reports import services
    app = create_app(Config, SQLALCHEMY_DATABASE_URI=URL)
    with app.test_request_context("/"):
        day = services.report_day(utcnow()) - __import__("datetime").timedelta(days=30)
        for name, job in (("daily report", lambda: services.assemble(day)),
                          ("dashboard", lambda: services.dashboard())):
            times = []
            for _ in range(runs + 1):
                started = time.perf_counter()
                result = job()
                times.append((time.perf_counter() - started) * 1000)
            cold, warm = times[0], times[1:]
            size = result["overview"]["findings"] if name == "daily report" else result["visits_today"]
            print(f"{name:<13} first {cold:6.0f} ms   then median {statistics.median(warm):6.0f} ms, "
                  f"max {max(warm):6.0f} ms   "
                  f"({'findings in window' if name == 'daily report' else 'visits today'}: {size})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="measure the database built last time")
    args = parser.parse_args()
    build() if not args.reuse else upgrade()
    measure(args.runs)


if __name__ == "__main__":
    main()
