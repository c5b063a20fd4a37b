"""Real receivers on loopback for the notices that leave the app: an SMTP server (aiosmtpd) and an
HTTP server standing in for a DingTalk or WeCom robot, which checks the body and (DingTalk) the
signature the way the vendors describe them, and answers as they do."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """aiosmtpd's handler: keeps every message it accepts, parsed."""

    def __init__(self):
        self.messages = []
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"


class SmtpServer:
    """An SMTP server that can be started late on a port chosen early (to show a dead server first)."""

    def __init__(self, port: int):
        self.port, self.inbox, self.controller = port, Inbox(), None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    """An SMTP server's address; `.start()` it (a test may first show what happens while it is down)."""
    server = SmtpServer(free_port())
    yield server
    server.stop()


@pytest.fixture
def mail_to(app, monkeypatch):
    """Turn e-mail on, sending to `server`."""
    def configure(server: SmtpServer) -> None:
        monkeypatch.setitem(app.config, "SMTP_URL", server.url)
        monkeypatch.setitem(app.config, "MAIL_FROM", "督查 <notices@bureau.example>")
    return configure


class Robot:
    """A group robot's webhook: records each POST and answers {"errcode": 0, "errmsg": "ok"} when the
    body is a text message and, with a secret, the signature matches; else an errcode as the vendor would."""

    def __init__(self, secret: str | None = None):
        self.secret, self.posts = secret, []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = urlsplit(self.path)
                post = {"path": parts.path, "raw_query": parts.query, "query": parse_qs(parts.query),
                        "content_type": self.headers.get("Content-Type"), "body": json.loads(raw)}
                robot.posts.append(post)
                answer = robot.verdict(post)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def verdict(self, post: dict) -> dict:
        body = post["body"]
        if body.get("msgtype") != "text" or not isinstance(body.get("text", {}).get("content"), str):
            return {"errcode": 40008, "errmsg": "invalid message type"}
        if self.secret is not None:
            timestamp = post["query"].get("timestamp", [""])[0]
            sign = post["query"].get("sign", [""])[0]
            expected = base64.b64encode(hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
            if not timestamp.isdigit() or not hmac.compare_digest(sign, expected):
                return {"errcode": 310000, "errmsg": "sign not match"}
        return {"errcode": 0, "errmsg": "ok"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def make_robot():
    robots = []

    def make(secret: str | None = None) -> Robot:
        robots.append(Robot(secret))
        return robots[-1]
    yield make
    for robot in robots:
        robot.close()


@pytest.fixture(scope="session")
def loopback_certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (cert and key files), for an SMTP server with STARTTLS."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def submission_server(loopback_certificate):
    """A mail submission server as a bureau runs one: STARTTLS required, then a password (user/secret)."""
    import ssl

    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = loopback_certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, data):
        logins.append(mechanism)
        ok = isinstance(data, LoginPassword) and \
            (data.login, data.password) == (b"notices@bureau.example", b"p@ss:w0rd")
        return AuthResult(success=ok)

    server = SmtpServer(free_port())
    server.logins = logins
    server.controller = Controller(server.inbox, hostname="127.0.0.1", port=server.port, tls_context=context,
                                   require_starttls=True, auth_required=True, authenticator=authenticator)
    server.controller.start()
    yield server
    server.stop()
