from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file exported from Excel"),
                     validators=[FileRequired(message=_l("Choose a CSV file first."))],
                     render_kw={"accept": ".csv,text/csv"})
