"""Security headers on every response, and a session cookie that is Secure over HTTPS."""
import time

from flask import Flask, current_app, g, request
from flask.sessions import SecureCookieSessionInterface

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    # The photo resizer runs in a worker made from a blob URL that imports our own copy of it.
    "worker-src 'self' blob:",
    "manifest-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


# Answers a browser fetches on its own, in the background (the service worker, what it precaches, the
# manifest, the icon, health checks): they never write the session cookie. Such a request can leave
# before a sign-in and come back after it, carrying the signed-out session (Flask-Login marks even an
# anonymous session, and any page rendered loads the user), and the browser would take the older
# cookie and be signed out again.
BACKGROUND_ENDPOINTS = frozenset({"core.service_worker", "core.offline", "core.manifest", "core.favicon",
                                  "core.healthz", "assets.serve_asset"})


class SessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        # Behind TLS (directly or via a trusted proxy) the cookie never travels in clear text.
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def save_session(self, app: Flask, session, response) -> None:
        if request.endpoint in BACKGROUND_ENDPOINTS:
            return
        super().save_session(app, session, response)


def start_timer():
    g.request_started = time.perf_counter()


def _csp() -> str:
    tiles = current_app.config.get("MAP_TILE_URL")
    if not tiles:
        return CSP
    # The configured tile server is the one outside origin a page may load images from.
    origin = "/".join(tiles.split("/")[:3])
    return CSP.replace("img-src 'self' data: blob:", f"img-src 'self' data: blob: {origin}")


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _csp())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # QR tokens sit in URLs: never hand them to another site through the Referer header.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if "request_started" in g:
        # Server-Timing lets benchmarks (and browser dev tools) see time spent in the app itself.
        headers["Server-Timing"] = f"app;dur={(time.perf_counter() - g.request_started) * 1000:.1f}"
    if response.mimetype == "text/html":
        # One URL serves a page and (for htmx) a fragment: caches must keep them apart.
        response.vary.add("HX-Request")
    if "Cache-Control" not in headers:
        # Pages and API answers are personal: never kept by a shared cache.
        headers["Cache-Control"] = "no-store" if request.blueprint == "api" else "private, no-cache"
    return response


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.before_request(start_timer)
    app.after_request(set_security_headers)
