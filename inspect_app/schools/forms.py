from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file exported from Excel"),
                     validators=[FileRequired(message=_l("Choose a CSV file first."))],
                     render_kw={"accept": ".csv,text/csv"})


class AssignmentForm(FlaskForm):
    user_ids = SelectMultipleField(_l("Responsible inspectors and assigned volunteers"), coerce=int,
                                   validators=[Optional()])

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Volunteers are listed by pseudonym: assigning needs no real name.
        self.user_ids.choices = [SelectChoice(u.id, f"{u.role.label} · {u.pseudonym or u.display_name}")
                                 for u in candidates]


class RecusalForm(FlaskForm):
    """Recuse an inspector from this school (回避), with the reason the record keeps."""
    user_id = SelectField(_l("Inspector"), coerce=int, validate_choice=False)
    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Say why they are recused.")), Length(max=500)])
