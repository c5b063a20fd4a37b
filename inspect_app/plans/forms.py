"""The planner's form: the period, how many visits, which modes, who, and the weighting."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from inspect_app.plans.models import Weighting
from inspect_app.plans.planning import PLAN_MODES


class Ticks(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PlanForm(FlaskForm):
    date_from = DateField(_l("First day"), validators=[InputRequired(_l("Choose the first day."))])
    date_to = DateField(_l("Last day"), validators=[InputRequired(_l("Choose the last day."))])
    count = IntegerField(_l("How many visits"), validators=[InputRequired(_l("Say how many visits.")),
                                                            NumberRange(min=1, max=10_000)])
    modes = Ticks(_l("Kinds of check"), default=["overt", "covert"])
    weighting = RadioField(_l("Which schools first"), default=Weighting.RISK.value)
    # Ticking nobody means "auto": each school's responsible inspectors and assigned volunteers.
    assignees = SelectMultipleField(_l("Who is sent (none ticked: each school's own inspectors and volunteers)"),
                                    coerce=int, validators=[Optional()], validate_choice=False)

    def __init__(self, *args, people=(), viewer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.modes.choices = [SelectChoice(m.value, m.label) for m in PLAN_MODES]
        self.weighting.choices = [SelectChoice(w.value, w.label) for w in Weighting]
        self.assignees.choices = [SelectChoice(u.id, f"{u.role.label} · {u.name_for(viewer)}") for u in people]


class RedrawForm(FlaskForm):
    """Missed tasks sent again, each on a day from today to this one."""
    date_to = DateField(_l("New visits due by"), validators=[InputRequired(_l("Choose the last day."))])


class FollowUpPlanForm(FlaskForm):
    """A follow-up visit (回头看) at every school with a reported rectification."""
    date_from = DateField(_l("First day"), validators=[InputRequired(_l("Choose the first day."))])
    date_to = DateField(_l("Last day"), validators=[InputRequired(_l("Choose the last day."))])
