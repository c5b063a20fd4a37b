"""Notices that leave the app: e-mail over SMTP and DingTalk / WeCom group robots, each optional.

The in-app inbox (tickets.models.Notification) is the record and always works. Its notices are copied
into an outbox (notify.models.Delivery) in the same transaction, and `deliver_due(now)` sends what is
due after commit: the scheduler calls it every minute, `flask notify send` runs it by hand. See
docs/deploy.md, "Notifications".
"""
from flask import Flask


def init_app(app: Flask) -> None:
    """Check the channels' settings at start and hook the outbox onto the session."""
    from inspect_app.notify import channels, outbox
    channels.check(app.config)
    hours, _, minutes = (app.config.get("NOTIFY_SCHOOL_AT") or "").partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise RuntimeError("NOTIFY_SCHOOL_AT must be a time of day like 07:30, "
                           f"not {app.config.get('NOTIFY_SCHOOL_AT')!r}")
    outbox.install()


def deliver_due(now=None, limit: int = 200) -> dict[str, int]:
    """Send the outbox's due deliveries (see notify.outbox.deliver_due)."""
    from inspect_app.notify.outbox import deliver_due as run
    return run(now, limit)
