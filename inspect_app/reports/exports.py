"""The daily report as a printable PDF (reportlab, its built-in Chinese CID font) and as XLSX."""
from __future__ import annotations

import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from inspect_app.checklists.models import Severity
from inspect_app.documents import paragraph, xlsx_append

FONT = "STSong-Light"  # ships with reportlab's CID support: no font file to fetch or commit


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
    }


def pdf(content: dict, signature: str | None) -> bytes:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    L = _labels()
    base = ParagraphStyle("base", fontName=FONT, fontSize=10.5, leading=15)
    h1 = ParagraphStyle("h1", parent=base, fontSize=18, leading=24, spaceAfter=6)
    h2 = ParagraphStyle("h2", parent=base, fontSize=13, leading=18, spaceBefore=10, spaceAfter=4)
    o = content["overview"]
    story = [paragraph(f"{L['title']} · {content['day']}", h1),
             paragraph(_("Window: %(start)s – %(end)s", start=content['window']['start'][:16].replace("T", " "),
                         end=content['window']['end'][:16].replace("T", " ")), base),
             paragraph(signature or L["unsigned"], base), Spacer(1, 4 * mm)]
    if content.get("audit_anchor"):  # frozen at signing; escaped all the same, like every text here
        story.insert(3, paragraph(_("Audit chain at signing: %(anchor)s", anchor=content["audit_anchor"]), base))

    def table(rows, widths):
        t = Table(rows, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 10), ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e7f0fa")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return t

    story.append(table([[L["visits"], L["overt"], L["covert"], L["self_checks"], L["late"], L["findings"],
                         L["missing"]],
                        [o["visits"], o["overt"], o["covert"], o["self_checks"], o["late_visits"], o["findings"],
                         o["missing_self_checks"]]], [22 * mm] * 7))
    story.append(paragraph(L["problems"], h2))
    rows = [[L["school"], L["problem"], L["severity"]]]
    for school in content["problems_by_school"]:
        for p in school["problems"]:
            late = f" ({L['late']})" if p["late"] else ""
            rows.append([paragraph(school["school"], base), paragraph(p["description"] + late, base),
                         _severity(p["severity"])])
    story.append(table(rows, [45 * mm, 105 * mm, 20 * mm]))
    r = content["rectification"]
    story.append(paragraph(L["rect"], h2))
    story.append(table([[L["opened"], L["closed"], L["open_total"], L["overdue"]],
                        [r["opened"], r["closed"], r["open_total"], r["overdue"]]], [42 * mm] * 4))
    if content["overdue"]:
        story.append(paragraph(L["overdue"], h2))
        story.append(table([[L["school"], L["problem"], L["deadline"]]] + [
            [paragraph(t["school"], base), paragraph(t["description"], base), t["deadline"][:10]]
            for t in content["overdue"]], [45 * mm, 100 * mm, 25 * mm]))
    if content.get("self_reports"):  # reports signed before the section existed have none
        sr = content["self_reports"]
        story.append(paragraph(L["self_reports"], h2))
        story.append(table([[L["reported"], L["reported_late"], L["not_reported"], L["fever"], L["isolated"]],
                            [sr["reported"], sr["late"], sr["missing"], sr["fever"], sr["isolated"]]], [34 * mm] * 5))
        story += [paragraph(_("%(school)s: fever %(n)s (7-day average %(avg)s)", school=j["school"], n=j["fever"],
                              avg=j["average"] if j["average"] is not None else 0), base) for j in sr["jumps"]]
    if content["good_practice"]:
        story.append(paragraph(L["good"], h2))
        story += [paragraph(f"{g['school']}：{g['note']}", base) for g in content["good_practice"]]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                      bottomMargin=16 * mm, title=f"{L['title']} {content['day']}").build(story)
    return out.getvalue()


def xlsx(content: dict, signature: str | None) -> bytes:
    L = _labels()
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
        xlsx_append(overdue, [t["school"], t["description"], t["deadline"][:10]])
    for ws in book.worksheets:
        for cell in ws[1 if ws is not sheet else 4]:
            cell.font = bold
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
