from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from inspect_app.config import DESCRIPTION_MAX_CHARS


class RespondForm(FlaskForm):
    text = TextAreaField(_l("What was done"), validators=[DataRequired(), Length(max=DESCRIPTION_MAX_CHARS)])
    photos = MultipleFileField(_l("After-photos"))


class VerifyForm(FlaskForm):
    outcome = HiddenField(validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=DESCRIPTION_MAX_CHARS)])
    photos = MultipleFileField(_l("Photos from the re-check"))
    new_deadline = DateField(_l("New deadline (when sending back)"), validators=[Optional()])
