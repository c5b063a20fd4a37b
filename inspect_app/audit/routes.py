"""The audit viewer: admins and leaders read the record and see whether the chain holds."""
import sqlalchemy as sa
from flask import render_template, request
from flask_login import current_user

from inspect_app.accounts.access import roles_required
from inspect_app.accounts.models import MANAGER_ROLES
from inspect_app.audit import bp
from inspect_app.audit.models import AuditEntry
from inspect_app.audit.present import describe, object_label, readable
from inspect_app.audit.services import verify
from inspect_app.extensions import db
from inspect_app.parsing import page_arg


@bp.get("/")
@roles_required(*MANAGER_ROLES)
def list_entries():
    """The newest entries, filterable by object type, with the chain's verdict; volunteers stay pseudonymous."""
    object_type = (request.args.get("type") or "").strip()[:40]
    page = request.args.get("page", 1, type=page_arg)
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc())
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    entries = db.paginate(query, page=page, per_page=100, error_out=False)
    types = db.session.scalars(sa.select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)).all()
    return render_template("audit/list.html", rows=describe(readable(entries.items, current_user), current_user),
                           types=types, entries=entries,
                           object_type=object_type, object_label=object_label,
                           verdict=verify() if request.args.get("verify") else None)
