"""What each viewer sees of a daily report, once for the pages and the API. A school sees its own
versions with the times it filed them (its own steps); the bureau also sees who filed."""
from __future__ import annotations

from inspect_app.accounts.models import BUREAU_ROLES, User
from inspect_app.duties.models import SelfReport


def report_view(report: SelfReport, viewer: User) -> dict:
    view = {"day": report.day, "version": report.version, "zero": report.zero, "counts": report.counts(),
            "note": report.note, "filed_at": report.filed_at, "deadline": report.deadline, "late": report.late}
    if viewer.role in BUREAU_ROLES:
        view["filed_by"] = report.filed_by.name_for(viewer)
    return view
