"""Installing the shipped templates, choosing templates for a visit, publishing edits."""
from __future__ import annotations

import functools

import sqlalchemy as sa
import sqlalchemy.orm as so

from inspect_app.accounts.models import User
from inspect_app.checklists.builtin import BUILTIN, DOCUMENT_TEMPLATES
from inspect_app.checklists.models import (MODES_BY_ROLE, ROLE_TEMPLATES, TEMPLATE_MODE, ChecklistItem,
                                           ChecklistTemplate, TemplateVersion, VisitMode)
from inspect_app.extensions import db


def install_builtin_templates() -> int:
    """Add shipped templates that are missing (the caller commits); returns how many were added."""
    existing = set(db.session.scalars(sa.select(ChecklistTemplate.code)))
    added = 0
    for code, name_zh, name_en, modes, rows in BUILTIN:
        if code in existing:
            continue
        template = ChecklistTemplate(code=code, name_zh=name_zh, name_en=name_en)
        template.modes = modes
        items = [ChecklistItem(code=c, section_zh=sz, section_en=se, text_zh=tz, text_en=te,
                               guidance_zh=g, severity=sev, photo_required=photo, deadline_hours=hours,
                               document_evidence=code in DOCUMENT_TEMPLATES)
                 for c, sz, se, tz, te, g, sev, photo, hours in rows]
        template.new_version(items, author=None, note="shipped")
        db.session.add(template)
        added += 1
    return added


def templates_for(user: User, mode: VisitMode) -> list[ChecklistTemplate]:
    """Active templates this user may answer in this mode (may_use), in their order."""
    if mode not in MODES_BY_ROLE.get(user.role, ()):
        return []
    # Each template's versions in one query (current_version reads them), not one per template.
    templates = db.session.scalars(sa.select(ChecklistTemplate).where(ChecklistTemplate.active)
                                   .options(so.selectinload(ChecklistTemplate.versions))
                                   .order_by(ChecklistTemplate.id)).all()
    return [t for t in templates if may_use(user, mode, t)]


# Templates some role owns (ROLE_TEMPLATES): never offered to anyone else.
_BOUND = frozenset().union(*ROLE_TEMPLATES.values())


def may_use(user: User, mode: VisitMode, template: ChecklistTemplate, version: TemplateVersion | None = None) -> bool:
    """Whether this user may answer this template in this mode: it is active, serves the mode and has
    a version; a role's own templates are, in their mode, the only ones that role gets. Asked of one
    template (a visit's start) it reads that template alone, not every template; a visit's start names
    the version it answers, which is proof enough that the template has one (its versions are not read)."""
    if mode not in MODES_BY_ROLE.get(user.role, ()) or not template.active:
        return False
    if TEMPLATE_MODE.get(mode, mode) not in template.modes:
        return False
    if version is None and template.current_version is None:
        return False
    own = ROLE_TEMPLATES.get((user.role, mode))
    return template.code in own if own is not None else template.code not in _BOUND


def get_version(version_id: int) -> TemplateVersion | None:
    return db.session.get(TemplateVersion, version_id)


def items_of(version: TemplateVersion) -> list[ChecklistItem]:
    """`version.items`, read by a statement built once when the collection is not loaded yet: a whole
    visit's PUT reads every item, and the relationship's lazy load built and keyed its select at each
    call (a quarter of the items' cost, issue 18). Loaded into the collection, as the lazy load would."""
    if "items" not in sa.inspect(version).unloaded:
        return version.items
    items = list(db.session.scalars(_items_query(), {"version_id": version.id}))
    so.attributes.set_committed_value(version, "items", items)
    return items


@functools.cache
def _items_query() -> sa.Select:
    # In the relationship's own order, so the PUT and the pages list the items alike.
    return (sa.select(ChecklistItem).where(ChecklistItem.version_id == sa.bindparam("version_id"))
            .order_by(*TemplateVersion.items.property.order_by))
