"""Sign-in, sign-out and the admin's user pages."""
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from inspect_app.accounts import bp
from inspect_app.accounts.access import can_reveal, roles_required
from inspect_app.accounts.auth import device_cookie, remember_device, start_browser_session
from inspect_app.accounts.forms import (AccountForm, ChangePasswordForm, ContactForm, EditUserForm, RevealForm,
                                        SignInForm, UserForm)
from inspect_app.accounts.models import AccountError, AuthSession, Role, SessionKind, User
from inspect_app.accounts.services import (MIN_PASSWORD, AccountChange, NewAccount, SignInThrottled, authenticate,
                                           change_own_contact, change_own_password, create_account, reset_password,
                                           reveal, throttled_message, update_account)
from inspect_app.errors import refuse
from inspect_app.extensions import db
from inspect_app.htmx import is_htmx
from inspect_app.schools.models import School


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a crafted link must not bounce a signed-in user elsewhere."""
    # Control characters (CR/LF would split the Location header) and backslashes (browsers read
    # "/\\host" as "//host") never belong in one of our paths.
    if target and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("core.home")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Staff sign-in; failures are throttled per (account, client) (accounts/throttle.py)."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            result = authenticate(form.username.data, form.password.data,
                                  request.remote_addr or "", device_cookie(), SessionKind.WEB)
        except SignInThrottled as throttled:
            refuse(429, throttled_message(throttled), Retry_After=str(throttled.retry_after_s))
        db.session.commit()
        if result.user is not None:
            start_browser_session(result.user)
            return remember_device(redirect(_safe_next(request.args.get("next"))), result.user.username)
        form.password.errors.append(_("Wrong username or password, or the account is disabled."))
    return render_template("accounts/sign_in.html", form=form), 200 if not form.errors else 422


@bp.post("/sign-out")
@login_required
def sign_out():
    """End this browser's session on the server, so a copied cookie stops working too; with
    everywhere=1 end every session and API token of the user (a lost phone, a shared computer)."""
    if request.form.get("everywhere") == "1":
        AuthSession.revoke_all_for(current_user)
        message = _("You have signed out on every device; the app's tokens no longer work either.")
    else:
        if current_user.auth_session is not None:
            current_user.auth_session.revoke()
        message = _("You have signed out.")
    db.session.commit()
    logout_user()
    flash(message, "success")
    return redirect(url_for("accounts.sign_in"))


@bp.get("/users")
@roles_required(Role.ADMIN)
def list_users():
    """All accounts, for the admin."""
    role = request.args.get("role")
    query = sa.select(User).options(so.joinedload(User.school)).order_by(User.role, User.username)
    if role in {r.value for r in Role}:
        query = query.where(User.role == role)
    users = db.session.scalars(query).all()
    return render_template("accounts/users.html", users=users, roles=list(Role), role=role)


def _schools() -> list[School]:
    return db.session.scalars(sa.select(School).order_by(School.district, School.name)).all()


def _account_fields(form: AccountForm) -> dict:
    """The form's answers in the services' terms; children's schools count for a volunteer only (the
    form shows the list to every role), a school is refused for anyone but a duty officer."""
    role = Role(form.role.data)
    return dict(display_name=form.display_name.data, role=role, school_id=form.school_id.data or None,
                pseudonym=form.pseudonym.data, manages_volunteers=bool(form.manages_volunteers.data),
                child_school_ids=tuple(form.child_school_ids.data or ()) if role is Role.VOLUNTEER else (),
                email=form.email.data, phone=form.phone.data)


def _under_field(form, error: AccountError) -> None:
    """A refusal goes under the field it is about, with what was typed kept."""
    target = getattr(form, error.field or "", None) or form.display_name
    target.errors = [*target.errors, error.message]


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create_user():
    """Create an account; a duty officer is bound to one school; the owner changes the password at first sign-in."""
    form = UserForm(schools=_schools())
    if form.validate_on_submit():
        try:
            user = create_account(NewAccount(username=form.username.data, password=form.password.data,
                                             **_account_fields(form)))
        except AccountError as error:
            _under_field(form, error)
        else:
            db.session.commit()
            flash(_("Account %(name)s created. Give them the password: they choose their own at first sign-in.",
                    name=user.username), "success")
            return redirect(url_for("accounts.list_users"))
    status = 422 if form.errors else 200
    return render_template("accounts/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_user(user_id: int):
    """Change an account's name, role, school, contact and children's schools under the account rules."""
    user = db.session.get(User, user_id) or abort(404)
    form = EditUserForm(schools=_schools(), obj=user if request.method == "GET" else None,
                        data={"child_school_ids": [s.id for s in user.child_schools],
                              "school_id": user.school_id or 0, "role": user.role.value}
                        if request.method == "GET" else None)
    if request.method == "GET" and user.role is Role.VOLUNTEER:
        form.display_name.data = ""  # sealed: shown only by a logged reveal, kept when left blank
    if form.validate_on_submit():
        try:
            update_account(user, AccountChange(**_account_fields(form)), by=current_user)
        except AccountError as error:
            db.session.rollback()
            _under_field(form, error)
        else:
            db.session.commit()
            flash(_("Account %(name)s saved.", name=user.username), "success")
            return redirect(url_for("accounts.list_users"))
    status = 422 if form.errors else 200
    return render_template("accounts/user_form.html", form=form, user=user), status


@bp.post("/users/<int:user_id>/reset-password")
@roles_required(Role.ADMIN)
def reset_user_password(user_id: int):
    """A temporary password, shown once to the admin; the account's sessions end and its owner must
    choose a new password at the next sign-in."""
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        refuse(409, _("Change your own password on “My password”."))
    temporary = reset_password(user)
    db.session.commit()
    # Rendered, never flashed: a flash message would sit in the session cookie.
    response = make_response(render_template("accounts/reset_done.html", user=user, temporary=temporary))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Every user changes their own password here (and must, after an admin created or reset it)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            change_own_password(current_user, form.current.data, form.new.data)
        except AccountError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Your password is changed. Your other devices must sign in again."), "success")
            return redirect(url_for("core.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/password.html", form=form, forced=current_user.must_change_password,
                           min_password=MIN_PASSWORD), status


@bp.route("/me", methods=["GET", "POST"])
@login_required
def show_account():
    """The user's own account: who they are here, and the e-mail and phone notices reach them at."""
    volunteer = current_user.role is Role.VOLUNTEER
    form = ContactForm(obj=current_user if request.method == "GET" and not volunteer else None)
    if request.method == "POST" and volunteer:
        change_own_contact(current_user, None, None)  # refused (403): the form is not theirs to send
    if form.validate_on_submit():
        try:
            change_own_contact(current_user, form.email.data, form.phone.data)
        except AccountError as error:
            db.session.rollback()
            _under_field(form, error)
        else:
            db.session.commit()
            flash(_("Your contact details are saved."), "success")
            return redirect(url_for("accounts.show_account"))
    status = 422 if form.errors else 200
    return render_template("accounts/me.html", form=form, volunteer=volunteer), status


def _change_active(user_id: int, enable: bool):
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        refuse(409, _("You cannot disable your own account."))
    user.enable() if enable else user.disable()
    db.session.commit()
    if is_htmx():
        return render_template("accounts/_user_row.html", user=user)
    flash(_("Account %(name)s enabled.", name=user.username) if enable
          else _("Account %(name)s disabled; its sessions have ended.", name=user.username), "success")
    return redirect(url_for("accounts.list_users"))


@bp.post("/users/<int:user_id>/disable")
@roles_required(Role.ADMIN)
def disable_user(user_id: int):
    """Disable an account: its sessions and API tokens end at once."""
    return _change_active(user_id, enable=False)


@bp.post("/users/<int:user_id>/enable")
@roles_required(Role.ADMIN)
def enable_user(user_id: int):
    """Enable a disabled account again (it signs in afresh)."""
    return _change_active(user_id, enable=True)


@bp.post("/users/<int:user_id>/clear-sign-in-failures")
@roles_required(Role.ADMIN)
def clear_signin_failures(user_id: int):
    """Let a locked-out user sign in again at once; the clearing is kept in the audit trail."""
    user = db.session.get(User, user_id) or abort(404)
    user.clear_signin_failures()
    db.session.commit()
    if is_htmx():
        return render_template("accounts/_user_row.html", user=user)
    flash(_("Failed sign-ins of %(name)s cleared: they can sign in again now.", name=user.username),
          "success")
    return redirect(url_for("accounts.list_users"))


@bp.route("/users/<int:user_id>/reveal", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def reveal_identity(user_id: int):
    """The programme coordinator (an admin with manages_volunteers) opens one volunteer's sealed real
    name and phone, with a written reason; the reveal is recorded (and chained) before it is shown."""
    if not can_reveal(current_user):
        abort(403)
    volunteer = db.session.get(User, user_id)
    if volunteer is None or volunteer.role is not Role.VOLUNTEER:
        abort(404)
    form = RevealForm()
    revealed, shown = None, False
    if form.validate_on_submit():
        revealed, shown = reveal(volunteer, current_user, form.reason.data), True
        db.session.commit()
    status = 422 if form.errors else 200
    response = make_response(render_template("accounts/reveal.html", volunteer=volunteer, form=form,
                                             revealed=revealed, shown=shown), status)
    # Never kept by a browser or proxy cache: the name is for this one look.
    response.headers["Cache-Control"] = "no-store"
    return response
