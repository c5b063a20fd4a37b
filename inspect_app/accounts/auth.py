"""How a request becomes a user: a browser's session key or an API bearer token."""
from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user

from inspect_app.accounts.models import PasswordChangeRequired, SessionKind
from inspect_app.accounts.services import load_session_user
from inspect_app.accounts.throttle import DEVICE_COOKIE, remembered_device_cookie
from inspect_app.errors import api_error, wants_json


# What a user who must change their password can still reach: the form itself, signing out, and what
# every page loads (files, the language switch, the service worker and manifest, the health check).
PASSWORD_CHANGE_OPEN = frozenset({
    "assets.serve_asset", "accounts.change_password", "accounts.sign_out", "accounts.sign_in", "core.set_language",
    "core.service_worker", "core.manifest", "core.favicon", "core.healthz", "core.offline", "api.renew_csrf",
})


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def start_browser_session(user) -> None:
    """Sign the browser in with a fresh CSRF secret: a token read or planted before sign-in
    (a shared computer, a fixation attack) is worth nothing afterwards."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field, None)
    g.pop(field, None)
    login_user(user)


def device_cookie() -> str | None:
    return request.cookies.get(DEVICE_COOKIE)


def remember_device(response, username: str):
    """Recognise this browser for the account from now on: its sign-ins no longer share the
    account's limit with strangers (accounts/throttle.py)."""
    response.set_cookie(DEVICE_COOKIE, remembered_device_cookie(device_cookie(), username),
                        max_age=int(current_app.config["SIGNIN_DEVICE_LIFETIME"].total_seconds()),
                        httponly=True, samesite="Lax",
                        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]) or request.is_secure)
    return response


def init_app(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    # "basic": phones change networks all day; the session key itself is what we revoke.
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_browser_user(session_key: str):
        if bearer_token():
            # A request that names a token is judged by that token alone, never by a cookie.
            return None
        return load_session_user(session_key, SessionKind.WEB)

    @login_manager.request_loader
    def load_bearer_user(_request):
        token = bearer_token()
        return load_session_user(token, SessionKind.API) if token else None

    @app.before_request
    def password_change_first():
        """Someone else chose this account's password (a new account, an admin's reset): until its owner
        picks their own, the web shows only the change form and the API answers 403 with a code that
        tells the phone to send its user to the web."""
        if request.endpoint in PASSWORD_CHANGE_OPEN or request.endpoint is None:
            return None
        user = current_user
        if not (user.is_authenticated and user.must_change_password):
            return None
        if bearer_token() or wants_json():
            raise PasswordChangeRequired()
        return redirect(url_for("accounts.change_password"))

    @login_manager.unauthorized_handler
    def unauthorized():
        # A program that sent a token (revoked, expired or wrong) is told so, on pages and
        # downloads too: a redirect to a sign-in form means nothing to it.
        if bearer_token():
            return api_error(401, **{"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if wants_json():
            return api_error(401)
        return redirect(url_for("accounts.sign_in", next=request.full_path.rstrip("?")))
