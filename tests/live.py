"""The app as it is served, for the tests that drive it over HTTP (tests/browser, tests/test_served.py,
tests/test_shared_limits.py): gunicorn on an instance folder of its own, copied from one demo instance
that the run builds once (tests/conftest.py's `demo_instance` fixture).
"""
from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from inspect_app import PROJECT_ROOT
from tests.storage_server import free_ports

# Production's argon2 costs 0.16 s of CPU a hash: `flask demo` sets ten passwords and every sign-in
# checks one. The served instances hash cheaply (TestConfig's values; the code path is the same).
CHEAP_ARGON2 = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1"}


def free_port() -> int:
    return free_ports(1)[0]


def environment(instance: Path, **overrides: str) -> dict[str, str]:
    """The app's environment for an instance folder: SQLite in it (whatever DATABASE_URL the run has),
    no trusted proxies unless a test says so."""
    env = {**os.environ, "INSTANCE_PATH": str(instance), "FLASK_APP": "wsgi", **CHEAP_ARGON2}
    for variable in ("DATABASE_URL", "TRUSTED_PROXIES"):
        env.pop(variable, None)
    env.update(overrides)
    return env


def build_demo_instance(root: Path) -> Path:
    """An instance folder as `make demo` leaves it (database, keys, files), made once per run under
    root: the first process to need it builds it, the others wait for it (pytest-xdist's file-lock
    recipe), so the run pays for `flask db upgrade` and `flask demo` once, not once a process."""
    instance = root / "live-demo"
    with (root / "live-demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "live-demo.ready").exists():
            shutil.rmtree(instance, ignore_errors=True)  # a half-built one, if a build failed
            instance.mkdir()
            env = environment(instance, PUBLIC_BASE_URL="http://127.0.0.1")
            for args in (["db", "upgrade"], ["demo"]):
                subprocess.run([sys.executable, "-m", "flask", *args], cwd=PROJECT_ROOT, env=env,
                               check=True, capture_output=True, timeout=120)
            (root / "live-demo.ready").touch()
    return instance


class LiveServer:
    """gunicorn on a copy of the demo instance (the copy is the server's own: it may change it)."""

    def __init__(self, demo: Path, instance: Path, workers: int = 2, preload: bool = True, **env_overrides: str):
        shutil.copytree(demo, instance, dirs_exist_ok=True)
        self.instance, self.workers, self.preload = instance, workers, preload
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = instance / "inspect.db"
        # The app refuses to start without one; this server's own, not one inherited from `make`.
        self.env = environment(instance, **{"PUBLIC_BASE_URL": self.url, **env_overrides})

    def launch(self) -> LiveServer:
        self.log = (self.instance / "gunicorn.log").open("wb")
        # --preload: the app is imported once and the workers forked from it, not imported by each
        # (seconds of CPU per server, a dozen servers a run); create_app opens no connection to share.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), *(["--preload"] * self.preload),
             "--access-logfile", "-", "--bind", f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=PROJECT_ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 30) -> LiveServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        log = (self.instance / "gunicorn.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"gunicorn did not answer at {self.url}:\n{log}")

    def start(self) -> LiveServer:
        return self.launch().wait_ready()

    def stop(self) -> None:
        """Killed, master and workers at once (they are a process group of their own): a graceful stop
        costs each of them about a second of CPU tearing its interpreter down (3 s a server, measured),
        which a throwaway copy of the demo has no use for, and nothing of a test runs after it."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # gone meanwhile
            self.process.wait(timeout=10)
        self.log.close()

    def count(self, table: str) -> int:
        import sqlite3
        with sqlite3.connect(self.db) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - test tables
