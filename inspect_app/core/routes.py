import hashlib
import json

import sqlalchemy as sa
from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField

from inspect_app.accounts.models import (ASSIGNEE_ROLES, BUREAU_ROLES, FIELD_ROLES, NOTIFIED_ROLES, STAFF_ROLES,
                                         VISITOR_ROLES, Role)
from inspect_app.core import bp
from inspect_app.dbtypes import utcnow
from inspect_app.extensions import db
from inspect_app.i18n import LANG_COOKIE
from inspect_app.schools.access import visible_schools


# Kept by the service worker at install, for everyone: what every page needs to render offline.
PRECACHE = ["css/app.css", "js/app.js", "img/icon.svg", "img/icon-192.png"]
# Kept once someone signs in (a signed-in page tells the worker): a visit's scripts and the photo
# resizer, so a checklist works with no signal. A parent who scans a poster never downloads them.
# Not htmx: the two pages using it (the school search, the account list) need the server anyway,
# and it is kept when first used (fingerprinted files are cached on the way).
PRECACHE_SIGNED_IN = ["js/photos.js", "js/visit.js", "vendor/idb-keyval.js", "vendor/browser-image-compression.js",
                      "img/notes.svg", "img/notes-192.png"]


class LanguageForm(FlaskForm):
    lang = HiddenField()
    next = HiddenField()


@bp.app_context_processor
def shell_context():
    # No form objects here: one built for every page read the request it was rendered for, and an
    # upload past the size limit turned its clear 413 page into a bare "Internal Server Error".
    return {"languages": current_app.config["LANGUAGES"], "Role": Role, "BUREAU_ROLES": BUREAU_ROLES,
            "FIELD_ROLES": FIELD_ROLES, "VISITOR_ROLES": VISITOR_ROLES, "NOTIFIED_ROLES": NOTIFIED_ROLES,
            "STAFF_ROLES": STAFF_ROLES, "disguised": disguised()}


def disguised() -> bool:
    """A volunteer's phone is seen by the people around the school gate: their screens wear a
    neutral note-taking app's name, icon and words. The volunteer knows what the app is; nothing on
    screen lies to them, it only says less."""
    return current_user.is_authenticated and current_user.role is Role.VOLUNTEER


@bp.get("/")
@login_required
def home():
    """The start page for the signed-in role."""
    if current_user.role is Role.DUTY_OFFICER:
        # The day's report is the officer's first screen until it is filed (UX.md).
        from inspect_app.duties.services import filed_today
        if not filed_today(current_user.school_id):
            return redirect(url_for("duties.show_report"))
        return redirect(url_for("schools.show_school", school_id=current_user.school_id))
    if current_user.role is Role.LEADER:
        # A leader watches coverage and signs the day's report; they rarely scan a poster themselves.
        return redirect(url_for("reports.show_dashboard"))
    school_count = db.session.scalar(sa.select(sa.func.count()).select_from(
        visible_schools(current_user).subquery()))
    from inspect_app.plans.present import task_view
    from inspect_app.plans.services import open_tasks
    now = utcnow()
    tasks = [task_view(t, current_user, now) for t in open_tasks(current_user)] \
        if current_user.role in ASSIGNEE_ROLES else []
    return render_template("core/home.html", school_count=school_count, tasks=tasks)


@bp.post("/language")
def set_language():
    """Remember the chosen language in a cookie (no account needed: the public pages use it too)."""
    form = LanguageForm()
    target = url_for("core.home")
    if form.validate_on_submit():
        nxt = form.next.data or ""
        if nxt.startswith("/") and not nxt.startswith("//"):
            target = nxt
    response = redirect(target)
    if form.lang.data in current_app.config["LANGUAGES"]:
        response.set_cookie(LANG_COOKIE, form.lang.data, max_age=365 * 24 * 3600,
                            samesite="Lax", httponly=True, secure=request.is_secure)
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """What makes the app installable to the home screen; ?app=notes is the volunteers' neutral one.

    Chosen by the URL the page links, never by who asks: the same URL gives everyone the same bytes."""
    from inspect_app.assets import asset_url
    notes = request.args.get("app") == "notes"
    name = _("Notes") if notes else _("SafeCampus Inspect")
    icon = "notes" if notes else "icon"
    data = {
        "name": name, "short_name": name,
        "lang": "zh-CN", "start_url": url_for("core.home"), "scope": "/", "display": "standalone",
        "background_color": "#f3f5f8", "theme_color": "#0b5cad",
        "icons": [{"src": asset_url(f"img/{icon}-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png",
                   "purpose": "any maskable"} for n in (192, 512)],
    }
    response = current_app.response_class(json.dumps(data, ensure_ascii=False),
                                          mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/sw.js")
def service_worker():
    """The service worker, at the root so it controls every page; never cached by the browser."""
    from inspect_app.assets import asset_url
    precache = [asset_url(name) for name in PRECACHE]
    signed_in = [asset_url(name) for name in PRECACHE_SIGNED_IN]
    body = render_template("core/sw.js", precache=precache, precache_signed_in=signed_in,
                           offline_url=url_for("core.offline"),
                           version=hashlib.sha256("".join(precache + signed_in).encode()).hexdigest()[:12])
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/scan")
def scan():
    """The in-app QR scanner, for phones whose camera app does not open links."""
    return render_template("core/scan.html")


@bp.get("/offline")
def offline():
    """Shown by the service worker for a page that was never loaded while online."""
    return render_template("core/offline.html")


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says; answer with the app's icon."""
    from inspect_app.assets import asset_url
    return redirect(asset_url("img/icon.svg"), code=301)


@bp.get("/healthz")
def healthz():
    """200 when the app and its database answer; 503 otherwise."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        current_app.logger.exception("health check: database unreachable")
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok")
