"""Errors in the user's language: JSON for the API, a page (or fragment) for people."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from inspect_app.extensions import db
from inspect_app.htmx import is_htmx

# Machine codes for the API, by status.
CODES = {
    400: "bad_request", 401: "not_signed_in", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "too_large",
    415: "unsupported_media_type", 422: "invalid", 429: "rate_limited", 500: "server_error",
    503: "unavailable",
}


def messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Please check what you sent and try again."),
        401: _("Please sign in first."),
        403: _("You do not have permission to do this."),
        404: _("This page or item does not exist, or you cannot see it."),
        405: _("This action is not allowed here."),
        409: _("Someone changed this at the same time. Please reload and try again."),
        410: _("This is no longer available."),
        413: _("The upload is too large."),
        415: _("This type of file is not supported."),
        422: _("Some of what you sent is not valid."),
        429: _("Too many attempts. Please wait a while and try again."),
        500: _("Something went wrong on our side. Please try again; nothing you sent was lost."),
        503: _("The service is unavailable for a moment. Please try again in a few minutes."),
    }


def wants_json() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def api_error(status: int, code: str | None = None, message: str | None = None, **headers):
    """The error shape every API client relies on."""
    body = {"error": {"code": code or CODES.get(status, "error"),
                      "message": message or messages().get(status, "")}}
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers)
    return response


class Refusal(HTTPException):
    """An HTTP error whose message was chosen for the user (and optional headers, e.g. Retry-After)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(description=message)
        self.code = status
        self.extra_headers = headers or {}


class DomainError(Exception):
    """A rule of the domain refused what was asked: the HTTP status, the API's machine code, a message
    for the user and, for forms, the field it belongs under. One handler (below) answers it as JSON for
    the API and as a page for people, so views need no try/except merely to translate it."""

    status = 422
    code: str | None = None
    headers: dict[str, str] = {}  # e.g. Retry-After on a 503

    def __init__(self, message: str, status: int | None = None, field: str | None = None, *,
                 code: str | None = None):
        super().__init__(message)
        self._message, self.field = message, field
        self.status = status or self.status
        self.code = code or self.code or CODES.get(self.status, "error")

    @property
    def message(self) -> str:
        return str(self._message)


def handle_domain_error(error: DomainError):
    # What the refused step half-wrote must not reach the next commit (or the error page's reads).
    db.session.rollback()
    if wants_json():
        return api_error(error.status, error.code, error.message, **error.headers)
    response = error_page(error.status, error.message)
    response.headers.update(error.headers)
    return response


def refuse(status: int, message: str, **headers: str):
    raise Refusal(status, message, {k.replace("_", "-"): v for k, v in headers.items()})


def error_page(status: int, message: str | None = None):
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    message = message or messages().get(status, "")
    try:
        body = render_template(template, status=status, message=message)
    except Exception:  # noqa: BLE001 - the page around the message failed too: still answer in words
        # Without this, Flask answers a failing error handler with its own English "Internal Server
        # Error". The plain page needs no database, no session and no user.
        current_app.logger.exception("error page failed; answering with the plain one")
        # Straight from the template, skipping the context processors (they read the user).
        body = current_app.jinja_env.get_template("errors/plain.html").render(
            status=status, message=message, current_locale=str(get_locale()))
    return make_response(body, status)


def handle_http_error(error: HTTPException):
    status = error.code or 500
    message = error.description if isinstance(error, Refusal) else None
    if isinstance(error, CSRFError):
        message = _("This form has expired. Please reload the page and try again.")
    response = api_error(status, message=message) if wants_json() else error_page(status, message)
    # Werkzeug's own headers, e.g. Allow on a 405 (RFC 9110 requires it); our body replaces its HTML.
    response.headers.update({k: v for k, v in error.get_headers() if k.lower() != "content-type"})
    response.headers.update(getattr(error, "extra_headers", {}))
    return response


def handle_unexpected(error: Exception):
    current_app.logger.exception("unhandled error")
    # A failed statement leaves the session unusable; the error page reads the database (the
    # notices badge), so start it afresh rather than fail a second time.
    db.session.rollback()
    return handle_http_error(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DomainError, handle_domain_error)
    if not app.testing:
        # In tests an unexpected exception should fail loudly instead of becoming a page.
        app.register_error_handler(Exception, handle_unexpected)
