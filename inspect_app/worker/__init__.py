"""Scheduled work: escalation, reminders and retention, run by `flask worker` (APScheduler) beside
gunicorn instead of from cron. See jobs.py for what runs when, scheduler.py for why APScheduler."""
from flask import Flask


def init_app(app: Flask) -> None:
    from inspect_app.worker import cli, models  # noqa: F401  (the models join the app's metadata)
    app.cli.add_command(cli.worker_command)
