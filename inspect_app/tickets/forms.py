from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateTimeLocalField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from inspect_app.config import DESCRIPTION_MAX_CHARS
from inspect_app.i18n import local_zone
from inspect_app.tickets.services import end_of_day


class LocalDeadlineField(DateTimeLocalField):
    """A date and time where the bureau is (the phone's date-time picker), kept as UTC. A bare date,
    as older pages and scripts send it, means the end of that day."""

    invalid_value_message = _l("Choose a date and a time.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
                         **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is None:
            return
        if len(valuelist[0].strip()) == len("2026-11-27"):
            self.data = end_of_day(self.data.date())
        else:
            tz = local_zone()
            self.data = self.data.replace(tzinfo=tz).astimezone(timezone.utc)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        if isinstance(self.data, datetime):
            tz = local_zone()
            return self.data.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
        return ""


class RespondForm(FlaskForm):
    # The message says what to write, not the generic "this field is required".
    text = TextAreaField(_l("What was done"), validators=[
        DataRequired(_l("Describe what was done to rectify the problem.")), Length(max=DESCRIPTION_MAX_CHARS)])
    photos = MultipleFileField(_l("After-photos"))


class VerifyForm(FlaskForm):
    outcome = HiddenField(validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=DESCRIPTION_MAX_CHARS)])
    photos = MultipleFileField(_l("Photos from the re-check"))
    new_deadline = LocalDeadlineField(_l("New deadline (when sending back)"), validators=[Optional()])
    # Shown only to a leader verifying their own finding (tickets.access.needs_override_reason).
    override_reason = TextAreaField(_l("Why you verify your own finding"), validators=[Optional(), Length(max=500)])
