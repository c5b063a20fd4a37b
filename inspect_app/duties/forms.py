"""The daily report form: the numbers with their bounds, a note, and the filing's own id."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from inspect_app.config import NOTE_MAX_CHARS
from inspect_app.duties.models import COUNT_LABELS, COUNT_MAX


def _count(name: str) -> IntegerField:
    return IntegerField(COUNT_LABELS[name], default=0, validators=[
        InputRequired(_l("Enter a number (0 if none).")),
        NumberRange(min=0, max=COUNT_MAX, message=_l("Enter a whole number from 0 to %(max)s.", max=COUNT_MAX))])


class ReportForm(FlaskForm):
    # A new id for every form shown: the same form sent twice (a double tap, a resend) stores once.
    client_id = HiddenField()
    day = HiddenField()
    absent = _count("absent")
    absent_illness = _count("absent_illness")
    fever = _count("fever")
    isolated = _count("isolated")
    staff_absent = _count("staff_absent")
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX_CHARS)])


class ZeroForm(FlaskForm):
    """零报告: one tap, nothing else to fill in."""

    client_id = HiddenField()
    day = HiddenField()
