"""The daily report as a PDF (its HTML template through WeasyPrint) and as XLSX."""
from __future__ import annotations

import io

from flask import current_app, render_template
from flask_babel import gettext as _

from inspect_app.checklists.models import Severity
from inspect_app.documents import html_pdf, xlsx_append
from inspect_app.reports.present import document_day, first_photos


def _severity(value: str) -> str:
    return Severity(value).label if value in set(Severity) else value


def _labels() -> dict[str, str]:
    return {
        "title": _("Daily inspection report"), "visits": _("Visits"),
        "overt": _("Overt inspection"), "covert": _("Covert check"), "self_checks": _("Daily self-check"),
        "late": _("Arrived late"), "findings": _("Problems found"), "missing": _("Schools without a self-check"),
        "problems": _("Problems by school"), "rect": _("Rectification"), "opened": _("Tickets opened"),
        "closed": _("Closed out"), "open_total": _("Open tickets"), "overdue": _("Overdue"),
        "good": _("Good practice"), "signed": _("Signed by %(name)s at %(at)s"), "unsigned": _("Not signed yet"),
        "school": _("School"), "problem": _("Problem"), "severity": _("Severity"), "deadline": _("Deadline"),
        "self_reports": _("Schools' daily reports"), "reported": _("Reported"), "reported_late": _("Reported late"),
        "not_reported": _("Not reported"), "fever": _("With fever"), "isolated": _("Isolated"),
        "plans": _("Visit plans"),
    }


def pdf(content: dict, signed) -> bytes:
    """The report's own sections (templates/reports/_report.html) under a letterhead, rendered by
    WeasyPrint with the Chinese font embedded; the thumbnails are the only files it may read."""
    photos = first_photos(content)
    html = render_template("reports/daily_pdf.html", report=content, signed=signed,
                           bureau=current_app.config["BUREAU_NAME"],
                           photo_src=lambda photo_id: f"resource:{photo_id}" if photo_id in photos else None)
    return html_pdf(html, photos)


def xlsx(content: dict, signature: str | None) -> bytes:
    L = _labels()
    from openpyxl import Workbook  # imported when asked for (inspect_app/documents.py says why)
    from openpyxl.styles import Font
    book = Workbook()
    sheet = book.active
    sheet.title = content["day"]
    bold = Font(bold=True)
    xlsx_append(sheet, [f"{L['title']} {content['day']}"])
    sheet["A1"].font = Font(bold=True, size=14)
    xlsx_append(sheet, [signature or L["unsigned"]])
    o = content["overview"]
    xlsx_append(sheet, [])
    xlsx_append(sheet, [L["visits"], L["overt"], L["covert"], L["self_checks"], L["late"], L["findings"],
                        L["missing"]])
    xlsx_append(sheet, [o["visits"], o["overt"], o["covert"], o["self_checks"], o["late_visits"], o["findings"],
                        o["missing_self_checks"]])
    problems = book.create_sheet(L["problems"][:31])
    xlsx_append(problems, [L["school"], L["problem"], L["severity"], L["late"]])
    for school in content["problems_by_school"]:
        for p in school["problems"]:
            xlsx_append(problems, [school["school"], p["description"], _severity(p["severity"]),
                                   _("yes") if p["late"] else ""])
    overdue = book.create_sheet(L["overdue"][:31])
    xlsx_append(overdue, [L["school"], L["problem"], L["deadline"]])
    for t in content["overdue"]:
        # A date cell (the bureau's day of the deadline), so a spreadsheet sorts and filters it as one.
        xlsx_append(overdue, [t["school"], t["description"], document_day(t["deadline"])])
        overdue.cell(row=overdue.max_row, column=3).number_format = "yyyy-mm-dd"
    if content.get("plans") is not None:  # the planners' copy only (services.for_viewer): counts, no school
        from inspect_app.plans.models import TaskProgress
        plans = book.create_sheet(L["plans"][:31])
        xlsx_append(plans, [TaskProgress(key).label for key in content["plans"]])
        xlsx_append(plans, list(content["plans"].values()))
    for ws in book.worksheets:
        for cell in ws[1 if ws is not sheet else 4]:
            cell.font = bold
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
