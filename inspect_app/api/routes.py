"""API views: thin wrappers over the same services the pages use."""
from flask import current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from spectree import Response

from inspect_app.accounts.auth import bearer_token, device_cookie, remember_device
from inspect_app.accounts.models import BUREAU_ROLES, PasswordChangeRequired, Role, SessionKind
from inspect_app.accounts.services import SignInThrottled, authenticate, throttled_message
from inspect_app.api import bp, schemas
from inspect_app.api.openapi import api, json_body, openapi_document  # noqa: F401 - json_body: the views import it from here
from inspect_app.errors import api_error, refuse
from inspect_app.extensions import csrf, db
from inspect_app.parsing import in_url, parse_day
from inspect_app.schools.access import can_view_school, resolve_qr_token, scan_refusal, visible_schools
from inspect_app.schools.models import School
from inspect_app.schools.qr import qr_url

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Open to anyone: nothing of a signed-in session is used, so there is nothing for a forged request to ride.
PUBLIC_ENDPOINTS = {"api.issue_token", "api.openapi", "api.create_complaint", "api.register_volunteer"}

# Bearer requests carry no ambient credential, so they need no CSRF token; cookie requests do.
csrf.exempt(bp)


@bp.before_request
def protect_cookie_writes():
    # Without a signed-in cookie session there is nothing to forge: the view answers 401 itself.
    if request.method not in SAFE_METHODS and not bearer_token() \
            and request.endpoint not in PUBLIC_ENDPOINTS and current_user.is_authenticated:
        csrf.protect()


def school_json(school: School, with_qr: bool = False) -> dict:
    data = {"id": school.id, "name": school.name, "district": school.district,
            "kind": school.kind.value, "lat": school.lat, "lon": school.lon,
            "radius_m": school.radius_m}
    if with_qr:
        data["qr_url"] = qr_url(school)
    return data


@bp.post("/auth/token")
@api.validate(json=schemas.TokenRequest, security=[], resp=Response(
    HTTP_200=schemas.Token, HTTP_401=(schemas.Error, "Wrong credentials or disabled account"),
    HTTP_403=(schemas.Error, "password_change_required: the password was set by an admin; change it on the web"),
    HTTP_429=(schemas.Error, "Too many failed attempts; Retry-After says when to try again")))
def issue_token():
    """A bearer token for a username and password (throttled like the sign-in page)."""
    sent = request.context.json
    try:
        result = authenticate(sent.username, sent.password, request.remote_addr or "", device_cookie(),
                              SessionKind.API)
    except SignInThrottled as throttled:
        refuse(429, throttled_message(throttled), Retry_After=str(throttled.retry_after_s))
    db.session.commit()
    if result.user is None:
        return api_error(401, "invalid_credentials",
                         _("Wrong username or password, or the account is disabled."))
    if result.must_change_password:
        raise PasswordChangeRequired()
    expires = current_app.config["API_TOKEN_LIFETIME"]
    # The phone app keeps cookies too: recognised, its owner is not locked out by a stranger.
    return remember_device(jsonify(token=result.raw_key, token_type="Bearer",
                                   expires_in=int(expires.total_seconds())), result.user.username)


@bp.delete("/auth/token")
@login_required
@api.validate(security={"bearer": []}, resp=Response(HTTP_204=None))
def revoke_token():
    """Revoke the token this request carries (sign-out for programs and the phone)."""
    if current_user.auth_session is None or not bearer_token():
        refuse(400, _("Only a bearer token can be revoked here."))
    current_user.auth_session.revoke()
    db.session.commit()
    return "", 204


@bp.get("/me")
@login_required
@api.validate(resp=Response(HTTP_200=schemas.Me))
def show_me():
    """Who the token or session belongs to."""
    user = current_user
    return jsonify(id=user.id, username=user.username, role=user.role.value,
                   display_name=user.name_for(user), school_id=user.school_id)


@bp.get("/schools")
@login_required
@api.validate(resp=Response(HTTP_200=schemas.SchoolList))
def list_schools():
    """The schools this user may see (admins also get each poster's URL)."""
    # By id: a stable order for syncing clients (and the demo's officer has the first school).
    schools = db.session.scalars(visible_schools(current_user).order_by(School.id)).all()
    with_qr = current_user.role is Role.ADMIN
    return jsonify(schools=[school_json(s, with_qr) for s in schools])


@bp.get("/schools/lookup")
@login_required
@api.validate(query=schemas.LookupQuery, resp=Response(
    HTTP_200=schemas.School, HTTP_403=(schemas.Error, "Another school's code"),
    HTTP_404=(schemas.Error, "Unknown code"), HTTP_410=(schemas.Error, "Code replaced by a new poster")))
def lookup_school():
    """The school behind a scanned QR token; 410 when the poster was replaced."""
    school, retired = resolve_qr_token(request.context.query.qr)
    if school is None:
        refuse(404, _("This code is not one of ours."))
    if retired:
        refuse(410, _("This code was replaced by a new poster."))
    if not can_view_school(current_user, school):
        refuse(403, scan_refusal(current_user))
    return jsonify(school_json(school, current_user.role is Role.ADMIN))


@bp.get("/csrf")
@login_required
@api.validate(resp=Response(HTTP_200=schemas.CsrfToken))
def renew_csrf():
    """A fresh CSRF token for a cookie session, so a phone back from hours offline can replay."""
    from flask_wtf.csrf import generate_csrf
    return jsonify(token=generate_csrf())


@bp.get("/reports/daily/<day>")
@login_required
@api.validate(resp=Response(HTTP_200=schemas.DailyReport, HTTP_403=(schemas.Error, "Not the bureau")),
              path_parameter_descriptions={"day": "YYYY-MM-DD, 2000-2099 (else 404)"})
def daily_report(day: str):
    """The daily report's data for the window ending 16:00 (Asia/Shanghai) that day."""
    from inspect_app.reports import services as reports
    if current_user.role not in BUREAU_ROLES:
        refuse(403, _("The daily report is for the bureau."))
    the_day = in_url(parse_day, day)
    content, signed = reports.current(the_day)
    content = reports.for_viewer(content, current_user)
    content["signed"] = {"by": signed.signed_by.display_name, "at": signed.signed_at.isoformat(),
                         "content_hash": signed.content_hash} if signed else None
    return jsonify(content)


@bp.get("/openapi.json")
@api.validate(security=[], resp=Response(HTTP_200=None))
def openapi():
    """The whole API as OpenAPI 3.1, built from the models that validate it (api/schemas.py)."""
    return jsonify(openapi_document())
