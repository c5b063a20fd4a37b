"""Two app machines of one deployment, on this one: two gunicorn instances on different ports, each
with its own instance folder (they share no disk), against one PostgreSQL (a scratch database, dropped
after), one S3 server (SeaweedFS) and one Redis (a key prefix of their own).

Used by tests/test_two_machines.py and by the province benchmark (bench/province.py), so that what the
benchmark measures is the setup the test shows to work. The secrets come from the environment, as
docs/deploy.md asks of a deployment of more than one machine: with them, STORAGE_URL and DATABASE_URL
set, neither instance writes anything under its instance folder but its own log.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from inspect_app import PROJECT_ROOT
from tests.processes import stop
from tests.storage_server import BUCKET, SeaweedServer, free_ports, storage_config

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct-horse-1"


def _sqlalchemy_url(url: str) -> str:
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@dataclass
class Machine:
    name: str
    port: int
    instance: Path
    process: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None  # `flask worker`, when the cluster runs one per machine

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.instance / "gunicorn.log"


@dataclass
class Cluster:
    """`with Cluster(workdir, database_url) as cluster:` — started on entering, everything it made
    (database, Redis keys, objects under its prefix, servers) gone on leaving."""
    workdir: Path
    database_url: str
    s3_endpoint: str | None = None  # None: a SeaweedFS of its own, in workdir
    redis_url: str = REDIS_URL
    workers: int = 2  # gunicorn workers per machine
    scheduler: bool = False  # also `flask worker` on each machine, as docs/deploy.md allows
    env: dict[str, str] = field(default_factory=dict)  # more settings for both machines
    machines: list[Machine] = field(default_factory=list)

    def __post_init__(self):
        self.workdir = Path(self.workdir)
        self.run_id = uuid.uuid4().hex[:10]
        self.prefix = f"two-machines-{self.run_id}"
        base = sa.engine.make_url(_sqlalchemy_url(self.database_url))
        self.database_name = f"{base.database}_two_{self.run_id}"
        self.admin = base
        self.url = base.set(database=self.database_name).render_as_string(hide_password=False)
        self._seaweed: SeaweedServer | None = None

    # --- the shared services -------------------------------------------------------------------------
    def _environment(self, machine: Machine) -> dict[str, str]:
        env = {**os.environ, **self.shared_env, "INSTANCE_PATH": str(machine.instance)}
        for variable in ("TRUSTED_PROXIES", "STORAGE_DIR"):
            env.pop(variable, None)
        return env

    def _make_secrets(self) -> dict[str, str]:
        from inspect_app.accounts.escrow import new_key as new_identity_key
        from inspect_app.audit.keys import new_key as new_audit_key
        return {"SECRET_KEY": uuid.uuid4().hex + uuid.uuid4().hex, "AUDIT_KEYS": new_audit_key("k1"),
                "VOLUNTEER_IDENTITY_KEYS": new_identity_key()}

    def start(self) -> Cluster:
        engine = sa.create_engine(self.admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.database_name}"'))
        engine.dispose()
        ports = free_ports(2)
        self.machines = [Machine(name, port, self.workdir / f"instance-{name}")
                         for name, port in zip("ab", ports)]
        for machine in self.machines:
            machine.instance.mkdir(parents=True)
        if self.s3_endpoint is None:
            # Volumes as the disk allows: weed's default 8 × 64 MB fills after ~700 photos, and then
            # every upload is a 503 (the first benchmark run found it).
            self._seaweed = SeaweedServer(self.workdir / "seaweedfs", max_volumes=0)
            self.s3_endpoint = self._seaweed.endpoint
        self.shared_env = {
            "FLASK_APP": "wsgi", "DATABASE_URL": self.url, "REDIS_URL": self.redis_url,
            "RATELIMIT_KEY_PREFIX": self.prefix,
            # One deployment has one public address (the QR posters'), whichever machine answers.
            "PUBLIC_BASE_URL": self.machines[0].url,
            **self._make_secrets(), **storage_config(self.s3_endpoint, self.prefix), **self.env}
        # The schema is built while SeaweedFS starts (the migrations never touch the store): on two
        # busy cores each takes seconds.
        migrating = subprocess.Popen([sys.executable, "-m", "flask", "db", "upgrade"], cwd=PROJECT_ROOT,
                                     env=self._environment(self.machines[0]), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        try:
            if self._seaweed is not None:
                self._seaweed.start()
            output, _ = migrating.communicate(timeout=180)
        finally:
            stop(migrating)
        if migrating.returncode:
            raise RuntimeError(f"flask db upgrade failed: {output.decode()[-2000:]}")
        for machine in self.machines:
            self._start_machine(machine)
        for machine in self.machines:
            self._wait(machine)
        if self.scheduler:
            for machine in self.machines:
                with (machine.instance / "worker.log").open("ab") as log:
                    machine.worker = subprocess.Popen([sys.executable, "-m", "flask", "worker"], cwd=PROJECT_ROOT,
                                                      env=self._environment(machine), stdout=log,
                                                      stderr=subprocess.STDOUT)
        return self

    def _start_machine(self, machine: Machine) -> None:
        with machine.log.open("ab") as log:
            machine.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--workers", str(self.workers),
                 # A photo from a slow phone may take its time; the benchmark's queue may too.
                 "--timeout", "120", "--bind", f"127.0.0.1:{machine.port}", "wsgi:app"],
                cwd=PROJECT_ROOT, env=self._environment(machine), stdout=log, stderr=subprocess.STDOUT)

    def _wait(self, machine: Machine, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if machine.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(machine.url + "/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn {machine.name} did not answer: " + machine.log.read_text()[-3000:])

    def stop(self) -> None:
        processes = [p for m in self.machines for p in (m.worker, m.process) if p is not None]
        for process in processes:  # all leave at once, then each is waited for
            if process.poll() is None:
                process.terminate()
        for process in processes:
            stop(process)
        self._forget_redis_keys()
        self._forget_objects()
        if self._seaweed is not None:
            self._seaweed.stop()
        engine = sa.create_engine(self.admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)'))
        engine.dispose()

    def _forget_redis_keys(self) -> None:
        import redis
        try:
            connection = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2)
            for key in connection.scan_iter(f"{self.prefix}:*"):
                connection.delete(key)
        except redis.RedisError:
            pass  # nothing was counted there, or it is gone: the keys expire with their window anyway

    def _forget_objects(self) -> None:
        """A shared S3 server (.ci/run's) keeps running: take this run's objects out of it."""
        if self._seaweed is not None or not self.s3_endpoint:
            return
        import boto3
        client = boto3.client("s3", endpoint_url=self.s3_endpoint, region_name="us-east-1",
                              aws_access_key_id=storage_config(self.s3_endpoint, "")["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=storage_config(self.s3_endpoint, "")["AWS_SECRET_ACCESS_KEY"])
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=self.prefix + "/"):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})

    def __enter__(self) -> Cluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- people and places ---------------------------------------------------------------------------
    def app(self):
        """The app in this process, on the cluster's database and store (for seeding and counting)."""
        from inspect_app import create_app
        from inspect_app.config import Config
        env = self.shared_env
        return create_app(Config, SQLALCHEMY_DATABASE_URI=_sqlalchemy_url(self.url),
                          SECRET_KEY=env["SECRET_KEY"], AUDIT_KEYS=env["AUDIT_KEYS"],
                          VOLUNTEER_IDENTITY_KEYS=env["VOLUNTEER_IDENTITY_KEYS"], REDIS_URL=self.redis_url,
                          RATELIMIT_KEY_PREFIX=self.prefix, PUBLIC_BASE_URL=env["PUBLIC_BASE_URL"],
                          STORAGE_DIR=str(self.workdir / "unused-storage"),
                          **{k: v for k, v in env.items() if k.startswith(("STORAGE_URL", "S3_", "AWS_"))})

    def seed(self, inspectors: int, volunteers: int = 0, schools: int | None = None,
             tokens: bool = False) -> list[dict]:
        """Schools and field users, each user assigned one school; all share one password (hashed once:
        argon2 takes a tenth of a second each, which 2,000 users would spend before the work starts).
        With tokens=True each gets an API token as the phone keeps one (30 days), so a benchmark of the
        morning's uploads does not measure 2,000 sign-ins."""
        from inspect_app.accounts.models import AuthSession, Role, SessionKind, User
        from inspect_app.extensions import db
        from inspect_app.schools.models import School, SchoolKind
        app = self.app()
        people = []
        with app.app_context():
            from inspect_app.checklists.services import install_builtin_templates
            install_builtin_templates()  # as `flask checklists install` does after `flask db upgrade`
            count = schools or max(1, (inspectors + volunteers) // 4)
            places = [School(district=f"区县{n % 50}", name=f"学校{n}", kind=SchoolKind.PRIMARY,
                             address=f"测试路{n}号", lat=31.9 + (n % 1000) / 10000, lon=120.28 + (n // 1000) / 100,
                             radius_m=200) for n in range(count)]
            db.session.add_all(places)
            db.session.flush()
            hasher = User(username="x", display_name="x", role=Role.INSPECTOR)
            hasher.set_password(PASSWORD)
            roles = [Role.INSPECTOR] * inspectors + [Role.VOLUNTEER] * volunteers
            for n, role in enumerate(roles):
                school = places[n % count]
                user = User(username=f"{role.value}{n}", display_name=f"{role.value} {n}", role=role,
                            pseudonym=f"志愿者{n}" if role is Role.VOLUNTEER else None,
                            password_hash=hasher.password_hash)
                db.session.add(user)
                school.assigned_users.append(user)
                person = {"username": user.username, "role": role.value, "school_id": school.id,
                          "lat": school.lat, "lon": school.lon, "user": user}
                if tokens:
                    _, person["token"] = AuthSession.issue(user, SessionKind.API, app.config["API_TOKEN_LIFETIME"])
                people.append(person)
                if n % 200 == 199:
                    db.session.flush()
            db.session.commit()
            for person in people:
                person.pop("user")
            db.session.remove()
            db.engine.dispose()
        return people
