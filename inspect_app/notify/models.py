"""The outbox: each notice that leaves the app, recorded with the notice and sent after commit."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from inspect_app.dbtypes import LabelledEnum, UTCDateTime, enum_column, utcnow
from inspect_app.extensions import db
from inspect_app.tickets.models import Notification


class Channel(LabelledEnum):
    EMAIL = "email", _l("E-mail")
    DINGTALK = "dingtalk", _l("DingTalk group")
    WECOM = "wecom", _l("WeCom group")


class DeliveryStatus(LabelledEnum):
    PENDING = "pending", _l("Waiting to be sent")
    SENT = "sent", _l("Sent")
    FAILED = "failed", _l("Given up")  # every attempt failed; the in-app notice still stands


class Delivery(db.Model):
    """One message on one channel: an e-mail to one person, or one post to a configured group.

    Written in the transaction that writes its in-app notices (so a rolled-back step sends nothing)
    and sent by `deliver_due` after commit (so a dead mail server never holds up or undoes the step).
    The text is made when the notice is (in Chinese, for the bureau's channels): what happened then,
    not what the ticket says by the time a retry gets through."""
    __tablename__ = "notice_deliveries"
    __table_args__ = (sa.Index("ix_notice_deliveries_due", "status", "next_try_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    channel: so.Mapped[Channel] = so.mapped_column(enum_column(Channel))
    # The in-app notice this was made from (for a group post, the first of those it sums up).
    notification_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("notifications.id", ondelete="SET NULL"), index=True)
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    address: so.Mapped[str | None] = so.mapped_column(sa.String(255))  # an e-mail's; None for a group
    subject: so.Mapped[str] = so.mapped_column(sa.String(255))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    status: so.Mapped[DeliveryStatus] = so.mapped_column(enum_column(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_try_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    notification: so.Mapped[Notification | None] = so.relationship()
