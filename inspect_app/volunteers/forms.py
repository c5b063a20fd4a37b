from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from inspect_app.accounts.services import MAX_PASSWORD, MIN_PASSWORD
from inspect_app.checklists.models import VisitMode
from inspect_app.volunteers.services import MAX_INVITATION_DAYS, MAX_INVITATIONS_AT_ONCE


class InvitationForm(FlaskForm):
    count = IntegerField(_l("How many invitations (one per parent)"), default=1,
                         validators=[InputRequired(), NumberRange(1, MAX_INVITATIONS_AT_ONCE)],
                         render_kw={"inputmode": "numeric"})
    expires_in_days = IntegerField(_l("Valid for (days)"), default=14,
                                   validators=[InputRequired(), NumberRange(1, MAX_INVITATION_DAYS)],
                                   render_kw={"inputmode": "numeric"})


class JoinForm(FlaskForm):
    """What a parent fills in on their phone from an invitation (the rules are in volunteers.services)."""
    username = StringField(_l("Username (for signing in)"), validators=[
        DataRequired(), Length(min=3, max=64),
        Regexp(r"^[a-z0-9_.-]+$", message=_l("Use lower-case letters, digits, '.', '_' or '-'."))],
        render_kw={"autocapitalize": "none", "autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD)],
                             render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD})
    real_name = StringField(_l("Your real name (only the programme coordinator can see it)"),
                            validators=[DataRequired(), Length(max=100)], render_kw={"autocomplete": "name"})
    phone = StringField(_l("Your phone"), validators=[DataRequired(), Length(max=32)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    child_school_ids = SelectMultipleField(_l("Schools your children attend (you will never be sent there)"),
                                           coerce=int, validators=[Optional()])
    agreement = BooleanField(_l("I have read the agreement above and accept it"),
                             validators=[DataRequired(message=_l("Read and accept the agreement first."))])

    def __init__(self, *args, schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.child_school_ids.choices = [SelectChoice(s.id, f"{s.district} · {s.name}") for s in schools]


class TaskForm(FlaskForm):
    """A dated task for one volunteer: a school they may check, how, and the days it may happen."""
    school_id = SelectField(_l("School"), coerce=int, validators=[InputRequired()])
    # Covert first (the default); the service checks the choice against the role (MODES_BY_ROLE).
    mode = SelectField(_l("How"), choices=[
        SelectChoice(VisitMode.COVERT.value, _l("Covert (暗访): from outside, without saying who they are")),
        SelectChoice(VisitMode.OVERT.value, _l("Overt (明查): inside, as a parent supervisor"))],
        default=VisitMode.COVERT.value, validators=[Optional()])
    first_day = DateField(_l("From"), validators=[InputRequired()])
    last_day = DateField(_l("To"), validators=[InputRequired()])

    def __init__(self, *args, schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.school_id.choices = [SelectChoice(s.id, f"{s.district} · {s.name}") for s in schools]


class ChildSchoolsForm(FlaskForm):
    """The schools a volunteer's children attend now (a child changed school): never theirs to check."""
    child_school_ids = SelectMultipleField(_l("Schools your children attend (you will never be sent there)"),
                                           coerce=int, validators=[Optional()])

    def __init__(self, *args, schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.child_school_ids.choices = [SelectChoice(s.id, f"{s.district} · {s.name}") for s in schools]
