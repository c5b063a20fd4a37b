"""A province's busiest morning (issue 16): field users each submit a visit with 8 findings and 8
phone-sized photos, against two app machines on one PostgreSQL, one SeaweedFS (S3) and one Redis.

    .venv/bin/python -m bench.province [--inspectors 2000] [--concurrency 8] [--workers 2]

The issue's peak is 2,000 inspectors and volunteers within an hour: 0.56 visits/s and 4.4 photos/s.
Here the hour is compressed into as little as the machine allows: `--concurrency` phones send at once,
each sends its visit, then its photos one after the other (as the phone's outbox does), and the
requests go to the two machines in turn (as a load balancer would). Afterwards each visit is read back
through the other machine, to see that all eight photos are there.

The setup is tests/cluster.py's, the same the two-machine test runs: a scratch database made next to
TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test) and dropped after, a SeaweedFS of
its own (or TEST_S3_ENDPOINT's), Redis at TEST_REDIS_URL (default redis://127.0.0.1:6379/0) under a
prefix of its own, and `flask worker` on each machine. Users hold an API token as a phone does (it
lasts 30 days), so the morning is uploads, not 2,000 sign-ins.

The photos are real ones (/work/shared/fixtures/photos/), shrunk as the phone's worker shrinks them
(long edge 1600 px): JPEG, and every fourth WebP; each JPEG is made unique (a comment segment) so the
app's reused-photo check sees 16,000 different photos.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import urllib3
from PIL import Image

from inspect_app import PROJECT_ROOT

PHOTOS = PROJECT_ROOT.parent / "shared" / "fixtures" / "photos"
# The fixtures from phones and cameras at least 1600 px wide (the small ones would flatter the figures):
# a Nokia 8.3 (4608×1976), an iPhone (3264×2448), a 12 MP camera (4032×3024) and two 1600 px ones.
SOURCES = ["jpg_mobile_HMD_Nokia_8.3_5G.jpg", "jpg_hdr_iphone_hdr_NO.jpg", "jpg_tests_42_IndexError.jpg",
           "jpg_tests_36-memory_error.jpg", "jpg_tests_45-gps_ifd.jpg"]
FINDINGS = 8
PEAK_VISITS_PER_S = 2000 / 3600  # the issue's: 2,000 visits within an hour


def phone_photos() -> tuple[list[bytes], list[bytes]]:
    """(JPEGs, WebPs) as the phone sends them: long edge 1600 px (smaller sources stay as they are)."""
    jpegs, webps = [], []
    for name in SOURCES:
        image = Image.open(PHOTOS / name)
        image.load()
        image.thumbnail((1600, 1600))
        image = image.convert("RGB")
        for target, fmt, options in ((jpegs, "JPEG", {"quality": 85}), (webps, "WEBP", {"quality": 80})):
            out = io.BytesIO()
            image.save(out, fmt, **options)
            target.append(out.getvalue())
    return jpegs, webps


def unique(jpeg: bytes) -> bytes:
    """The same picture under a different hash: a JPEG comment segment (COM) right after SOI."""
    comment = uuid.uuid4().hex.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[2:]


class Run:
    def __init__(self, cluster, people, checklists, concurrency: int):
        self.cluster, self.people, self.checklists = cluster, people, checklists
        self.http = urllib3.PoolManager(maxsize=concurrency * 2, retries=False,
                                        timeout=urllib3.Timeout(connect=10, read=180))
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.photos_sent = 0
        self.jpegs, self.webps = phone_photos()

    def call(self, kind: str, method: str, url: str, token: str, expected: tuple[int, ...], **kwargs):
        started = time.perf_counter()
        try:
            response = self.http.request(method, url, headers={"Authorization": f"Bearer {token}",
                                                                **kwargs.pop("headers", {})}, **kwargs)
            status, data = response.status, response.data
        except Exception as error:  # noqa: BLE001 - a refused or dropped connection is an error to count
            status, data = 0, repr(error).encode()
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.times.setdefault(kind, []).append(elapsed)
            if status not in expected:
                self.errors.append(f"{kind} {method} {url}: {status} {data[:300]!r}")
        return status, data

    def machine(self, n: int) -> str:
        return self.cluster.machines[n % len(self.cluster.machines)].url

    def phone(self, index: int) -> None:
        """One user's visit: the visit, then its eight photos, then a look at it from the other side."""
        person = self.people[index]
        mode = "covert" if person["role"] == "volunteer" else "overt"
        checklist = self.checklists[mode]
        codes = checklist["codes"]
        now = datetime.now(timezone.utc)
        visit_id = str(uuid.uuid4())
        failed = codes[:FINDINGS]
        findings = [{"id": str(uuid.uuid4()), "code": code, "description": f"督查发现问题：{code} 未落实", "severity": "major",
                     "fixed_on_site": False, "location": None, "captured_at": now.isoformat()} for code in failed]
        visit = {"school_id": person["school_id"], "version_id": checklist["version_id"], "mode": mode,
                 "started_at": (now - timedelta(minutes=25)).isoformat(), "submitted_at": now.isoformat(),
                 "location": {"lat": person["lat"], "lon": person["lon"], "accuracy_m": 12},
                 "answers": [{"code": c, "result": "fail" if c in failed else "pass", "note": ""} for c in codes],
                 "findings": findings}
        token = person["token"]
        self.call("visit PUT", "PUT", f"{self.machine(index)}/api/v1/visits/{visit_id}", token, (201,),
                  body=json.dumps(visit).encode(), headers={"Content-Type": "application/json"})
        for n, finding in enumerate(findings):
            if n % 4 == 3:
                data, name, mime = self.webps[(index + n) % len(self.webps)], "photo.webp", "image/webp"
            else:
                data, name, mime = unique(self.jpegs[(index + n) % len(self.jpegs)]), "photo.jpg", "image/jpeg"
            fields = {"file": (name, data, mime), "captured_at": now.isoformat(), "lat": str(person["lat"]),
                      "lon": str(person["lon"]), "accuracy_m": "9", "finding_id": finding["id"]}
            status, _ = self.call("photo PUT", "PUT", f"{self.machine(index + 1 + n)}/api/v1/photos/{uuid.uuid4()}",
                                  token, (201,), fields=fields)
            if status == 201:
                with self.lock:
                    self.photos_sent += 1
        status, data = self.call("visit GET", "GET", f"{self.machine(index + 1)}/api/v1/visits/{visit_id}", token, (200,))
        if status == 200:
            got = sum(len(f["photos"]) for f in json.loads(data)["findings"])
            if got != FINDINGS:
                with self.lock:
                    self.errors.append(f"visit {visit_id}: {got} photos read back, {FINDINGS} sent")


def checklists_for(run: Run, people) -> dict:
    """The checklist each kind of user fills in, asked for as the phone asks (and then keeps offline)."""
    found = {}
    for role, mode in (("inspector", "overt"), ("volunteer", "covert")):
        person = next((p for p in people if p["role"] == role), None)
        if person is None:
            continue
        status, data = run.call("checklists GET", "GET", f"{run.machine(0)}/api/v1/checklists?school_id="
                                f"{person['school_id']}&mode={mode}", person["token"], (200,))
        if status != 200:
            raise SystemExit(f"no checklist for a {role}: {data[:300]!r}")
        usable = [c for c in json.loads(data)["checklists"] if len(c["items"]) >= FINDINGS]
        found[mode] = {"version_id": usable[0]["version_id"], "codes": [i["code"] for i in usable[0]["items"]],
                       "name": usable[0]["code"]}
    return found


def cpu_seconds(root: int) -> dict[int, float]:
    """CPU time (user + system) of a process and its descendants, per pid, from /proc: the app
    servers' own cost, which the other programs sharing the cores do not blur as they blur wall time."""
    tick = os.sysconf("SC_CLK_TCK")
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def queue(cluster) -> list[str]:
    """What the scheduler holds after the morning: the job store, the runs so far, the outbox."""
    import sqlalchemy as sa
    engine = sa.create_engine(cluster.url)
    lines = []
    with engine.connect() as conn:
        for job, next_run in conn.execute(sa.text("SELECT id, next_run_time FROM apscheduler_jobs ORDER BY id")):
            when = datetime.fromtimestamp(next_run, timezone.utc).strftime("%H:%M:%S UTC") if next_run else "paused"
            lines.append(f"job store: {job} next at {when}")
        for job, period, outcome, took in conn.execute(sa.text(
                "SELECT job, period, outcome, extract(epoch FROM finished_at - started_at) FROM job_runs ORDER BY id")):
            lines.append(f"ran: {job} for {period}: {outcome} ({took or 0:.1f} s)")
        counts = conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM visits), (SELECT count(*) FROM findings), (SELECT count(*) FROM photos), "
            "(SELECT count(*) FROM tickets), (SELECT count(*) FROM notice_deliveries WHERE status <> 'sent')")).one()
        lines.append("rows: {} visits, {} findings, {} photos, {} tickets; {} notices waiting to leave".format(*counts))
    engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inspectors", type=int, default=2000, help="field users, each sending one visit")
    parser.add_argument("--volunteer-share", type=float, default=0.25, help="of them volunteers (covert visits)")
    parser.add_argument("--concurrency", type=int, default=8, help="phones sending at once")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per machine")
    args = parser.parse_args()

    sys.path.insert(0, str(PROJECT_ROOT))
    from tests.cluster import Cluster
    database_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    volunteers = round(args.inspectors * args.volunteer_share)
    with tempfile.TemporaryDirectory(prefix="province-") as workdir, \
            Cluster(Path(workdir), database_url, s3_endpoint=os.environ.get("TEST_S3_ENDPOINT"),
                    workers=args.workers, scheduler=True) as cluster:
        print(f"two machines up: {', '.join(m.url for m in cluster.machines)}; seeding "
              f"{args.inspectors - volunteers} inspectors and {volunteers} volunteers …", flush=True)
        people = cluster.seed(inspectors=args.inspectors - volunteers, volunteers=volunteers, tokens=True)
        random.Random(16).shuffle(people)
        run = Run(cluster, people, {}, args.concurrency)
        run.checklists = checklists_for(run, people)
        run.times.clear()
        loads: list[float] = []
        done = threading.Event()

        def sample_load():
            while not done.wait(5):
                loads.append(os.getloadavg()[0])
        threading.Thread(target=sample_load, daemon=True).start()
        roots = {"app servers": [m.process.pid for m in cluster.machines],
                 "workers": [m.worker.pid for m in cluster.machines]}
        if cluster._seaweed is not None:
            roots["SeaweedFS"] = [cluster._seaweed.process.pid]
        cpu_before = {name: [cpu_seconds(pid) for pid in pids] for name, pids in roots.items()}
        started = time.perf_counter()
        finished = 0
        with ThreadPoolExecutor(args.concurrency) as pool:
            for _ in pool.map(run.phone, range(len(people))):
                finished += 1
                if finished % max(1, len(people) // 10) == 0:
                    elapsed = time.perf_counter() - started
                    print(f"  {finished} visits in {elapsed:.0f} s ({finished / elapsed:.2f}/s)", flush=True)
        duration = time.perf_counter() - started
        cpu = {name: sum(cpu_used(before, cpu_seconds(pid)) for pid, before in zip(roots[name], cpu_before[name]))
               for name in roots}
        done.set()
        time.sleep(1)
        jobs = queue(cluster)

    visits_per_s, photos_per_s = len(people) / duration, run.photos_sent / duration
    print()
    print(f"{len(people)} visits ({volunteers} covert by volunteers), {run.photos_sent} photos, "
          f"concurrency {args.concurrency}, {args.workers} gunicorn workers × 2 machines")
    print(f"duration {duration:.1f} s; {visits_per_s:.2f} visits/s, {photos_per_s:.2f} photos/s "
          f"(the peak needs {PEAK_VISITS_PER_S:.2f} and {PEAK_VISITS_PER_S * FINDINGS:.2f}: "
          f"{visits_per_s / PEAK_VISITS_PER_S:.1f}×)")
    print(f"load average (1 min) during the run: mean {statistics.mean(loads or [0]):.1f}, "
          f"max {max(loads or [0]):.1f}; at the end {os.getloadavg()}")
    print("CPU used: " + ", ".join(f"{name} {seconds:.0f} s ({seconds / len(people) * 1000:.0f} ms per visit)"
                                   for name, seconds in cpu.items()))
    print(f"{'request':<12} {'count':>6} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for kind, values in run.times.items():
        print(f"{kind:<12} {len(values):>6} {statistics.median(values):>10.0f} {p95(values):>8.0f} {max(values):>8.0f}")
    print(f"errors: {len(run.errors)}")
    for error in run.errors[:20]:
        print("  " + error)
    print("scheduled jobs:")
    for line in jobs:
        print("  " + line)
    sys.exit(1 if run.errors else 0)


if __name__ == "__main__":
    main()
