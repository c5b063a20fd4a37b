"""`flask worker`: the scheduler process `make run` starts beside gunicorn."""
from __future__ import annotations

import logging
import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@with_appcontext
def worker_command() -> None:
    """Run escalation, reminders and retention on schedule (Ctrl-C or SIGTERM stops it)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from inspect_app.worker.scheduler import configure, install_jobs
    app = current_app._get_current_object()
    # Each run's line ("job escalate for 2026-11-26T10:15: 3 escalation steps, …") on stderr, beside
    # gunicorn's log under `make run`, and in the journal under systemd.
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [worker] %(levelname)s %(name)s: %(message)s")
    scheduler = BackgroundScheduler()
    configure(scheduler, app)
    # Paused while the stored jobs are brought in line, so nothing fires half-installed.
    scheduler.start(paused=True)
    install_jobs(scheduler)
    scheduler.resume()
    for job in scheduler.get_jobs():
        click.echo(f"{job.id}: next run {job.next_run_time:%Y-%m-%d %H:%M %Z}")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    scheduler.shutdown(wait=True)
    click.echo("worker stopped")
