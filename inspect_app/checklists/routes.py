"""Admins look after the templates; every save publishes a new version."""
import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from inspect_app.accounts.access import roles_required
from inspect_app.accounts.models import Role
from inspect_app.checklists import bp
from inspect_app.checklists.forms import TemplateEditForm
from inspect_app.checklists.models import COPIED_FIELDS, ChecklistItem, ChecklistTemplate, Severity
from inspect_app.extensions import db


@bp.get("/")
@roles_required(Role.ADMIN)
def list_templates():
    """All templates with their current version."""
    templates = db.session.scalars(sa.select(ChecklistTemplate).order_by(ChecklistTemplate.id)).all()
    return render_template("checklists/list.html", templates=templates)


def _items_from(form: TemplateEditForm) -> tuple[list[ChecklistItem], list[str]]:
    """The items as typed; each refusal goes under its own field (and into the summary at the top)."""
    items, problems, seen = [], [], set()

    def refuse_field(field, n: int, message: str) -> None:
        field.errors = [*field.errors, message]
        problems.append(_("Item %(n)s: %(problem)s", n=n, problem=message))

    for n, entry in enumerate(form.items.entries, start=1):
        sub = entry.form
        if sub.remove.data or sub.is_blank:
            continue
        code = (sub.code.data or "").strip()
        missing = [(f, _("Required.")) for f in (sub.code, sub.section_zh, sub.text_zh) if not (f.data or "").strip()]
        for f, message in missing:
            refuse_field(f, n, message if f is not sub.code else _("Give the item a code."))
        if missing:
            continue
        if code in seen:
            refuse_field(sub.code, n, _("The code %(code)s is used twice.", code=code))
            continue
        seen.add(code)
        data = {f: getattr(sub, f).data for f in COPIED_FIELDS}
        data = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
        data["severity"] = Severity(data["severity"]) if data["severity"] in set(Severity) else Severity.MINOR
        data["deadline_hours"] = data["deadline_hours"] or 72
        data["photo_required"] = bool(data["photo_required"])
        data["document_evidence"] = bool(data["document_evidence"])
        items.append(ChecklistItem(**data))
    if not items and not problems:
        problems.append(_("A template needs at least one item."))
    return items, problems


def _focus_first_error(form: TemplateEditForm) -> None:
    """A refused save lands on the first field to fix (autofocus scrolls it into view), not at the top
    of a long page the admin had scrolled down."""
    fields = [f for entry in form.items.entries for f in entry.form] + [form.note]
    first = next((f for f in fields if f.errors), None)
    if first is not None:
        first.render_kw = {**(first.render_kw or {}), "autofocus": True}


@bp.route("/<int:template_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def edit_template(template_id: int):
    """Edit a template's items; saving publishes a new version and leaves answered visits alone."""
    template = db.session.get(ChecklistTemplate, template_id) or abort(404)
    current = template.current_version
    form = TemplateEditForm()
    problems: list[str] = []
    if form.validate_on_submit():
        items, problems = _items_from(form)
        if not problems:
            version = template.new_version(items, author=current_user, note=form.note.data.strip())
            db.session.commit()
            flash(_("Version %(n)s of “%(name)s” published. Visits already answered keep their version.",
                    n=version.number, name=template.name), "success")
            return redirect(url_for("checklists.list_templates"))
    elif not form.is_submitted():
        for item in current.items:
            form.items.append_entry({f: getattr(item, f) for f in COPIED_FIELDS}
                                    | {"severity": item.severity.value})
        form.items.append_entry()  # one empty row for a new item
    status = 422 if form.is_submitted() and (form.errors or problems) else 200
    if status == 422:
        _focus_first_error(form)
    return render_template("checklists/edit.html", template=template, form=form, problems=problems), status
