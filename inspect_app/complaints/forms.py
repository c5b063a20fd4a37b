"""The public's complaint form, the staff's hotline/letter form, and triage. The rules are in
services (one set for the pages and the API); these forms carry the fields and their labels."""
from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from inspect_app.checklists.models import Severity
from inspect_app.complaints.models import ComplaintSource


class ComplaintForm(FlaskForm):
    school_id = HiddenField()
    qr = HiddenField()
    # Chosen when the page is drawn: a retried submission of this page carries the same key (stored once).
    idempotency_key = HiddenField(default=lambda: str(uuid.uuid4()))
    text = TextAreaField(_l("Please describe the problem you saw"))
    photos = MultipleFileField(_l("Add photos (optional)"))
    contact = StringField(_l("Contact (optional, only used to reply to you)"))
    # The honeypot: hidden from people (and from screen readers), filled in by form-filling robots.
    website = StringField(_l("Leave this empty"))


class LogForm(ComplaintForm):
    """A complaint taken by hotline or letter, written down by staff on the complainant's behalf."""

    source = RadioField(_l("Received by"), default=ComplaintSource.PHONE.value)
    school = SelectField(_l("School"), coerce=str, validate_choice=False)

    def __init__(self, *args, schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.source.choices = [SelectChoice(s.value, s.label) for s in (ComplaintSource.PHONE, ComplaintSource.LETTER)]
        self.school.choices = [SelectChoice("", "—")] + [SelectChoice(str(s.id), f"{s.district} · {s.name}")
                                                          for s in schools]


class TriageForm(FlaskForm):
    action = HiddenField()
    reply = TextAreaField(_l("Public reply (the complainant reads it; a reason is required when not accepting)"))
    problem = TextAreaField(_l("The problem as the school will read it (leave out anything that could point "
                               "to the complainant)"))
    severity = SelectField(_l("Severity"), default=Severity.MAJOR.value)
    assignee_id = SelectField(_l("Who checks"), coerce=str, validate_choice=False)
    window_start = DateField(_l("From"))
    window_end = DateField(_l("To"))
    item_code = SelectField(_l("Checklist item it concerns (an inspector who passed it lately is reviewed)"),
                            coerce=str, validate_choice=False)

    def __init__(self, *args, assignees=(), viewer=None, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.severity.choices = [SelectChoice(s.value, s.label) for s in Severity]
        self.item_code.choices = [SelectChoice("", "—")] + [
            SelectChoice(i.code, f"{i.position}. {i.text_zh}") for i in items]
        self.assignee_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(u.id), f"{u.name_for(viewer)} · {u.role.label}") for u in assignees]
