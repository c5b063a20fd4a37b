from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from inspect_app.checklists.models import Severity
from inspect_app.config import DESCRIPTION_MAX_CHARS, NOTE_MAX_CHARS
from inspect_app.parsing import MAX_ID


class PositionMixin:
    # Filled by the page's script from navigator.geolocation; empty when the phone gave none.
    lat = HiddenField()
    lon = HiddenField()
    accuracy_m = HiddenField()
    client_time = HiddenField()


class StartForm(PositionMixin, FlaskForm):
    school_id = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])
    mode = HiddenField(validators=[DataRequired()])
    template_id = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])
    qr_token = HiddenField()


class AnswerForm(FlaskForm):
    result = HiddenField(validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX_CHARS)])


class FindingForm(FlaskForm):
    description = TextAreaField(_l("What is wrong"), validators=[DataRequired(), Length(max=DESCRIPTION_MAX_CHARS)])
    severity = SelectField(_l("Severity"))
    fixed_on_site = BooleanField(_l("Fixed on the spot"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.severity.choices = [SelectChoice(s.value, s.label) for s in Severity]


class PhotoForm(PositionMixin, FlaskForm):
    file = FileField(_l("Take photo"), validators=[FileRequired(message=_l("Choose or take a photo first."))])
    captured_at = HiddenField()


class SubmitForm(FlaskForm):
    client_time = HiddenField()
