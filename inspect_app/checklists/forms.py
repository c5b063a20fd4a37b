from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, FieldList, Form, FormField, IntegerField, SelectField, StringField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from inspect_app.checklists.models import Severity


class ItemForm(Form):
    # A sub-form: the outer form carries the CSRF token.
    code = StringField(_l("Code"), validators=[Optional(), Length(max=32),
                                               Regexp(r"^[A-Za-z0-9_.-]*$", message=_l("Letters, digits, '.', '_' or '-'."))])
    section_zh = StringField(_l("Section (Chinese)"), validators=[Optional(), Length(max=100)])
    section_en = StringField(_l("Section (English)"), validators=[Optional(), Length(max=100)])
    text_zh = TextAreaField(_l("Requirement (Chinese)"), validators=[Optional(), Length(max=500)])
    text_en = TextAreaField(_l("Requirement (English)"), validators=[Optional(), Length(max=500)])
    guidance_zh = TextAreaField(_l("Guidance (Chinese)"), validators=[Optional(), Length(max=2000)])
    guidance_en = TextAreaField(_l("Guidance (English)"), validators=[Optional(), Length(max=2000)])
    severity = SelectField(_l("Default severity"))
    photo_required = BooleanField(_l("Photo required when failed"))
    document_evidence = BooleanField(_l("Rectification is shown by a document (may be closed out from the desk)"))
    deadline_hours = IntegerField(_l("Deadline (hours)"), default=72,
                                  validators=[Optional(), NumberRange(min=1, max=24 * 90)])
    remove = BooleanField(_l("Remove this item"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.severity.choices = [SelectChoice(s.value, s.label) for s in Severity]

    @property
    def is_blank(self) -> bool:
        return not ((self.code.data or "").strip() or (self.text_zh.data or "").strip())


class TemplateEditForm(FlaskForm):
    note = StringField(_l("What changed"), validators=[DataRequired(), Length(max=255)])
    items = FieldList(FormField(ItemForm), min_entries=0, max_entries=300)
