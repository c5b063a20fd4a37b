from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from inspect_app.accounts.models import Role
from inspect_app.accounts.services import MAX_PASSWORD, MIN_PASSWORD


class SignInForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})


class AccountForm(FlaskForm):
    """What an admin fills in for an account, new or existing (the rules are in accounts.services)."""
    display_name = StringField(_l("Real name"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    school_id = SelectField(_l("School (duty officers only)"), coerce=int, validators=[Optional()])
    pseudonym = StringField(_l("Pseudonym (volunteers only)"), validators=[Length(max=64)])
    child_school_ids = SelectMultipleField(_l("Schools their children attend (volunteers only: never checked by them)"),
                                           coerce=int, validators=[Optional()])
    manages_volunteers = BooleanField(_l("Volunteer programme admin (may see volunteers' real names)"))
    email = StringField(_l("E-mail (optional, for notices)"), validators=[Optional(), Length(max=254)],
                        render_kw={"autocomplete": "off", "inputmode": "email", "autocapitalize": "none"})
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=32)],
                        render_kw={"autocomplete": "off", "inputmode": "tel"})

    def __init__(self, *args, schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [SelectChoice(r.value, r.label) for r in Role]
        self.school_id.choices = [SelectChoice(0, "—")] + [
            SelectChoice(s.id, f"{s.district} · {s.name}") for s in schools]
        self.child_school_ids.choices = [SelectChoice(s.id, f"{s.district} · {s.name}") for s in schools]


class UserForm(AccountForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(), Length(min=3, max=64),
        Regexp(r"^[a-z0-9_.-]+$", message=_l("Use lower-case letters, digits, '.', '_' or '-'.")),
    ], render_kw={"autocapitalize": "none"})
    password = PasswordField(_l("Initial password (they choose their own at first sign-in)"), validators=[
        DataRequired(), Length(max=MAX_PASSWORD)], render_kw={"autocomplete": "new-password"})


class EditUserForm(AccountForm):
    # A volunteer's real name is sealed and never shown here: blank keeps it (accounts.services).
    display_name = StringField(_l("Real name"), validators=[Optional(), Length(max=100)])


class ContactForm(FlaskForm):
    """The owner's own contact, for notices (the rules are accounts.services._contact)."""
    email = StringField(_l("E-mail (for notices; optional)"), validators=[Optional(), Length(max=254)],
                        render_kw={"autocomplete": "email", "inputmode": "email", "autocapitalize": "none"})
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=32)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=MAX_PASSWORD)],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=MAX_PASSWORD)],
                        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD})
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new", message=_l("The two new passwords are not the same."))],
        render_kw={"autocomplete": "new-password"})


class RevealForm(FlaskForm):
    reason = StringField(_l("Why you need the real name (kept in the record)"),
                         validators=[DataRequired(), Length(min=4, max=500)])
