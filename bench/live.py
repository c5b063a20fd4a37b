"""A throwaway instance of the app served by gunicorn on 127.0.0.1, for benchmarks."""
from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inspect_app import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def instance_env(database_url: str | None = None) -> dict:
    env = {**os.environ, "INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-"), "FLASK_APP": "wsgi"}
    env.pop("DATABASE_URL", None)
    env.setdefault("PUBLIC_BASE_URL", "http://127.0.0.1")  # required; benchmarks print no posters
    if database_url:
        env["DATABASE_URL"] = database_url
    for args in (["db", "upgrade"], ["demo"]):
        subprocess.run([sys.executable, "-m", "flask", *args], cwd=PROJECT_ROOT, env=env, check=True,
                       capture_output=True)
    return env


@contextlib.contextmanager
def serve(env: dict, workers: int):
    """Yield the base URL while gunicorn serves the instance in `env`."""
    port = free_port()
    # BENCH_SERVER_LOG=<file>: keep the server's log (a 500 under load says why there).
    log = open(os.environ["BENCH_SERVER_LOG"], "ab") if os.environ.get("BENCH_SERVER_LOG") else subprocess.DEVNULL
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(workers),
                                "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        for _ in range(200):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()
        if log is not subprocess.DEVNULL:
            log.close()


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
RESULTS = Path(__file__).resolve().parent / "results"
