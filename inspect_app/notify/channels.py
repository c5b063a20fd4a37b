"""The ways a notice leaves the app, each optional and read from the environment: e-mail over SMTP,
and a work-messaging group robot (DingTalk 钉钉, WeCom 企业微信) posting to one configured group.

Settings are checked when the app starts (`check`), so a mistyped SMTP_URL stops it there rather than
failing every delivery an hour later. Each sender reports a failure as a `DeliveryError` (or, for
e-mail, a message per row) and never raises past `deliver_due`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from inspect_app.documents import header_text
from inspect_app.notify.models import Channel, Delivery

TIMEOUT_S = 10  # per connection: a hung server costs one run this long, never the step that made the notice
# A robot takes 20 messages a minute (both vendors' documented limit); deliver_due runs every minute.
GROUP_POSTS_PER_RUN = 15
# WeCom cuts a text message at 2,048 bytes; DingTalk allows more. Kept under both, with room for the link.
GROUP_TEXT_MAX_BYTES = 1800


class DeliveryError(Exception):
    """A channel refused or could not take a message; the text says why (never a secret or a URL)."""


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool  # upgrade a plain connection (submission on 587)
    ssl: bool  # TLS from the first byte (smtps, 465)
    sender: str


def smtp_settings(config: Mapping) -> Smtp | None:
    """SMTP_URL (smtp://user:password@host:587?starttls=1, smtps://user:password@host) or SMTP_HOST with
    SMTP_PORT/SMTP_USER/SMTP_PASSWORD/SMTP_STARTTLS; None when neither is set (e-mail is off)."""
    url, host = config.get("SMTP_URL"), config.get("SMTP_HOST")
    starttls = bool(config.get("SMTP_STARTTLS"))
    if url:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname or port == -1:
            raise RuntimeError("SMTP_URL must look like smtp://user:password@host:587?starttls=1 or "
                               "smtps://user:password@host:465")
        use_ssl = parts.scheme == "smtps"
        starttls = starttls or _truthy(parse_qs(parts.query).get("starttls", [""])[0])
        host, user = parts.hostname, unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
    elif host:
        use_ssl, port = False, config.get("SMTP_PORT")
        if port is not None and not str(port).isdigit():
            raise RuntimeError(f"SMTP_PORT must be a port number, not {port!r}")
        port = int(port) if port is not None else None
        user, password = config.get("SMTP_USER") or None, config.get("SMTP_PASSWORD") or None
    else:
        return None
    if use_ssl and starttls:
        raise RuntimeError("SMTP: choose smtps:// (TLS from the start) or STARTTLS, not both")
    sender = config.get("MAIL_FROM")
    if not sender or "@" not in sender:
        raise RuntimeError("MAIL_FROM must be set to the address notices are sent from when SMTP is configured")
    return Smtp(host=host, port=port or (465 if use_ssl else 587 if starttls else 25), user=user,
                password=password, starttls=starttls, ssl=use_ssl, sender=sender)


def configured(config: Mapping) -> frozenset[Channel]:
    """The channels this deployment has turned on."""
    on = set()
    if smtp_settings(config) is not None:
        on.add(Channel.EMAIL)
    if config.get("DINGTALK_WEBHOOK_URL"):
        on.add(Channel.DINGTALK)
    if config.get("WECOM_WEBHOOK_URL"):
        on.add(Channel.WECOM)
    return frozenset(on)


def check(config: Mapping) -> None:
    """Refuse to start on a setting that could never deliver (a RuntimeError naming it)."""
    smtp_settings(config)
    for name in ("DINGTALK_WEBHOOK_URL", "WECOM_WEBHOOK_URL"):
        url = config.get(name)
        if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
            raise RuntimeError(f"{name} must be the robot's webhook address (https://…)")
    if config.get("DINGTALK_SECRET") and not config.get("DINGTALK_WEBHOOK_URL"):
        raise RuntimeError("DINGTALK_SECRET is set without DINGTALK_WEBHOOK_URL")


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _connect(smtp: Smtp) -> smtplib.SMTP:
    # smtplib verifies no certificate unless handed a context: a default one checks the name and chain.
    context = ssl.create_default_context()
    if smtp.ssl:
        server = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=TIMEOUT_S, context=context)
    else:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_S)
        if smtp.starttls:
            server.starttls(context=context)
    if smtp.user:
        server.login(smtp.user, smtp.password or "")
    return server


def _message(smtp: Smtp, row: Delivery) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = header_text(row.subject)  # a line break typed into a school's name adds no header
    message["From"] = smtp.sender
    message["To"] = row.address
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rsplit("@", 1)[1])
    message.set_content(row.body)
    return message


def send_mails(smtp: Smtp, rows: Sequence[Delivery]) -> dict[int, str | None]:
    """Send each row over one connection; per row id, None when the server took it, else why not.
    A refused recipient fails only its own row; a lost connection fails the rest of this run's."""
    try:
        server = _connect(smtp)
    except (OSError, smtplib.SMTPException) as error:
        return {row.id: _describe(error) for row in rows}
    results: dict[int, str | None] = {}
    try:
        for row in rows:
            try:
                server.send_message(_message(smtp, row))
                results[row.id] = None
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
                results[row.id] = _describe(error)
            except (OSError, smtplib.SMTPException) as error:
                for rest in rows:
                    results.setdefault(rest.id, _describe(error))
                break
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()
    return results


def dingtalk_signed(url: str, secret: str | None, timestamp_ms: int | None = None) -> str:
    """The robot's address with DingTalk's 加签 appended: `timestamp` (ms) and `sign` =
    base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded. Without a secret (a robot
    secured by keyword or IP list) the address as configured."""
    if not secret:
        return url
    timestamp = str(timestamp_ms if timestamp_ms is not None else round(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    query = urlencode({"timestamp": timestamp, "sign": base64.b64encode(digest).decode()})
    return f"{url}{'&' if urlsplit(url).query else '?'}{query}"


def _cut(text: str, limit: int = GROUP_TEXT_MAX_BYTES) -> str:
    data = text.encode()
    return text if len(data) <= limit else data[:limit - 3].decode(errors="ignore") + "…"


def post_group(channel: Channel, config: Mapping, text: str) -> None:
    """Post `text` to the configured group as a text message; a DeliveryError unless it answers errcode 0.
    DingTalk and WeCom take the same body ({"msgtype": "text", "text": {"content": …}}); DingTalk's
    address carries the signature when the robot has a secret."""
    if channel is Channel.DINGTALK:
        # Signed at each attempt: DingTalk refuses a timestamp more than an hour old.
        url = dingtalk_signed(config["DINGTALK_WEBHOOK_URL"], config.get("DINGTALK_SECRET"))
    else:
        url = config["WECOM_WEBHOOK_URL"]
    body = json.dumps({"msgtype": "text", "text": {"content": _cut(text)}}, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 (configured https URL)
            answer = response.read(65536)
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"HTTP {error.code}") from None
    except (OSError, ValueError) as error:  # URLError is an OSError; the URL (with its key) is never logged
        raise DeliveryError(_describe(getattr(error, "reason", error))) from None
    try:
        reply = json.loads(answer)
    except ValueError:
        raise DeliveryError("the robot did not answer JSON") from None
    # Both answer HTTP 200 with {"errcode": 0, "errmsg": "ok"}; a bad signature, a missing keyword or
    # the rate limit come back as a non-zero errcode.
    if not isinstance(reply, dict) or reply.get("errcode") != 0:
        code = reply.get("errcode") if isinstance(reply, dict) else None
        message = reply.get("errmsg") if isinstance(reply, dict) else None
        raise DeliveryError(f"errcode {code}: {str(message)[:200]}")
